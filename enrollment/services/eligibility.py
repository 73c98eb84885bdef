"""Who may enroll where: every rule of enrollment, checked in a fixed number of queries.

The checks return `Refusal`s instead of raising, so that one call can report every reason that
blocks a student (the course page's "why can't I enroll?") and the same code decides at enroll
time (which raises the first refusals found).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import Course, Enrollment, Source, Status, Student, prerequisite_links
from .counts import SeatCount, seat_count
from .errors import Override, Refusal


@dataclass
class TermLoad:
    """The student's enrolled and waitlisted courses in one term (one query)."""

    enrolled: list[Course]
    waitlisted: list[Course]

    @property
    def credits(self) -> int:
        return sum(c.credits for c in self.enrolled) + sum(c.credits for c in self.waitlisted)


def term_load(student_id: int, term_id: int, *, excluding: int | None = None) -> TermLoad:
    return term_loads([student_id], term_id, excluding=excluding)[student_id]


# Statements built once (bound parameters): they run on every enrollment change.
_TERM_LOADS = (
    select(Enrollment.student_id, Enrollment.status, Course)
    .join(Course, Course.id == Enrollment.course_id)
    .where(Enrollment.student_id.in_(bindparam("ids", expanding=True)),
           Course.term_id == bindparam("term_id"), Enrollment.status != Status.COMPLETED)
)


def term_loads(student_ids: list[int], term_id: int, *, excluding: int | None = None
               ) -> dict[int, TermLoad]:
    """Term loads of many students in one query, leaving out the course `excluding`."""
    loads = {sid: TermLoad([], []) for sid in student_ids}
    if not student_ids:
        return loads
    rows = db.session.execute(_TERM_LOADS, {"ids": student_ids, "term_id": term_id}).all()
    for student_id, status, course in rows:
        if course.id == excluding:
            continue
        load = loads[student_id]
        (load.enrolled if status == Status.ENROLLED else load.waitlisted).append(course)
    return loads


def _missing_prerequisites_statement():
    prereq, done = aliased(Course, name="prereq"), aliased(Course, name="done")
    completed = exists().where(
        Enrollment.student_id == bindparam("student_id"),
        Enrollment.status == Status.COMPLETED,
        Enrollment.course_id == done.id,
        done.code == prereq.code,
    )
    return (
        select(prereq.code)
        .join(prerequisite_links, prerequisite_links.c.prerequisite_id == prereq.id)
        .where(prerequisite_links.c.course_id == bindparam("course_id"), ~completed)
        .order_by(prereq.code)
    )


_MISSING_PREREQUISITES = _missing_prerequisites_statement()


def missing_prerequisites(student_id: int, course_id: int) -> list[str]:
    """Codes of the course's prerequisites the student has not completed (in any term)."""
    return list(db.session.scalars(_MISSING_PREREQUISITES,
                                   {"student_id": student_id, "course_id": course_id}))


def existing_link(student_id: int, course_id: int) -> Enrollment | None:
    return db.session.get(Enrollment, (student_id, course_id), populate_existing=True)


def when(moment: datetime, now: datetime) -> str:
    """A time for a message, in the zone of `now` (the caller's wall clock; UTC by default)."""
    local = moment.astimezone(now.tzinfo)
    return f"{local:%d %b %Y %H:%M} {local.tzname()}"


def window_refusal(course: Course, now: datetime) -> Refusal | None:
    term = course.term
    state = term.window_state(now)
    if state == "not_open":
        return Refusal("window_not_open",
                       f"Enrollment for {term.name} opens on {when(term.enrollment_opens, now)}.")
    if state == "closed":
        return Refusal("window_closed",
                       f"Enrollment for {term.name} closed on {when(term.enrollment_closes, now)}.")
    return None


def link_refusal(link: Enrollment | None, course: Course) -> Refusal | None:
    if link is None:
        return None
    if link.status == Status.ENROLLED:
        return Refusal("already_enrolled", f"You are already enrolled in {course.code}.")
    if link.status == Status.WAITLISTED:
        return Refusal("already_waitlisted", f"You are already on the waitlist for {course.code}.")
    return Refusal("already_completed", f"You have already completed {course.code}.")


