"""The waitlist: arrival order, and promotion into freed seats (first come, first served)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Action, Course, Enrollment, Status, Student, User
from . import audit
from .counts import seat_count
from .eligibility import promotion_refusals, term_loads
from .errors import Refusal
from .holds import blocking_holds


@dataclass
class Promotions:
    promoted: list[Enrollment] = field(default_factory=list)
    skipped: list[tuple[Student, Refusal]] = field(default_factory=list)


def fill_from_waitlist(course: Course, *, actor: User | None, now: datetime,
                       reason: str = "") -> Promotions:
    """Move waitlisted students into the course's free seats, in arrival order.

    The course must be locked by the caller. A student who now has a conflict or would exceed
    the credit limit stays waitlisted and the skip is recorded as a `refused` event. Runs a
    fixed number of queries however long the waitlist is.
    """
    result = Promotions()
    free = seat_count(course.id).free_seats(course)
    if free <= 0:
        return result
    waiting = db.session.scalars(
        select(Enrollment)
        .options(joinedload(Enrollment.student).joinedload(Student.user))
        .where(Enrollment.course_id == course.id, Enrollment.status == Status.WAITLISTED)
        .order_by(Enrollment.waitlist_seq)
    ).all()
    if not waiting:
        return result
    loads = term_loads([e.student_id for e in waiting], course.term_id, excluding=course.id)
    holds = blocking_holds(loads)
    for link in waiting:
        if free <= 0:
            break
        refusals = promotion_refusals(link.student, course, loads[link.student_id], now=now,
                                      holds=holds[link.student_id])
        if refusals:
            refusal = refusals[0]
            result.skipped.append((link.student, refusal))
            audit.record(Action.REFUSED, link.student, course, actor=actor, now=now,
                         before=Status.WAITLISTED, after=Status.WAITLISTED,
                         reason=f"Skipped for promotion: {refusal.message}")
            continue
        set_status(link, Status.ENROLLED, now)
        loads[link.student_id].enrolled.append(course)
        audit.record(Action.PROMOTED, link.student, course, actor=actor, now=now,
                     before=Status.WAITLISTED, after=Status.ENROLLED,
                     reason=reason or "A seat became free.")
        result.promoted.append(link)
        free -= 1
    db.session.flush()
    return result


def set_status(link: Enrollment, status: Status, now: datetime, *,
               waitlist_seq: int | None = None) -> None:
    """Change a link's status; `status_changed_at` is when the current status began."""
    link.status = status
    link.waitlist_seq = waitlist_seq if status == Status.WAITLISTED else None
    link.status_changed_at = now
    link.updated_at = now
