"""The facts the rules of enrollment look at, loaded before they are applied.

For one student and one course, `load_facts` reads everything in one statement (`_FACTS`): the
seat count, the student's other courses in the term and the link to this one, prerequisites
and completions, holds, the appointment and an instructor's permission. The batch and
promotion load the same facts for many students (`term_loads`, `blocking_holds`). The rules
themselves are in `eligibility.py`.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    bindparam,
    cast,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import (
    Appointment,
    Course,
    Enrollment,
    Hold,
    Permission,
    Source,
    Status,
    Student,
    User,
    corequisite_links,
    crosslist_sections,
    prerequisite_links,
)
from . import grades
from .counts import SEAT_KINDS, SeatCount, SeatRows, seat_count_parts
from .errors import Override
from .holds import blocks_registration_now


@dataclass
class TermLoad:
    """The student's enrolled and waitlisted courses in one term (one query). A course
    offered to the student counts with the waitlisted ones: its credits count, and it meets
    no conflict until it is accepted (accepting checks conflicts then)."""

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


def _facts_statement():
    """Everything the rules read about one student and one course, in one round trip (built
    once; it runs on every enroll). One row per fact, by `kind`: the seat count's rows
    ('r', 'c', 'p': see `counts.seat_count_parts`) and
    'L' the student's enrolled, offered and waitlisted courses in the term (this one included:
    the link; `at` an offer's expiry);
    'R' a prerequisite code of the course; 'Q' a co-requisite code of the course; 'C' a
    completion (any term) of the course's own code or of a prerequisite or co-requisite code,
    with its grade; 'H' an active hold that blocks registration;
    'A' the student's appointment in the term; 'P' the student's unused, unrevoked instructor
    permission for the course (its id, rules, reason and who granted it); 'X' a section
    cross-listed with the course."""
    student_id, course_id = bindparam("student_id"), bindparam("course_id")
    prereq, done = aliased(Course, name="prereq"), aliased(Course, name="done")
    coreq = aliased(Course, name="coreq")
    required_codes = (
        select(prereq.code)
        .join(prerequisite_links, prerequisite_links.c.prerequisite_id == prereq.id)
        .where(prerequisite_links.c.course_id == course_id)
    )
    corequired_codes = (
        select(coreq.code)
        .join(corequisite_links, corequisite_links.c.corequisite_id == coreq.id)
        .where(corequisite_links.c.course_id == course_id)
    )

    def row(kind, **given):
        names = ("course", "credits", "n2", "n3", "status", "code", "text", "extra", "days",
                 "start", "end", "at")
        kind = kind if isinstance(kind, ColumnElement) else literal(kind)
        return (kind, *(given.get(name, null()) for name in names))

    def seat_row(kind, course_id, a, b, c, program, release_at):
        return row(kind, course=course_id, credits=a, n2=b, n3=c, code=program, at=release_at)

    # The first part types the columns (PostgreSQL types a UNION's columns pairwise).
    load = select(*row(
        "L", course=Course.id, credits=Course.credits, n2=cast(null(), Integer),
        n3=cast(null(), Integer), status=Enrollment.status,
        code=Course.code, text=cast(null(), String), extra=cast(null(), String),
        days=Course.days, start=Course.start_time, end=Course.end_time,
        at=Enrollment.offer_expires_at,
    )).join(Course, Course.id == Enrollment.course_id).where(
        Enrollment.student_id == student_id, Course.term_id == bindparam("term_id"),
        Enrollment.status != Status.COMPLETED)
    required = required_codes.with_only_columns(*row("R", code=prereq.code))
    corequired = corequired_codes.with_only_columns(*row("Q", code=coreq.code))
    completed = (
        select(*row("C", course=done.id, code=done.code, text=Enrollment.grade))
        .join(Enrollment, Enrollment.course_id == done.id)
        .where(Enrollment.student_id == student_id, Enrollment.status == Status.COMPLETED,
               or_(done.code == bindparam("code"), done.code.in_(required_codes),
                   done.code.in_(corequired_codes)))
    )
    holds = select(*row("H", code=Hold.office, text=Hold.reason, extra=Hold.contact)).where(
        Hold.student_id == student_id, *blocks_registration_now())
    appointment = select(*row("A", at=Appointment.opens_at)).where(
        Appointment.student_id == student_id, Appointment.term_id == bindparam("term_id"))
    permission = (
        select(*row("P", course=Permission.id, code=Permission.rules, text=Permission.reason,
                    extra=User.name, at=Permission.granted_at))
        .outerjoin(User, User.id == Permission.granted_by_id)
        .where(Permission.student_id == student_id, Permission.course_id == course_id,
               Permission.used_at.is_(None), Permission.revoked_at.is_(None))
    )
    mine, peers = crosslist_sections.alias("mine"), crosslist_sections.alias("peers")
    crosslisted = (
        select(*row("X", course=peers.c.course_id)).select_from(peers)
        .join(mine, mine.c.crosslist_id == peers.c.crosslist_id)
        .where(mine.c.course_id == course_id, peers.c.course_id != course_id)
    )
    return union_all(load, required, corequired, completed, holds, crosslisted, appointment, permission,
                     *seat_count_parts(course_id, seat_row))


_FACTS = _facts_statement()


@dataclass(frozen=True)
class Completions:
    """A course's prerequisite and co-requisite codes and a student's best grade per
    completed code."""

    required: tuple[str, ...] = ()
    best: dict[str, str | None] = field(default_factory=dict)
    corequired: tuple[str, ...] = ()

    @classmethod
    def of(cls, required, grades_by_code: dict[str, list], corequired=()) -> Completions:
        return cls(tuple(sorted(set(required))),
                   {code: grades.best(found) for code, found in grades_by_code.items()},
                   tuple(sorted(set(corequired))))

    def passed(self, code: str) -> bool:
        return code in self.best and grades.passed(self.best[code])

    @property
    def missing(self) -> list[str]:
        """Prerequisite codes without a passed completion."""
        return [code for code in self.required if not self.passed(code)]


def existing_link(student_id: int, course_id: int) -> Enrollment | None:
    return db.session.get(Enrollment, (student_id, course_id), populate_existing=True)


@dataclass(frozen=True)
class Voice:
    """Who a refusal speaks of: the student themself ("You have …") or, to staff and in the
    audit, the student by name ("Alan Turing has …")."""

    name: str = ""  # empty: the student is the reader

    @property
    def who(self) -> str:
        return self.name or "You"

    @property
    def whose(self) -> str:
        return f"{self.name}'s" if self.name else "your"

    def verb(self, you: str, they: str) -> str:
        return they if self.name else you


def voice_for(student: Student, source: Source) -> Voice:
    """Students read their own refusals; staff, imports and the audit read them by name."""
    return Voice() if source == Source.SELF else Voice(student.name or student.student_number)


@dataclass(frozen=True)
class GrantedPermission:
    """An instructor's permission for the student to enroll in the course past `rules`."""

    id: int
    rules: frozenset[Override]
    reason: str = ""
    granted_by: str = ""  # the granting user's name ("" when the account is gone)
    granted_at: datetime | None = None

    @property
    def audit_reason(self) -> str:
        """How the enrollment's audit event names the permission."""
        who = self.granted_by or "a removed account"
        return f"Permission from {who}: {self.reason}".strip()


