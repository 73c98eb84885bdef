"""Importing reserved seats: `term,code,seats,program,release_at`.

The key is (term, code, program), the program matched ignoring case and surrounding spaces: a
row for a program the course already reserves seats for updates that reservation (a release
time moved into the future reserves the seats again). A course's reservations together cannot
exceed its capacity: the rows of one file add up, in file order, with the course's
reservations for the other programs.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..clock import wall_clock
from ..extensions import db
from ..models import Course, Reservation, Term, program_key
from ..records import CourseFields, ReservationFields, TermFields
from ..services import EnrollmentRefused
from ..services.reservations import over_capacity_message, set_reservation
from .plan import ApplyContext, ImportPlan, ImportRefused, ImportResult, PlannedRow, RowError
from .reading import Table, read_rows
from .writing import Outcomes, flush_or_refuse

REQUIRED = ("term", "code", "seats", "program", "release_at")
OPTIONAL = ()


class ReservationRow(ReservationFields):
    """A reservations CSV row: the reservation's own fields, and its course by term and code."""

    term = TermFields.code
    code = CourseFields.code


def _references(terms, codes) -> tuple[dict[str, Term], dict[tuple[int, str], Course]]:
    by_term = {t.code: t for t in db.session.scalars(select(Term).where(Term.code.in_(terms)))}
    by_key = {(c.term_id, c.code): c for c in db.session.scalars(
        select(Course).where(Course.term_id.in_([t.id for t in by_term.values()]),
                             Course.code.in_(codes)))} if by_term else {}
    return by_term, by_key


def _course(values: dict, terms, courses) -> Course | None:
    term = terms.get(values["term"])
    return None if term is None else courses.get((term.id, values["code"]))


def plan_rows(table: Table, plan: ImportPlan, *, now: datetime) -> None:
    # A program is matched ignoring case and spaces: "Physics" and "physics " are one key.
    parsed, seen = read_rows(table, plan, ReservationRow, key=("term", "code", "program"),
                             column="program", what=lambda term, code, program:
                             f"{program} in {term} {code}",
                             same=lambda term, code, program: (term, code, program_key(program)))
    terms, courses = _references({k[0] for k in seen.lines}, {k[1] for k in seen.lines})
    existing = {(r.course_id, program_key(r.program)): r for r in db.session.scalars(
        select(Reservation).where(Reservation.course_id.in_([c.id for c in courses.values()])))}
    # Seats reserved per course and program as the rows are applied, in file order (as
    # `set_reservation` will see them).
    reserved: dict[int, dict[str, int]] = {}
    for (course_id, key), reservation in existing.items():
        reserved.setdefault(course_id, {})[key] = reservation.seats
    for cells, values in parsed:
        if cells.ok and values["term"] not in terms:
            cells.error("term", f"unknown term {values['term']}")
        course = _course(values, terms, courses) if cells.ok else None
        if cells.ok and course is None:
            cells.error("code", f"unknown course {values['code']} in term {values['term']}")
        if not cells.ok:
            continue
        key = program_key(values["program"])
        held = reserved.setdefault(course.id, {})
        others = sum(seats for program, seats in held.items() if program != key)
        error = over_capacity_message(course, values["seats"], others)
        if error:
            cells.error("seats", error)
            continue
        held[key] = values["seats"]
        plan.rows.append(_planned(cells.line, values, existing.get((course.id, key)), now))


def _planned(line: int, values: dict, current: Reservation | None, now: datetime) -> PlannedRow:
    key = f"{values['term']} {values['code']} {values['program']}"
    what = f"{values['seats']} seats until {wall_clock(values['release_at'])}"
    if current is None:
        return PlannedRow(line, "create", key, f"new reservation {key}: {what}", values)
    changed = [f for f in ("seats", "release_at") if getattr(current, f) != values[f]]
    if current.released_at is not None and values["release_at"] > now:
        changed.append("reserved again")
    if not changed:
        return PlannedRow(line, "unchanged", key, f"reservation {key} is up to date", values)
    return PlannedRow(line, "update", key, f"reservation {key}: {', '.join(changed)} ({what})",
                      values)


def apply_rows(plan: ImportPlan, context: ApplyContext) -> ImportResult:
    """Set each planned reservation through `set_reservation` (under its course's lock, with
    the courses read again: the plan may be old)."""
    terms, courses = _references({r.values["term"] for r in plan.rows},
                                 {r.values["code"] for r in plan.rows})
    outcomes, errors = Outcomes(), []
    for row in plan.rows:
        values = row.values
        course = _course(values, terms, courses)
        try:
            if course is None:
                raise LookupError(values["code"])
            set_reservation(course, values["program"], values["seats"], values["release_at"],
                            actor=context.actor, now=context.now)
        except LookupError:
            errors.append(RowError(row.line, "code", "no longer exists"))
            continue
        except EnrollmentRefused as exc:  # the course changed since the plan
            errors.append(RowError(row.line, "seats", exc.message))
            continue
        except IntegrityError as exc:
            raise ImportRefused([RowError(
                row.line, "program", f"the database refused the reservation "
                                     f"({str(exc.orig).splitlines()[0]}); the data changed "
                                     "since the file was checked, check it again")]) from None
        outcomes.add(row.action)
        context.progress(1)
    if errors:
        raise ImportRefused(errors)
    flush_or_refuse("reservations")
    return outcomes.result()
