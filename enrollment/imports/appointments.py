"""Importing appointments: `term,student_number,opens_at`.

The key is (term, student): a row for a student who already has an appointment in the term
moves it. `opens_at` must lie inside the term's enrollment window.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from wtforms import Form

from ..clock import wall_clock
from ..database import scalars_in
from ..extensions import db
from ..fields import MomentField
from ..models import Appointment, Student, Term
from ..records import StudentFields, TermFields
from .plan import ApplyContext, ImportPlan, ImportRefused, ImportResult, PlannedRow, RowError
from .reading import Table, read_rows
from .writing import Outcomes, flush_or_refuse

REQUIRED = ("term", "student_number", "opens_at")
OPTIONAL = ()


class AppointmentRow(Form):
    """An appointments CSV row: the term and the student by their keys, and the time."""

    term = TermFields.code
    student_number = StudentFields.student_number
    opens_at = MomentField("Opens at", required=True)


def _references(terms, numbers):
    by_term = {t.code: t for t in db.session.scalars(select(Term).where(Term.code.in_(terms)))}
    by_number = {s.student_number: s for s in scalars_in(
        db.session, lambda batch: select(Student).where(Student.student_number.in_(batch)),
        numbers)}
    return by_term, by_number


def _existing(terms) -> dict[tuple[int, int], Appointment]:
    """The appointments already in these terms, by (term id, student id), in one query."""
    return {(a.term_id, a.student_id): a for a in db.session.scalars(
        select(Appointment).where(Appointment.term_id.in_([t.id for t in terms])))}


def plan_rows(table: Table, plan: ImportPlan, *, now: datetime) -> None:
    parsed, seen = read_rows(table, plan, AppointmentRow, key=("term", "student_number"),
                             column="student_number", what=lambda term, number:
                             f"{number} in {term}")
    terms, students = _references({k[0] for k in seen.lines}, {k[1] for k in seen.lines})
    existing = _existing(terms.values())
    for cells, values in parsed:
        term, student = terms.get(values.get("term")), students.get(values.get("student_number"))
        if cells.ok and term is None:
            cells.error("term", f"unknown term {values['term']}")
        if cells.ok and student is None:
            cells.error("student_number", f"unknown student {values['student_number']}")
        if cells.ok and not term.enrollment_opens <= values["opens_at"] <= term.enrollment_closes:
            cells.error("opens_at", f"{wall_clock(values['opens_at'])} is outside the "
                                    f"enrollment window of {term.code} "
                                    f"({wall_clock(term.enrollment_opens)} to "
                                    f"{wall_clock(term.enrollment_closes)})")
        if not cells.ok:
            continue
        key = f"{term.code} {student.student_number}"
        current = existing.get((term.id, student.id))
        when = wall_clock(values["opens_at"])
        if current is None:
            plan.rows.append(PlannedRow(cells.line, "create", key, f"{key} from {when}", values))
        elif current.opens_at == values["opens_at"]:
            plan.rows.append(PlannedRow(cells.line, "unchanged", key, f"{key} is up to date",
                                        values))
        else:
            plan.rows.append(PlannedRow(cells.line, "update", key, f"{key}: now from {when}",
                                        values))


def apply_rows(plan: ImportPlan, context: ApplyContext) -> ImportResult:
    terms, students = _references({r.values["term"] for r in plan.rows},
                                  {r.values["student_number"] for r in plan.rows})
    existing = _existing(terms.values())
    outcomes, errors = Outcomes(), []
    for row in plan.rows:
        term, student = terms.get(row.values["term"]), students.get(row.values["student_number"])
        if term is None or student is None:
            errors.append(RowError(row.line, "term" if term is None else "student_number",
                                   "no longer exists"))
            continue
        appointment = existing.get((term.id, student.id))
        if appointment is None:
            db.session.add(Appointment(term_id=term.id, student_id=student.id,
                                       opens_at=row.values["opens_at"]))
        else:
            appointment.opens_at = row.values["opens_at"]
        outcomes.add(row.action)
        context.progress(1)
    if errors:
        raise ImportRefused(errors)
    flush_or_refuse("appointments")
    return outcomes.result()