def stored_rules(text: str | None) -> frozenset[Override]:
    """The overrides a stored permission names (names that are no rule are ignored)."""
    known = {override.value: override for override in Override}
    return frozenset(known[name] for name in (text or "").split() if name in known)


@dataclass(frozen=True)
class Facts:
    """What the rules look at for one student and one course, loaded beforehand."""

    student: Student
    course: Course
    now: datetime
    link: Enrollment | None = None
    load: TermLoad = field(default_factory=lambda: TermLoad([], []))
    completions: Completions = field(default_factory=Completions)
    seats: SeatCount = field(default_factory=SeatCount)
    holds: list[Hold] = field(default_factory=list)  # active holds that block registration
    opens_at: datetime | None = None  # the student's appointment in the term, if any
    voice: Voice = field(default_factory=Voice)
    # An instructor's permission for this student and course: the rules it lifts are skipped.
    permission: GrantedPermission | None = None
    # Codes of the other courses enrolled in the same request (`with`): they count as
    # enrolled for co-requisites.
    joining: frozenset[str] = frozenset()
    # Ids of the sections cross-listed with the course (a student holds one at most).
    crosslisted: frozenset[int] = frozenset()


def load_facts(student: Student, course: Course, *, now: datetime,
               seats: SeatCount | None = None, source: Source = Source.SELF) -> Facts:
    """The facts about one student and one course, the seat count included (unless `seats`
    is given), read in one round trip (`_FACTS`).

    The other courses of the term load are plain `Course` objects holding what the rules
    read (code, credits, meeting times), not attached to the session. An instructor
    permission counts only when the student acts (`Source.SELF`): staff override rules
    themselves, and their enroll must not use the student's permission up.
    """
    load, link = TermLoad([], []), None
    required, corequired, found = [], [], defaultdict(list)
    holds, opens_at, permission, crosslisted = [], None, None, set()
    seat_rows = SeatRows(now)
    for kind, course_id, credits, n2, n3, status, code, text, extra, days, start, end, at in (
            db.session.execute(_FACTS, {"student_id": student.id, "course_id": course.id,
                                        "term_id": course.term_id, "code": course.code})):
        if kind in SEAT_KINDS:
            seat_rows.add(kind, course_id, credits, n2, n3, code, at)
        elif kind == "L" and course_id == course.id:
            link = Enrollment(student_id=student.id, course_id=course.id, status=status,
                              offer_expires_at=at)
        elif kind == "L":
            other = Course(id=course_id, code=code, credits=credits, days=days,
                           start_time=start, end_time=end)
            (load.enrolled if status == Status.ENROLLED else load.waitlisted).append(other)
        elif kind == "R":
            required.append(code)
        elif kind == "Q":
            corequired.append(code)
        elif kind == "X":
            crosslisted.add(course_id)
        elif kind == "C":
            found[code].append(text)
            if course_id == course.id and link is None:
                link = Enrollment(student_id=student.id, course_id=course.id,
                                  status=Status.COMPLETED, grade=text)
        elif kind == "H":
            holds.append(Hold(office=code, reason=text, contact=extra))
        elif kind == "P":
            if source == Source.SELF and (permission is None or course_id < permission.id):
                permission = GrantedPermission(course_id, stored_rules(code), text or "",
                                               extra or "", at)
        else:
            opens_at = at
    if seats is None:
        seats = seat_rows.count(course.id)
    return Facts(student, course, now, link=link, load=load, seats=seats,
                 completions=Completions.of(required, found, corequired), holds=holds, opens_at=opens_at,
                 voice=voice_for(student, source), permission=permission,
                 crosslisted=frozenset(crosslisted))
