"""Who may enroll where: every rule of enrollment, checked in a fixed number of queries.

The checks return `Refusal`s instead of raising, so that one call can report every reason that
blocks a student (the course page's "why can't I enroll?") and the same code decides at enroll
time (which raises the first refusals found).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from ..clock import wall_clock
from ..models import Course, Hold, Source, Status, Student
from .counts import SeatCount
from .errors import Override, Refusal
from .facts import Facts, GrantedPermission, TermLoad, load_facts, voice_for
from .holds import blocking_holds

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


def crosslist_refusal(facts: Facts) -> Refusal | None:
    """One section of a cross-listed group at most (the others are the same class)."""
    if not facts.crosslisted:
        return None
    v, course = facts.voice, facts.course
    for held, state in ((facts.load.enrolled, "enrolled in"),
                        (facts.load.waitlisted, "on the waitlist for")):
        other = next((c for c in held if c.id in facts.crosslisted), None)
        if other is not None:
            return Refusal("already_enrolled",
                           f"{v.who} {v.verb('are', 'is')} already {state} {other.code}, "
                           f"cross-listed with {course.code}: one section of the group at "
                           "most.")
    return None


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


def missing_corequisites(facts: Facts) -> list[str]:
    """Co-requisite codes the student neither is enrolled in this term (waitlisted is not
    enough), nor enrolls in with this request (`facts.joining`), nor passed in any term."""
    enrolled = {c.code for c in facts.load.enrolled} | facts.joining
    return [code for code in facts.completions.corequired
            if code not in enrolled and not facts.completions.passed(code)]


def corequisite_refusal(facts: Facts) -> Refusal | None:
    missing = missing_corequisites(facts)
    if not missing:
        return None
    v, codes = facts.voice, ", ".join(missing)
    them = "them" if len(missing) > 1 else "it"
    return Refusal("missing_corequisite",
                   f"{facts.course.code} must be taken with {codes} (co-requisite"
                   f"{'s' if len(missing) > 1 else ''}): {v.who} {v.verb('are', 'is')} not "
                   f"enrolled in {them} this term and {v.verb('have', 'has')} not completed "
                   f"{them}. Enroll in {facts.course.code} and {codes} together.")


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
    Rule(crosslist_refusal, None),
    Rule(conflict_refusal, Override.CONFLICT),
    Rule(prerequisite_refusal, Override.PREREQUISITES),
    Rule(corequisite_refusal, Override.COREQUISITES),
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
IMPORT_SKIPS = frozenset({Override.WINDOW, Override.PREREQUISITES, Override.COREQUISITES})
IMPORT_OVERRIDES = tuple(o for o in ENROLL_OVERRIDES if o not in IMPORT_SKIPS)


def skipped_rules(source: Source, override: frozenset[Override]) -> frozenset[Override]:
    """Imports skip the window, prerequisites and co-requisites (they record decisions made
    elsewhere)."""
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

