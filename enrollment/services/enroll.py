"""Enrolling: a seat if there is one, else the waitlist, else a refusal with every reason."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.orm import make_transient_to_detached

from ..extensions import db
from ..models import Action, Course, Enrollment, Source, Status, Student, User
from . import audit
from .counts import SeatCount
from .eligibility import evaluate, lifted_by_permission, skipped_rules
from .errors import EnrollmentRefused, Override, Refusal, overrode, require_reason
from .facts import TermLoad, load_facts
from .locking import lock_course_for, lock_courses, lock_students
from .permissions import use_permission
from .waitlist import release_first

ACTIONS = {
    Source.SELF: {Status.ENROLLED: Action.ENROLLED, Status.WAITLISTED: Action.WAITLISTED},
    Source.STAFF: {Status.ENROLLED: Action.ADDED_BY_STAFF, Status.WAITLISTED: Action.ADDED_BY_STAFF},
    Source.IMPORT: {Status.ENROLLED: Action.IMPORTED, Status.WAITLISTED: Action.IMPORTED},
}


def checked_override(source: Source, override, reason: str) -> frozenset[Override]:
    """The override set of an enroll request: never for students, always with a reason."""
    override = frozenset(override)
    if source == Source.SELF and override:
        raise ValueError("students cannot override rules")
    require_reason(override, reason)
    return override


def enroll(student: Student, course: Course, *, actor: User | None, now: datetime,
           source: Source = Source.SELF, override: frozenset[Override] = frozenset(),
           reason: str = "") -> Enrollment:
    """Enroll the student, or put them on the waitlist when the seats are taken.

    Locks the course first. Raises `EnrollmentRefused` with every reason found when a rule
    blocks it. Staff (`source=Source.STAFF`) may override rules with a reason; an override of
    capacity enrolls beyond the capacity. Imports skip the window and prerequisites.
    A student's own enroll uses up their instructor permission for the course, if they have
    one: its rules are lifted as overrides, and the audit event names it.
    Must run inside `write_transaction`; flushes, the caller commits.
    """
    override = checked_override(source, override, reason)
    course = lock_course_for(course, student.id)
    facts = load_facts(student, course, now=now, source=source)
    # Released reserved seats and the seats of expired offers go to the waitlist first.
    if facts.seats.release_due or facts.seats.offer_due:
        release_first(course, facts.seats, actor=actor, now=now)
        facts = load_facts(student, course, now=now, source=source)
    seats = facts.seats
    skip = skipped_rules(source, override)
    reasons = evaluate(facts, skip=skip)
    if reasons:
        raise EnrollmentRefused(reasons)
    if facts.permission is not None:  # one use, whether or not a rule stood in the way
        use_permission(facts.permission, now=now)
        override = lifted_by_permission(facts, skip=skip)
        reason = facts.permission.audit_reason

    new = NewLinks()
    link = add_link(student, course, seats, actor=actor, now=now, source=source,
                    override=override, reason=reason, new=new)
    new.write()
    return link


def together_courses(course: Course | int, with_ids: Sequence[int]) -> list[Course]:
    """The courses of a request that enrolls (or drops) `course` with the courses `with_ids`:
    locked, in id order, with the student's row after them (`lock_students`); `course`
    first in the result, then the others in id order. Refused when one does not exist or is
    of another term. Call it before any other lock of the transaction."""
    course_id = course if isinstance(course, int) else course.id
    ids = sorted(set(with_ids) - {course_id})
    locked = lock_courses(course_id, *ids)
    if course_id not in locked:
        raise LookupError(f"course {course_id} does not exist")
    course = locked[course_id]
    missing = [str(i) for i in ids if i not in locked]
    if missing:
        raise EnrollmentRefused.single(
            "with_invalid", f"There is no course {', '.join(missing)} to take together with "
                            f"{course.code}.")
    first = course
    others = [locked[i] for i in ids]
    elsewhere = [c for c in others if c.term_id != first.term_id]
    if elsewhere:
        raise EnrollmentRefused.single(
            "with_other_term", f"Courses taken together must be of the same term: "
                               f"{', '.join(c.code for c in elsewhere)} "
                               f"{'is' if len(elsewhere) == 1 else 'are'} not in "
                               f"{first.term.name or first.term.code}.")
    return [first, *others]


def enroll_together(student: Student, courses: Sequence[Course], *, actor: User | None,
                    now: datetime, source: Source = Source.SELF,
                    override: frozenset[Override] = frozenset(), reason: str = ""
                    ) -> list[Enrollment]:
    """Enroll the student in every one of `courses` (one term, as `together_courses` gives
    them, locked) in one change: all of them or none.

    Each course is checked by every rule as if the others were already enrolled (their
    meeting times and credits count, and they satisfy each other's co-requisites). Together
    means enrolled: a course without a seat for the student refuses the whole request
    (`course_full`) instead of waitlisting part of it. Raises `EnrollmentRefused` with every
    reason of every course. Must run inside `write_transaction`; flushes, the caller commits.
    """
    override = checked_override(source, override, reason)
    lock_students([student.id])
    skip = skipped_rules(source, override)
    codes = {c.code for c in courses}
    planned, reasons, decided = [], [], []
    for course in courses:
        facts = load_facts(student, course, now=now, source=source)
        if facts.seats.release_due or facts.seats.offer_due:
            release_first(course, facts.seats, actor=actor, now=now)
            facts = load_facts(student, course, now=now, source=source)
        facts = replace(facts, joining=frozenset(codes - {course.code}),
                        load=TermLoad([*facts.load.enrolled, *planned], facts.load.waitlisted))
        found = evaluate(facts, skip=skip)
        lifted = lifted_by_permission(facts, skip=skip)
        if not found and not (facts.seats.has_seat(course, student.program)
                              or Override.CAPACITY in override | lifted):
            found = [Refusal("course_full", f"{course.code} has no free seat: courses taken "
                                            "together are enrolled together, not waitlisted.",
                             Override.CAPACITY)]
        reasons.extend(found)
        planned.append(course)
        decided.append((course, facts, lifted))
    if reasons:
        raise EnrollmentRefused(reasons)
    new, links = NewLinks(), []
    for course, facts, lifted in decided:
        others = ", ".join(sorted(codes - {course.code}))
        text = f"Together with {others}. {reason}".strip()
        used = override
        if facts.permission is not None:  # as in `enroll`: one use, it names the rules lifted
            use_permission(facts.permission, now=now)
            used, text = lifted, f"{text} {facts.permission.audit_reason}"
        links.append(add_link(student, course, facts.seats, actor=actor, now=now,
                              source=source, override=used, reason=text, new=new))
    new.write()
    return links


LINK_COLUMNS = tuple(column.key for column in Enrollment.__table__.columns)


@dataclass
class NewLinks:
    """Links and their audit rows to insert in two Core statements (any number of them): the
    plumbing of the enroll path stays cheap, the ORM sees the links as loaded rows."""

    links: list[Enrollment] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)

    def write(self) -> None:
        if self.links:
            db.session.execute(insert(Enrollment.__table__),
                               [{name: getattr(link, name) for name in LINK_COLUMNS}
                                for link in self.links])
            for link in self.links:  # now rows: persistent in the session, no query
                make_transient_to_detached(link)
                db.session.add(link)
        audit.record_many(self.events)
        self.links, self.events = [], []


def add_link(student: Student, course: Course, seats: SeatCount, *, actor: User | None,
             now: datetime, source: Source, override: frozenset[Override],
             reason: str, new: NewLinks) -> Enrollment:
    """Plan the link (a seat, else the end of the waitlist) and its audit event in `new`,
    which writes them (`NewLinks.write`)."""
    if seats.has_seat(course, student.program) or Override.CAPACITY in override:
        status, seq = Status.ENROLLED, None
    else:
        status, seq = Status.WAITLISTED, seats.last_waitlist_seq + 1
    link = Enrollment(student_id=student.id, course_id=course.id, status=status,
                      waitlist_seq=seq, grade=None, source=source, created_at=now,
                      status_changed_at=now, updated_at=now)
    link.joined_position = seats.waitlisted + 1 if status == Status.WAITLISTED else None
    new.links.append(link)
    new.events.append(audit.event_values(
        ACTIONS[source][status], student, course, actor=actor, now=now, before=None,
        after=status, reason=describe(status, seats.waitlisted + 1, override, reason)))
    return link


def describe(status: Status, position: int, override: frozenset[Override], reason: str) -> str:
    text = "Enrolled." if status == Status.ENROLLED else f"Waitlisted at position {position}."
    return " ".join(part for part in (text, overrode(override), (reason or "").strip()) if part)

