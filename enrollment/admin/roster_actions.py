"""What each roster editor action will do, and doing it through the services.

`plan_*` functions are read-only: they say what would happen and list every rule that refuses
it now, in staff wording ("Alan Turing has not completed CS101"), with the overrides that can
set those rules aside. `run_*` functions make the change; they run inside `write_transaction`,
where the services lock the course and decide again (the plan may be stale by then).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from ..models import Course, Enrollment, Source, Status, Student, User
from ..services import EnrollmentRefused, Override, Refusal, seat_count
from ..services import complete as complete_service
from ..services import drop as drop_service
from ..services import enroll as enroll_service
from ..services import move as move_service
from ..services import promote as promote_service
from ..services.drop import corequisite_in_use, deadline_refusal
from ..services.eligibility import check_enroll, evaluate, promotion_refusals
from ..services.facts import TermLoad, existing_link, load_facts, term_load
from ..services.swap import drop_blockers, swap_of, without
from .roster_forms import AddForm, CompleteForm, DropForm, MoveForm, PromoteForm


def who(student: Student) -> str:
    return f"{student.name} ({student.student_number})"


@dataclass
class Plan:
    """What an action would do now: a sentence, the refusals, the overrides to offer."""

    summary: str
    refusals: list[Refusal] = field(default_factory=list)
    offered: frozenset[Override] = frozenset()

    @property
    def blocked(self) -> bool:
        """A refusal that no override lifts: the action cannot be confirmed."""
        return any(r.override is None for r in self.refusals)


@dataclass(frozen=True)
class Context:
    course: Course
    student: Student
    link: Enrollment | None
    actor: User | None
    now: datetime
    target: Course | None = None  # move: the section chosen


def _with_overrides(refusals: list[Refusal], extra=()) -> frozenset[Override]:
    return frozenset({r.override for r in refusals if r.override is not None} | set(extra))


def _full_note(course: Course, seats) -> Refusal:
    return Refusal("course_full", f"{course.code} has no free seat ({seats.taken} of "
                                  f"{course.capacity} taken).", Override.CAPACITY)


# --- plans ---------------------------------------------------------------------------------

def plan_add(ctx: Context) -> Plan:
    course, student = ctx.course, ctx.student
    seats = seat_count(course.id, now=ctx.now)
    refusals = check_enroll(student, course, now=ctx.now, seats=seats, source=Source.STAFF)
    room = seats.has_seat(course, student.program)
    offered = _with_overrides(refusals, () if room else (Override.CAPACITY,))
    if refusals:
        summary = f"The rules refuse adding {who(student)} to {course.code} now:"
    elif room:
        summary = (f"{who(student)} will be enrolled in {course.code} (seat "
                   f"{seats.taken + 1} of {course.capacity}).")
    else:
        summary = (f"{course.code} is full: {who(student)} will join the waitlist at position "
                   f"{seats.waitlisted + 1}, unless you override capacity to enroll them now.")
    return Plan(summary, refusals, offered)


def plan_drop(ctx: Context) -> Plan:
    link, course, student = ctx.link, ctx.course, ctx.student
    late = (deadline_refusal(course, ctx.now)
            if link.status in (Status.ENROLLED, Status.WAITLISTED) else None)
    in_use = (corequisite_in_use(student, course, by_staff=True)
              if link.status == Status.ENROLLED else None)
    refusals = [r for r in (late, in_use) if r is not None]
    if link.status == Status.ENROLLED:
        waiting = seat_count(course.id, now=ctx.now).waitlisted
        then = (f" The seat goes to the first eligible student of the waitlist ({waiting} "
                "waiting)." if waiting else "")
        summary = f"{who(student)} will be dropped from {course.code}.{then}"
    elif link.status == Status.WAITLISTED:
        summary = f"{who(student)} will leave the waitlist of {course.code}."
    elif link.status == Status.OFFERED:
        summary = (f"The seat offered to {who(student)} in {course.code} will be withdrawn and "
                   "offered to the next eligible student of the waitlist.")
    else:
        summary = (f"The completed record of {who(student)} in {course.code} (grade "
                   f"{link.grade or 'none'}) will be removed.")
    return Plan(summary, refusals, _with_overrides(refusals))


def ctx_link(student: Student, course: Course) -> Enrollment | None:
    return existing_link(student.id, course.id)


def plan_promote(ctx: Context) -> Plan:
    course, student = ctx.course, ctx.student
    seats = seat_count(course.id, now=ctx.now)
    refusals = [] if seats.has_seat(course, student.program) else [_full_note(course, seats)]
    load = term_load(student.id, course.term_id, excluding=course.id)
    summary = f"{who(student)} will move from the waitlist into a seat in {course.code}."
    give_up = swap_of(student.id, course.id)
    if give_up is not None:  # the swap attached: its course is dropped in the same change
        refusals += drop_blockers(student, ctx_link(student, give_up), give_up, now=ctx.now,
                                  by_staff=True)
        load = without(load, give_up.id)
        summary += f" Their swap drops {give_up.code} in the same change."
    refusals += promotion_refusals(student, course, load, now=ctx.now)
    return Plan(summary, refusals, _with_overrides(refusals))


def plan_move(ctx: Context) -> Plan:
    course, student, target = ctx.course, ctx.student, ctx.target
    if target is None:
        return Plan(f"{who(student)} will leave {course.code} and join the section you choose "
                    "(enrolled, or waitlisted when it is full), in one change: both or neither.")
    seats = seat_count(target.id, now=ctx.now)
    facts = load_facts(student, target, now=ctx.now, seats=seats, source=Source.STAFF)
    # Decided as if the student had already left this section (the move drops it first).
    load = TermLoad([c for c in facts.load.enrolled if c.id != course.id],
                    [c for c in facts.load.waitlisted if c.id != course.id])
    refusals = evaluate(replace(facts, load=load), skip=frozenset({Override.WINDOW}))
    room = seats.has_seat(target, student.program)
    offered = _with_overrides(refusals, () if room else (Override.CAPACITY,))
    if refusals:
        summary = f"The rules refuse moving {who(student)} to {target.code} now:"
    elif room:
        summary = f"{who(student)} will leave {course.code} and be enrolled in {target.code}."
    else:
        summary = (f"{target.code} is full: {who(student)} will leave {course.code} and join "
                   f"the waitlist of {target.code} at position {seats.waitlisted + 1}, unless "
                   "you override capacity.")
    return Plan(summary, refusals, offered)


def plan_complete(ctx: Context) -> Plan:
    return Plan(f"{who(ctx.student)}'s {ctx.course.code} will be recorded as completed with "
                "the grade you choose (prerequisites and repeats look at it).")


# --- runs (inside write_transaction) --------------------------------------------------------

def run_add(ctx: Context, form, override: frozenset[Override]) -> str:
    link = enroll_service(ctx.student, ctx.course, actor=ctx.actor, now=ctx.now,
                          source=Source.STAFF, override=override, reason=form.reason.data or "")
    if link.status == Status.ENROLLED:
        return f"{who(ctx.student)} was enrolled in {ctx.course.code}."
    return (f"{who(ctx.student)} joined the waitlist of {ctx.course.code} at position "
            f"{link.joined_position}.")


def run_drop(ctx: Context, form, override: frozenset[Override]) -> str:
    result = drop_service(ctx.student, ctx.course, actor=ctx.actor, now=ctx.now,
                          reason=form.reason.data or "", by_staff=True, override=override)
    what = {Status.ENROLLED: f"was dropped from {ctx.course.code}",
            Status.WAITLISTED: f"left the waitlist of {ctx.course.code}",
            Status.OFFERED: f"no longer has a seat offered in {ctx.course.code}",
            Status.COMPLETED: f"no longer has a completed record in {ctx.course.code}"}
    text = f"{who(ctx.student)} {what[result.previous_status]}."
    if result.promoted:
        names = ", ".join(who(link.student) for link in result.promoted)
        text += f" Promoted from the waitlist: {names}."
    if result.offered:
        names = ", ".join(who(link.student) for link in result.offered)
        text += f" The seat is offered to: {names}."
    return text


def run_promote(ctx: Context, form, override: frozenset[Override]) -> str:
    promote_service(ctx.student, ctx.course, actor=ctx.actor, now=ctx.now,
                    reason=form.reason.data or "", override=override)
    return f"{who(ctx.student)} was promoted into a seat in {ctx.course.code}."


def run_move(ctx: Context, form, override: frozenset[Override]) -> str:
    link = move_service(ctx.student, ctx.course, ctx.target, actor=ctx.actor, now=ctx.now,
                        reason=form.reason.data or "", override=override)
    where = ("enrolled" if link.status == Status.ENROLLED
             else f"waitlisted at position {link.joined_position}")
    return f"{who(ctx.student)} moved from {ctx.course.code} to {ctx.target.code} ({where})."


def run_complete(ctx: Context, form, override: frozenset[Override]) -> str:
    link = complete_service(ctx.student, ctx.course, form.grade.data, actor=ctx.actor,
                            now=ctx.now, reason=form.reason.data or "")
    return f"{who(ctx.student)} completed {ctx.course.code} with the grade {link.grade}."


@dataclass(frozen=True)
class RosterAction:
    """One action of the roster editor: its wording, form, plan and run."""

    title: str       # the confirmation page's heading: "Drop a student"
    verb: str        # "drop": "Could not drop Alan Turing: …"
    button: str
    form: type
    plan: Callable[[Context], Plan]
    run: Callable[[Context, object, frozenset[Override]], str]
    statuses: frozenset[Status] = frozenset()  # the link statuses it applies to (add: none)


ACTIONS = {
    "add": RosterAction("Add a student", "add", "Add", AddForm, plan_add, run_add),
    "drop": RosterAction("Drop a student", "drop", "Drop", DropForm, plan_drop, run_drop,
                         frozenset(Status)),
    "promote": RosterAction("Promote from the waitlist", "promote", "Promote", PromoteForm,
                            plan_promote, run_promote, frozenset({Status.WAITLISTED})),
    "move": RosterAction("Move to another section", "move", "Move", MoveForm, plan_move,
                         run_move, frozenset({Status.ENROLLED, Status.WAITLISTED})),
    "complete": RosterAction("Mark completed", "mark completed", "Mark completed",
                             CompleteForm, plan_complete, run_complete,
                             frozenset({Status.ENROLLED, Status.COMPLETED})),
}


def row_actions(status: Status) -> list[str]:
    """The actions offered on a row of this status, in the order shown."""
    return [name for name in ("promote", "move", "complete", "drop")
            if status in ACTIONS[name].statuses]


__all__ = ["ACTIONS", "Context", "EnrollmentRefused", "Plan", "RosterAction", "row_actions",
           "who"]