def conflict_refusal(course: Course, load: TermLoad) -> Refusal | None:
    clashes = [other for other in load.enrolled if other.id != course.id and course.overlaps(other)]
    if not clashes:
        return None
    names = ", ".join(f"{c.code} ({c.schedule_label})" for c in clashes)
    return Refusal("time_conflict", f"{course.code} meets at the same time as {names}.")


def prerequisite_refusal(missing: list[str]) -> Refusal | None:
    if not missing:
        return None
    return Refusal("missing_prerequisite",
                   f"You have not completed the prerequisite{'s' if len(missing) > 1 else ''} "
                   f"{', '.join(missing)}.")


def credit_refusal(student: Student, course: Course, load: TermLoad) -> Refusal | None:
    total = load.credits + course.credits
    if total <= student.max_credits:
        return None
    return Refusal("credit_limit",
                   f"{course.code} would bring your credits this term to {total}, over your "
                   f"maximum of {student.max_credits} (you have {load.credits}).")


def capacity_refusal(course: Course, seats: SeatCount) -> Refusal | None:
    if seats.enrolled < course.capacity or seats.waitlisted < course.waitlist_capacity:
        return None
    return Refusal("course_full",
                   f"{course.code} is full ({seats.enrolled}/{course.capacity} seats) and its "
                   f"waitlist is full too ({seats.waitlisted}/{course.waitlist_capacity}).")


def skipped_rules(source: Source, override: frozenset[Override]) -> frozenset[Override]:
    """Imports skip the window and prerequisites (they record decisions made elsewhere)."""
    if source == Source.IMPORT:
        return override | {Override.WINDOW, Override.PREREQUISITES}
    return override


def evaluate(student: Student, course: Course, *, now: datetime, skip: frozenset[Override],
             link: Enrollment | None, load: TermLoad, missing: list[str],
             seats: SeatCount) -> list[Refusal]:
    """Every rule of enrollment, on facts already loaded: the one place the rules are applied.

    `check_enroll` loads the facts for one student; `batch.enroll_many` for many at once.
    """
    checks = [
        (Override.WINDOW, lambda: window_refusal(course, now)),
        (None, lambda: link_refusal(link, course)),
        (Override.CONFLICT, lambda: conflict_refusal(course, load)),
        (Override.PREREQUISITES, lambda: prerequisite_refusal(missing)),
        (Override.CREDIT_LOAD, lambda: credit_refusal(student, course, load)),
        (Override.CAPACITY, lambda: capacity_refusal(course, seats)),
    ]
    return [r for rule, check in checks if rule not in skip and (r := check())]


def check_enroll(student: Student, course: Course, *, now: datetime,
                 skip: frozenset[Override] = frozenset(),
                 seats: SeatCount | None = None) -> list[Refusal]:
    """Every refusal for enrolling `student` in `course` now, after the skipped rules."""
    return evaluate(
        student, course, now=now, skip=skip,
        link=existing_link(student.id, course.id),
        load=term_load(student.id, course.term_id),
        missing=([] if Override.PREREQUISITES in skip
                 else missing_prerequisites(student.id, course.id)),
        seats=seats if seats is not None else seat_count(course.id),
    )


def enrollment_blockers(student: Student, course: Course, *, now: datetime) -> list[Refusal]:
    """Every reason that keeps the student from enrolling (or joining the waitlist) now.

    An empty list means `enroll` would succeed; read-only, no lock taken.
    """
    return check_enroll(student, course, now=now)


def promotion_refusal(student: Student, course: Course, load: TermLoad) -> Refusal | None:
    """Why a waitlisted student cannot take a freed seat now (a new conflict, a credit load).

    `load` must leave out `course` itself (see `term_loads(excluding=...)`).
    """
    return conflict_refusal(course, load) or credit_refusal(student, course, load)

