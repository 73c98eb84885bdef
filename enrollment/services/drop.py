"""Dropping a course or leaving its waitlist; the freed seat goes to the waitlist."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..clock import wall_clock
from ..extensions import db
from ..models import Action, Course, Enrollment, Status, Student, User
from . import audit
from .errors import EnrollmentRefused, Override, Refusal, overrode, require_reason
from .facts import existing_link
from .locking import lock_course
from .waitlist import expire_offer, fill_from_waitlist


@dataclass
class DropResult:
    previous_status: Status
    promoted: list[Enrollment] = field(default_factory=list)
    skipped: list[tuple[Student, Refusal]] = field(default_factory=list)
    offered: list[Enrollment] = field(default_factory=list)  # the freed seat, held (offer mode)
    expired: bool = False  # the student's own offer had expired: it was settled as such


def deadline_refusal(course: Course, now: datetime) -> Refusal | None:
    """The refusal of a drop (of an enrolled or waitlisted link) after the term's deadline."""
    if now <= course.term.drop_deadline:
        return None
    return Refusal("drop_deadline_passed", f"The drop deadline for {course.term.name} was "
                                           f"{wall_clock(course.term.drop_deadline)}.",
                   Override.DEADLINE)


def drop(student: Student, course: Course, *, actor: User | None, now: datetime,
         reason: str = "", by_staff: bool = False,
         override: frozenset[Override] = frozenset()) -> DropResult:
    """Remove the student's link to the course and promote from the waitlist.

    Students may drop enrolled or waitlisted courses until the term's drop deadline
    (inclusive). Staff (`by_staff=True`) may also remove completed records, and after the
    deadline with `Override.DEADLINE` and a reason. A seat offered to the student may be
    given up at any time (a student's drop of it is a decline); an offer past its expiry is
    settled as expired. Must run inside `write_transaction`.
    """
    override = frozenset(override)
    require_reason(override, reason)
    course = lock_course(course)
    link = existing_link(student.id, course.id)
    if link is None or (link.status == Status.COMPLETED and not by_staff):
        who = f"{student.name} is" if by_staff else "You are"
        raise EnrollmentRefused.single(
            "not_enrolled", f"{who} not enrolled in or waitlisted for {course.code}.")
    previous = link.status
    expired = previous == Status.OFFERED and link.offer_expires_at <= now
    if expired:
        expire_offer(link, course, now=now)
    else:
        remove_link(link, student, course, actor=actor, now=now, reason=reason,
                    by_staff=by_staff, override=override)
    db.session.flush()
    result = DropResult(previous, expired=expired)
    if previous != Status.COMPLETED:  # a freed seat, or reserved seats due for release
        promotions = fill_from_waitlist(course, actor=actor, now=now,
                                        reason=f"Seat freed by {student.student_number}.")
        result.promoted, result.skipped = promotions.promoted, promotions.skipped
        result.offered = promotions.offered
    return result


def remove_link(link: Enrollment, student: Student, course: Course, *, actor: User | None,
                now: datetime, reason: str, by_staff: bool,
                override: frozenset[Override]) -> None:
    """Delete the link with its audit event, after the deadline check (which does not apply
    to completed records, nor to a seat only offered)."""
    late = (deadline_refusal(course, now)
            if link.status in (Status.ENROLLED, Status.WAITLISTED) else None)
    if late is not None and not (by_staff and Override.DEADLINE in override):
        raise EnrollmentRefused(late)
    # The audit names an override only when it lifted something (a move passes it always).
    lifted = frozenset({Override.DEADLINE}) if late is not None else frozenset()
    previous = link.status
    db.session.delete(link)
    action = Action.REMOVED_BY_STAFF if by_staff else Action.DROPPED
    if previous == Status.OFFERED and not by_staff:
        action = Action.OFFER_DECLINED
    what = {Status.ENROLLED: "Dropped.", Status.WAITLISTED: "Left the waitlist.",
            Status.OFFERED: "Gave up the offered seat.",
            Status.COMPLETED: "Removed a completed record."}[previous]
    audit.record(action, student, course, actor=actor, now=now, before=previous, after=None,
                 reason=" ".join(part for part in (what, overrode(lifted), reason.strip())
                                 if part))
