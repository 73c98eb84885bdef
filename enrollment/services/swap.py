"""The conditional swap: enroll in one course and drop another in one change, or change nothing.

When the course wanted is full the student joins its waitlist with the swap attached
(`WaitlistSwap`); the promotion that seats them drops the other course in the same
transaction (`waitlist.fill_from_waitlist` calls `promote_swap` here), and that course's freed
seat promotes its own waitlist. A promotion whose drop has become impossible (the drop
deadline passed, another course needs it as a co-requisite) is skipped and recorded, and the
student keeps their place.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import delete, select

from ..extensions import db
from ..models import Course, Enrollment, Source, Status, Student, User, WaitlistSwap
from .drop import DropResult, corequisite_in_use, deadline_refusal, drop
from .eligibility import evaluate, lifted_by_permission
from .enroll import NewLinks, add_link
from .errors import EnrollmentRefused, Refusal
from .facts import existing_link, load_facts
from .locking import lock_courses, lock_students
from .permissions import use_permission
from .waitlist import release_first, without

SWAPPABLE = (Status.ENROLLED, Status.WAITLISTED)


@dataclass
class SwapResult:
    link: Enrollment  # the link to the course swapped into (enrolled, or waitlisted)
    dropped: DropResult | None = None  # the drop, when it happened now


def drop_blockers(student: Student, link: Enrollment | None, course: Course, *,
                  now: datetime, by_staff: bool = False) -> list[Refusal]:
    """Why the student could not drop `course` (their link `link`) as part of a swap now."""
    if link is None or link.status not in SWAPPABLE:
        who = f"{student.name} is" if by_staff else "You are"
        return [Refusal("not_enrolled",
                        f"{who} not enrolled in or waitlisted for {course.code}.")]
    found = [deadline_refusal(course, now)]
    if link.status == Status.ENROLLED:
        found.append(corequisite_in_use(student, course, by_staff=by_staff))
    return [r for r in found if r is not None]


def swap(student: Student, course: Course | int, give_up: Course | int, *,
         actor: User | None, now: datetime) -> SwapResult:
    """Enroll the student in `course` and drop `give_up` (a course they are enrolled or
    waitlisted in) as one change, both or neither; when `course` is full, join its waitlist
    with the swap attached (dropped on promotion).

    Every enroll rule is checked as if `give_up` were already gone (its time and credits do
    not count, nor does it satisfy a co-requisite); the drop deadline and the co-requisites
    of the student's other courses apply to `give_up`. Locks both courses in id order, then
    the student. Raises `EnrollmentRefused` with every reason. Must run inside
    `write_transaction`; flushes, the caller commits.
    """
    course_id = course if isinstance(course, int) else course.id
    give_up_id = give_up if isinstance(give_up, int) else give_up.id
    if course_id == give_up_id:
        raise ValueError("a swap needs two different courses")
    locked = lock_courses(course_id, give_up_id)
    if course_id not in locked or give_up_id not in locked:
        raise LookupError(f"course {course_id} or {give_up_id} does not exist")
    course, give_up = locked[course_id], locked[give_up_id]
    lock_students([student.id])
    facts = load_facts(student, course, now=now)
    if facts.seats.release_due or facts.seats.offer_due:
        release_first(course, facts.seats, actor=actor, now=now)
        facts = load_facts(student, course, now=now)
    facts = replace(facts, load=without(facts.load, give_up.id))
    reasons = evaluate(facts)
    reasons += drop_blockers(student, existing_link(student.id, give_up.id), give_up, now=now)
    if reasons:
        raise EnrollmentRefused(reasons)
    override, text = frozenset(), f"Swap for {give_up.code}."
    if facts.permission is not None:
        use_permission(facts.permission, now=now)
        override = lifted_by_permission(facts)
        text = f"{text} {facts.permission.audit_reason}"
    new = NewLinks()
    link = add_link(student, course, facts.seats, actor=actor, now=now, source=Source.SELF,
                    override=override, reason=text, new=new)
    new.write()
    if link.status == Status.WAITLISTED:
        db.session.add(WaitlistSwap(student_id=student.id, course_id=course.id,
                                    drop_course_id=give_up.id))
        db.session.flush()
        return SwapResult(link)
    return SwapResult(link, drop(student, give_up, actor=actor, now=now,
                                 reason=f"Swapped for {course.code}."))


def swaps_waiting(course_id: int) -> dict[int, Course]:
    """{student id: course to drop} of the course's waitlist entries that carry a swap (one
    query): what the roster shows beside them."""
    return dict(db.session.execute(
        select(WaitlistSwap.student_id, Course)
        .join(Course, Course.id == WaitlistSwap.drop_course_id)
        .where(WaitlistSwap.course_id == course_id)).all())


def swap_of(student_id: int, course_id: int) -> Course | None:
    """The course a student's waitlist entry in `course_id` drops on promotion, if any."""
    return db.session.scalar(
        select(Course).join(WaitlistSwap, WaitlistSwap.drop_course_id == Course.id)
        .where(WaitlistSwap.student_id == student_id, WaitlistSwap.course_id == course_id))


def forget_swap(student_id: int, course_id: int) -> None:
    """The waitlist entry in `course_id` was promoted (or left): its swap is done."""
    db.session.execute(delete(WaitlistSwap).where(WaitlistSwap.student_id == student_id,
                                                  WaitlistSwap.course_id == course_id)
                       .execution_options(synchronize_session=False))
