"""Who may enroll where: every rule of enrollment, checked in a fixed number of queries.

The checks return `Refusal`s instead of raising, so that one call can report every reason that
blocks a student (the course page's "why can't I enroll?") and the same code decides at enroll
time (which raises the first refusals found).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
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

from ..clock import wall_clock
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
    prerequisite_links,
)
from . import grades
from .counts import SEAT_KINDS, SeatCount, SeatRows, seat_count_parts
from .errors import Override, Refusal
from .holds import blocking_holds, blocks_registration_now


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
    'R' a prerequisite code of the course; 'C' a completion (any term) of the course's own code
    or of a prerequisite code, with its grade; 'H' an active hold that blocks registration;
    'A' the student's appointment in the term; 'P' the student's unused, unrevoked instructor
    permission for the course (its id, rules, reason and who granted it)."""
    student_id, course_id = bindparam("student_id"), bindparam("course_id")
    prereq, done = aliased(Course, name="prereq"), aliased(Course, name="done")
    required_codes = (
        select(prereq.code)
        .join(prerequisite_links, prerequisite_links.c.prerequisite_id == prereq.id)
        .where(prerequisite_links.c.course_id == course_id)
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
    completed = (
        select(*row("C", course=done.id, code=done.code, text=Enrollment.grade))
        .join(Enrollment, Enrollment.course_id == done.id)
        .where(Enrollment.student_id == student_id, Enrollment.status == Status.COMPLETED,
               or_(done.code == bindparam("code"), done.code.in_(required_codes)))
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
    return union_all(load, required, completed, holds, appointment, permission,
                     *seat_count_parts(course_id, seat_row))


_FACTS = _facts_statement()


@dataclass(frozen=True)
class Completions:
    """A course's prerequisite codes and a student's best grade per completed code."""

    required: tuple[str, ...] = ()
    best: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def of(cls, required, grades_by_code: dict[str, list]) -> Completions:
        return cls(tuple(sorted(set(required))),
                   {code: grades.best(found) for code, found in grades_by_code.items()})

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


# --- the rules: each looks at the facts and returns a Refusal or None ---------------------

def hold_refusal(facts: Facts) -> Refusal | None:
    if not facts.holds:
        return None
    named = "; ".join(f"{h.office} ({h.reason}){f', contact {h.contact}' if h.contact else ''}"
                      for h in facts.holds)
    return Refusal("hold", f"A hold blocks {facts.voice.whose} registration: {named}. Drops are "
                           "not affected.")


def window_refusal(facts: Facts) -> Refusal | None:
    """The term's window, and within it the student's own appointment (time ticket)."""
    term = facts.course.term
    state = term.window_state(facts.now)
    if state == "open" and facts.opens_at is not None and facts.now < facts.opens_at:
        return Refusal("appointment_not_yet", f"{facts.voice.who} can register from "
                                              f"{wall_clock(facts.opens_at)}.")
    if state == "not_open":
        return Refusal("window_not_open", f"Enrollment for {term.name} opens on "
                                          f"{wall_clock(term.enrollment_opens)}.")
    if state == "closed":
        return Refusal("window_closed", f"Enrollment for {term.name} closed on "
                                        f"{wall_clock(term.enrollment_closes)}.")
    return None


def link_refusal(facts: Facts) -> Refusal | None:
    link, course, v = facts.link, facts.course, facts.voice
    if link is None:
        return None
    are, have = v.verb("are", "is"), v.verb("have", "has")
    if link.status == Status.ENROLLED:
        return Refusal("already_enrolled", f"{v.who} {are} already enrolled in {course.code}.")
    if link.status == Status.WAITLISTED:
        return Refusal("already_waitlisted",
                       f"{v.who} {are} already on the waitlist for {course.code}.")
    if link.status == Status.OFFERED:
        return Refusal("already_offered",
                       f"A seat in {course.code} is held for {v.name or 'you'} until "
                       f"{wall_clock(link.offer_expires_at)}: accept or decline it.")
    return Refusal("already_completed", f"{v.who} {have} already completed {course.code}.")


def conflict_refusal(facts: Facts) -> Refusal | None:
    course = facts.course
    clashes = [other for other in facts.load.enrolled
               if other.id != course.id and course.overlaps(other)]
    if not clashes:
        return None
    names = ", ".join(f"{c.code} ({c.schedule_label})" for c in clashes)
    return Refusal("time_conflict", f"{course.code} meets at the same time as {names}.")


def prerequisite_refusal(facts: Facts) -> Refusal | None:
    missing = facts.completions.missing
    if not missing:
        return None
    return Refusal("missing_prerequisite",
                   f"{facts.voice.who} {facts.voice.verb('have', 'has')} not completed the "
                   f"prerequisite{'s' if len(missing) > 1 else ''} "
                   f"{', '.join(missing)}.")


def repeat_refusal(facts: Facts) -> Refusal | None:
    """A passed course (the same code, any term) is not taken again unless it is repeatable."""
    course = facts.course
    if facts.link is not None or course.repeatable or not facts.completions.passed(course.code):
        return None  # the link rule speaks for this very section
    grade = facts.completions.best[course.code]
    v = facts.voice
    return Refusal("already_completed", f"{v.who} {v.verb('have', 'has')} already completed "
                                        f"{course.code} (grade {grade}); it cannot be taken "
                                        "again.")


def credit_refusal(facts: Facts) -> Refusal | None:
    student, course, load = facts.student, facts.course, facts.load
    total = load.credits + course.credits
    if total <= student.max_credits:
        return None
    v = facts.voice
    has = f"{v.name} has" if v.name else "you have"
    return Refusal("credit_limit",
                   f"{course.code} would bring {v.whose} credits this term to {total}, over "
                   f"{v.whose} maximum of {student.max_credits} ({has} {load.credits}).")


def capacity_refusal(facts: Facts) -> Refusal | None:
    """No seat open to the student (reserved seats of other programs are not) and no room on
    the waitlist."""
    course, seats = facts.course, facts.seats
    if seats.has_seat(course, facts.student.program) or seats.waitlist_has_room(course):
        return None
    held = seats.held_from(facts.student.program)
    reserved = f"; {held} reserved for other programs" if held else ""
    waitlist = ("it has no waitlist" if course.waitlist_capacity == 0 else
                f"its waitlist is full too ({seats.waitlisted}/{course.waitlist_capacity})")
    return Refusal("course_full",
                   f"{course.code} is full ({seats.taken}/{course.capacity} seats taken"
                   f"{reserved}) and {waitlist}.")


@dataclass(frozen=True)
class Rule:
    """One rule of enrollment: its check, and the override that sets it aside (None: none)."""

    check: Callable[[Facts], Refusal | None]
    override: Override | None


# The registry, in the order refusals are reported. A new rule is a check above and a line
# here; its facts load with the others (`check_enroll`, `batch.enroll_many`).
RULES = (
    Rule(hold_refusal, Override.HOLD),
    Rule(window_refusal, Override.WINDOW),
    Rule(link_refusal, None),
    Rule(conflict_refusal, Override.CONFLICT),
    Rule(prerequisite_refusal, Override.PREREQUISITES),
    Rule(repeat_refusal, Override.REPEAT),
    Rule(credit_refusal, Override.CREDIT_LOAD),
    Rule(capacity_refusal, Override.CAPACITY),
)
# What can stop a waitlisted student from taking a freed seat (the rest held when they joined).
PROMOTION_RULES = tuple(r for r in RULES
                        if r.check in (hold_refusal, conflict_refusal, credit_refusal))


# The overrides staff are offered, derived from the registry (a new rule shows up in every form).
ENROLL_OVERRIDES = tuple(r.override for r in RULES if r.override is not None)
PROMOTION_OVERRIDES = (Override.CAPACITY,
                       *(r.override for r in PROMOTION_RULES if r.override is not None))
IMPORT_SKIPS = frozenset({Override.WINDOW, Override.PREREQUISITES})
IMPORT_OVERRIDES = tuple(o for o in ENROLL_OVERRIDES if o not in IMPORT_SKIPS)


def skipped_rules(source: Source, override: frozenset[Override]) -> frozenset[Override]:
    """Imports skip the window and prerequisites (they record decisions made elsewhere)."""
    if source == Source.IMPORT:
        return override | IMPORT_SKIPS
    return override


def evaluate(facts: Facts, *, skip: frozenset[Override] = frozenset(),
             rules: tuple[Rule, ...] = RULES) -> list[Refusal]:
    """Every rule on facts already loaded: the one place the rules are applied.

    Each refusal carries the override that can lift it; the rules of the student's instructor
    permission (`facts.permission`) are skipped like overrides. `check_enroll` loads the facts
    for one student, `batch.enroll_many` for many, `waitlist` for promotion.
    """
    if facts.permission is not None:
        skip = skip | facts.permission.rules
    found = []
    for rule in rules:
        if rule.override is not None and rule.override in skip:
            continue
        refusal = rule.check(facts)
        if refusal is not None:
            found.append(replace(refusal, override=rule.override))
    return found


def lifted_by_permission(facts: Facts, *, skip: frozenset[Override] = frozenset()
                         ) -> frozenset[Override]:
    """The rules the student's permission sets aside in this enroll: those that would refuse
    without it, and capacity whenever no seat is open to the student (they are then enrolled
    past the limit, not waitlisted). Empty without a permission."""
    if facts.permission is None:
        return frozenset()
    granted = facts.permission.rules
    lifted = {r.override for r in evaluate(replace(facts, permission=None), skip=skip)
              if r.override in granted}
    if Override.CAPACITY in granted and not facts.seats.has_seat(facts.course,
                                                                  facts.student.program):
        lifted.add(Override.CAPACITY)
    return frozenset(lifted)


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
    required, found = [], defaultdict(list)
    holds, opens_at, permission = [], None, None
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
                 completions=Completions.of(required, found), holds=holds, opens_at=opens_at,
                 voice=voice_for(student, source), permission=permission)


def check_enroll(student: Student, course: Course, *, now: datetime,
                 skip: frozenset[Override] = frozenset(), seats: SeatCount | None = None,
                 source: Source = Source.SELF) -> list[Refusal]:
    """Every refusal for enrolling `student` in `course` now, after the skipped rules (and
    those the student's instructor permission lifts)."""
    return evaluate(load_facts(student, course, now=now, seats=seats, source=source), skip=skip)


def enrollment_blockers(student: Student, course: Course, *, now: datetime) -> list[Refusal]:
    """Every reason that keeps the student from enrolling (or joining the waitlist) now.

    An empty list means `enroll` would succeed; read-only, no lock taken.
    """
    return enrollment_outlook(student, course, now=now)[0]


def enrollment_outlook(student: Student, course: Course, *, now: datetime
                       ) -> tuple[list[Refusal], GrantedPermission | None]:
    """What the course page says before the click: every blocker (as `enrollment_blockers`),
    and the instructor permission that the student's enroll would use, if any."""
    facts = load_facts(student, course, now=now)
    return evaluate(facts), facts.permission


def promotion_refusals(student: Student, course: Course, load: TermLoad, *, now: datetime,
                       skip: frozenset[Override] = frozenset(),
                       holds: list[Hold] | None = None,
                       source: Source = Source.STAFF) -> list[Refusal]:
    """Why a waitlisted student cannot take a freed seat now (a new conflict, a credit load),
    or accept a seat offered to them (the same rules: what can change while they wait).

    `load` must leave out `course` itself (see `term_loads(excluding=...)`). Worded with the
    student's name (staff and the audit trail read these) unless `source` is the student.
    """
    if holds is None:
        holds = blocking_holds([student.id])[student.id]
    return evaluate(Facts(student, course, now, load=load, holds=holds,
                          voice=voice_for(student, source)),
                    skip=skip, rules=PROMOTION_RULES)

