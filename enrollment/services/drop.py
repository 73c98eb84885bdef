"""Dropping a course or leaving its waitlist; the freed seat goes to the waitlist."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, delete, select

from ..clock import wall_clock
from ..extensions import db
from ..models import (
    Action,
    Course,
    Enrollment,
    Status,
    Student,
    User,
    WaitlistSwap,
    corequisite_links,
)
from . import audit, grades
from .errors import EnrollmentRefused, Override, Refusal, overrode, require_reason
from .facts import existing_link
from .locking import lock_course
from .waitlist import expire_offer, fill_from_waitlist


def forget_swaps_dropping(student_id: int, course_id: int) -> None:
    """The student no longer holds `course_id`: their waitlist entries whose swap would drop
    it become plain waitlist entries."""
    db.session.execute(delete(WaitlistSwap).where(WaitlistSwap.student_id == student_id,
                                                  WaitlistSwap.drop_course_id == course_id)
                       .execution_options(synchronize_session=False))


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


# The student's courses (enrolled, offered or waitlisted: each was admitted on the co-requisite
# being there) that have the course `course_id` as a co-requisite.
_NEEDED_BY = (
    select(Course)
    .join(Enrollment, Enrollment.course_id == Course.id)
    .join(corequisite_links, corequisite_links.c.course_id == Course.id)
    .where(corequisite_links.c.corequisite_id == bindparam("course_id"),
           Enrollment.student_id == bindparam("student_id"),
           Enrollment.status != Status.COMPLETED)
    .order_by(Course.code)
)
_GRADES_OF_CODE = (
    select(Enrollment.grade)
    .join(Course, Course.id == Enrollment.course_id)
    .where(Enrollment.student_id == bindparam("student_id"), Course.code == bindparam("code"),
           Enrollment.status == Status.COMPLETED)
)


def courses_needing(student: Student, course: Course, *, together: Sequence[int] = ()
                    ) -> list[Course]:
    """The student's courses that need `course` as a co-requisite and would lose it if it
    were dropped (not those dropped with it, `together`; none when the student passed its
    code in some term, which satisfies the co-requisite by itself)."""
    needing = [other for other in db.session.scalars(
        _NEEDED_BY, {"course_id": course.id, "student_id": student.id})
        if other.id not in together]
    if needing and grades.passed(grades.best(list(db.session.scalars(
            _GRADES_OF_CODE, {"student_id": student.id, "code": course.code})))):
        return []
    return needing


def corequisite_in_use(student: Student, course: Course, *, by_staff: bool,
                       together: Sequence[int] = ()) -> Refusal | None:
    """The refusal of dropping a co-requisite that another of the student's courses needs."""
    needing = courses_needing(student, course, together=together)
    if not needing:
        return None
    codes = ", ".join(c.code for c in needing)
    who = f"{student.name} is" if by_staff else "you are"
    return Refusal("corequisite_in_use",
                   f"{course.code} cannot be dropped alone: {codes} (which {who} taking) "
                   f"need{'s' if len(needing) == 1 else ''} it as a co-requisite. Drop "
                   f"{course.code} and {codes} together.", Override.COREQUISITES)


def drop(student: Student, course: Course, *, actor: User | None, now: datetime,
         reason: str = "", by_staff: bool = False,
         override: frozenset[Override] = frozenset(),
         together: Sequence[int] = ()) -> DropResult:
    """Remove the student's link to the course and promote from the waitlist.

    Students may drop enrolled or waitlisted courses until the term's drop deadline
    (inclusive). Staff (`by_staff=True`) may also remove completed records, and after the
    deadline with `Override.DEADLINE` and a reason. A seat offered to the student may be
    given up at any time (a student's drop of it is a decline); an offer past its expiry is
    settled as expired. An enrolled course that another of the student's courses needs as
    a co-requisite is refused (`corequisite_in_use`) unless that course is dropped in the
    same change (its id in `together`, see `drop_together`), or staff override
    co-requisites. Must run inside `write_transaction`.
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
    if previous == Status.ENROLLED and Override.COREQUISITES not in override:
        in_use = corequisite_in_use(student, course, by_staff=by_staff, together=together)
        if in_use is not None:
            raise EnrollmentRefused(in_use)
    expired = previous == Status.OFFERED and link.offer_expires_at <= now
    if expired:
        expire_offer(link, course, now=now)
    else:
        remove_link(link, student, course, actor=actor, now=now, reason=reason,
                    by_staff=by_staff, override=override)
    db.session.flush()
    if previous in (Status.ENROLLED, Status.WAITLISTED):
        forget_swaps_dropping(student.id, course.id)
    result = DropResult(previous, expired=expired)
    if previous != Status.COMPLETED:  # a freed seat, or reserved seats due for release
        promotions = fill_from_waitlist(course, actor=actor, now=now,
                                        reason=f"Seat freed by {student.student_number}.")
        result.promoted, result.skipped = promotions.promoted, promotions.skipped
        result.offered = promotions.offered
    return result


def drop_together(student: Student, courses: Sequence[Course], *, actor: User | None,
                  now: datetime, reason: str = "", by_staff: bool = False,
                  override: frozenset[Override] = frozenset()) -> list[DropResult]:
    """Drop every one of `courses` (locked, as `enroll.together_courses` gives them) in one
    change: all of them or none (the first refusal raises, and the caller's transaction
    rolls back). Co-requisites among them do not stand in each other's way."""
    ids = [c.id for c in courses]
    results = []
    for course in courses:
        others = ", ".join(c.code for c in courses if c.id != course.id)
        text = f"Together with {others}. {reason}".strip()
        results.append(drop(student, course, actor=actor, now=now, reason=text,
                            by_staff=by_staff, override=override, together=ids))
    return results


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
