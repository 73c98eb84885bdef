"""The waitlist: arrival order, and promotion into freed seats (first come, first served)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Action, Course, Enrollment, Reservation, Status, Student, User
from . import audit
from .counts import SeatCount, seat_count
from .eligibility import promotion_refusals, term_loads
from .errors import Refusal
from .holds import blocking_holds

_MARK_RELEASED = (
    update(Reservation)
    .where(Reservation.course_id == bindparam("course"), Reservation.released_at.is_(None),
           Reservation.release_at <= bindparam("moment"))
    .values(released_at=bindparam("moment"))
    .execution_options(synchronize_session=False)
)


def _mark_released(course_id: int, now: datetime) -> None:
    """Record that the course's reservations past their release time are released."""
    db.session.execute(_MARK_RELEASED, {"course": course_id, "moment": now})


@dataclass
class Promotions:
    promoted: list[Enrollment] = field(default_factory=list)
    skipped: list[tuple[Student, Refusal]] = field(default_factory=list)


def fill_from_waitlist(course: Course, *, actor: User | None, now: datetime,
                       reason: str = "") -> Promotions:
    """Move waitlisted students into the course's free seats, in arrival order.

    The course must be locked by the caller. Reserved seats whose release time has passed are
    released here (this is "the next change to the course"). A seat still reserved for a
    program goes to the first waitlisted member of it; the others keep their place. A student
    who now has a conflict or would exceed the credit limit stays waitlisted and the skip is
    recorded as a `refused` event. Runs a fixed number of queries however long the waitlist is.
    """
    result = Promotions()
    seats = seat_count(course.id, now=now)
    if seats.release_due:
        _mark_released(course.id, now)
        reason = reason or "Reserved seats were released."
    if seats.untaken(course) <= 0 or seats.waitlisted == 0:
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
        if seats.untaken(course) <= 0:
            break
        if not seats.has_seat(course, link.student.program):
            continue  # what is left is reserved for another program: they keep their place
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
        seats = seats.after(Status.ENROLLED, link.student.program)
    db.session.flush()
    return result


def release_first(course: Course, seats: SeatCount, *, actor: User | None,
                  now: datetime) -> SeatCount:
    """Before a new link is added: when reserved seats are due for release, they go to the
    waitlist first (it keeps its turn). The count to decide the new link with."""
    if not seats.release_due:
        return seats
    fill_from_waitlist(course, actor=actor, now=now)
    return seat_count(course.id, now=now)


def set_status(link: Enrollment, status: Status, now: datetime, *,
               waitlist_seq: int | None = None) -> None:
    """Change a link's status; `status_changed_at` is when the current status began."""
    link.status = status
    link.waitlist_seq = waitlist_seq if status == Status.WAITLISTED else None
    link.status_changed_at = now
    link.updated_at = now
