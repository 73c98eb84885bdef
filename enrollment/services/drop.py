"""Dropping a course or leaving its waitlist; the freed seat goes to the waitlist."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..clock import wall_clock
from ..extensions import db
from ..models import Action, Course, Enrollment, Status, Student, User
from . import audit
from .eligibility import existing_link
from .errors import EnrollmentRefused, Override, Refusal, overrode, require_reason
from .locking import lock_course
from .waitlist import fill_from_waitlist


@dataclass
class DropResult:
    previous_status: Status
    promoted: list[Enrollment] = field(default_factory=list)
    skipped: list[tuple[Student, Refusal]] = field(default_factory=list)


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
    deadline with `Override.DEADLINE` and a reason. Must run inside `write_transaction`.
    """
    override = frozenset(override)
    require_reason(override, reason)
    course = lock_course(course)
    link = existing_link(student.id, course.id)
    if link is None or (link.status == Status.COMPLETED and not by_staff):
        who = f"{student.name} is" if by_staff else "You are"
        raise EnrollmentRefused.single(
            "not_enrolled", f"{who} not enrolled in or waitlisted for {course.code}.")
    late = deadline_refusal(course, now) if link.status != Status.COMPLETED else None
    if late is not None and not (by_staff and Override.DEADLINE in override):
        raise EnrollmentRefused(late)
    # The audit names an override only when it lifted something (a move passes it always).
    lifted = frozenset({Override.DEADLINE}) if late is not None else frozenset()
    previous = link.status
    db.session.delete(link)
    action = Action.REMOVED_BY_STAFF if by_staff else Action.DROPPED
    what = {Status.ENROLLED: "Dropped.", Status.WAITLISTED: "Left the waitlist.",
            Status.COMPLETED: "Removed a completed record."}[previous]
    audit.record(action, student, course, actor=actor, now=now, before=previous, after=None,
                 reason=" ".join(part for part in (what, overrode(lifted), reason.strip())
                                 if part))
    db.session.flush()
    result = DropResult(previous)
    if previous != Status.COMPLETED:  # a freed seat, or reserved seats due for release
        promotions = fill_from_waitlist(course, actor=actor, now=now,
                                        reason=f"Seat freed by {student.student_number}.")
        result.promoted, result.skipped = promotions.promoted, promotions.skipped
    return result
