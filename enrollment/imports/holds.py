"""Importing holds: `student_number,office,reason,contact,blocks_registration`.

The key is (student, office): a row for an office that already holds the student updates
that hold, and reopens it when it was cleared. Clearing is done in the admin or with
`flask holds clear` (it needs a reason), not by import.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from .. import services
from ..database import scalars_in
from ..extensions import db
from ..models import Hold, Student
from ..records import HoldFields, StudentFields
from .plan import ApplyContext, ImportPlan, ImportRefused, ImportResult, PlannedRow, RowError
from .reading import Table, read_rows
from .writing import Outcomes, flush_or_refuse

REQUIRED = ("student_number", "office", "reason")
OPTIONAL = ("contact", "blocks_registration")


class HoldRow(HoldFields):
    student_number = StudentFields.student_number


def _students(numbers) -> dict[str, Student]:
    return {s.student_number: s for s in scalars_in(
        db.session, lambda batch: select(Student).where(Student.student_number.in_(batch)),
        numbers)}


def plan_rows(table: Table, plan: ImportPlan, *, now: datetime) -> None:
    parsed, seen = read_rows(table, plan, HoldRow, key=("student_number", "office"),
                             column="office", what=lambda number, office:
                             f"the {office} hold of {number}")
    students = _students({k[0] for k in seen.lines})
    holds = {(h.student_id, h.office): h for h in scalars_in(
        db.session, lambda batch: select(Hold).where(Hold.student_id.in_(batch)),
        [s.id for s in students.values()])}
    for cells, values in parsed:
        student = students.get(values.get("student_number"))
        if cells.ok and student is None:
            cells.error("student_number", f"unknown student {values['student_number']}")
        if not cells.ok:
            continue
        plan.rows.append(_planned(cells.line, values, holds.get((student.id, values["office"]))))


def _planned(line: int, values: dict, hold: Hold | None) -> PlannedRow:
    key = f"{values['student_number']} {values['office']}"
    blocks = values.get("blocks_registration", True)
    what = "blocking" if blocks else "not blocking"
    if hold is None:
        return PlannedRow(line, "create", key, f"new {what} hold {key}: {values['reason']}",
                          values)
    changed = [f for f in ("reason", "contact", "blocks_registration")
               if f in values and getattr(hold, f) != values[f]]
    if not hold.active:
        changed.append("reopened")
    if not changed:
        return PlannedRow(line, "unchanged", key, f"hold {key} is up to date", values)
    return PlannedRow(line, "update", key, f"hold {key}: {', '.join(changed)}", values)


def apply_rows(plan: ImportPlan, context: ApplyContext) -> ImportResult:
    """Place or update each planned hold (re-reading the students: the plan may be old)."""
    students = _students({r.values["student_number"] for r in plan.rows})
    outcomes, errors = Outcomes(), []
    for row in plan.rows:
        values = row.values
        student = students.get(values["student_number"])
        if student is None:
            errors.append(RowError(row.line, "student_number", "no longer exists"))
            continue
        # An absent column (None) keeps the hold's value: place_hold reads the hold once.
        services.place_hold(student, values["office"], reason=values["reason"],
                            contact=values.get("contact"),
                            blocks_registration=values.get("blocks_registration"),
                            actor=context.actor, now=context.now)
        outcomes.add(row.action)
        context.progress(1)
    if errors:
        raise ImportRefused(errors)
    flush_or_refuse("holds")
    return outcomes.result()

