"""Importing terms: `code,name,enrollment_opens,enrollment_closes,drop_deadline`, optionally
`classes_start,classes_end` and `waitlist_mode,offer_hours` (a file without these columns
leaves them as they are, or at their defaults for a new term)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ..extensions import db
from ..models import Term
from ..records import TermFields
from .plan import ApplyContext, ImportPlan, ImportResult, PlannedRow
from .reading import Cells, FirstSeen, Table
from .writing import Outcomes, flush_or_refuse

REQUIRED = ("code", "name", "enrollment_opens", "enrollment_closes", "drop_deadline")
OPTIONAL = ("classes_start", "classes_end", "waitlist_mode", "offer_hours")
FIELDS = REQUIRED + OPTIONAL


def plan_rows(table: Table, plan: ImportPlan, *, now: datetime) -> None:
    existing = {t.code: t for t in db.session.scalars(select(Term))}
    seen = FirstSeen()
    for row in table.rows:
        cells = Cells(row, plan.errors)
        values = cells.read(TermFields, always=("classes_start", "classes_end"))
        code = values.get("code")
        seen.check(cells, "code", code, f"term {code}")
        if cells.ok:
            plan.rows.append(_planned(row.line, values, existing.get(code)))


def _planned(line: int, values: dict, term: Term | None) -> PlannedRow:
    code = values["code"]
    if term is None:
        return PlannedRow(line, "create", code, f"new term {code} {values['name']}", values)
    changed = [f for f in FIELDS if f != "code" and f in values and getattr(term, f) != values[f]]
    if not changed:
        return PlannedRow(line, "unchanged", code, f"term {code} is up to date", values)
    return PlannedRow(line, "update", code, f"term {code}: {', '.join(changed)}", values)


def apply_rows(plan: ImportPlan, context: ApplyContext) -> ImportResult:
    """Create or update the planned terms (re-read by code: the plan may be a little old)."""
    existing = {t.code: t for t in db.session.scalars(
        select(Term).where(Term.code.in_([r.key for r in plan.rows])))}
    outcomes = Outcomes()
    for row in plan.rows:
        term = existing.get(row.key)
        if term is None:
            db.session.add(Term(**row.values))
            outcomes.add("create")
        else:
            changed = [f for f in FIELDS
                       if f in row.values and getattr(term, f) != row.values[f]]
            for name in changed:
                setattr(term, name, row.values[name])
            outcomes.add("update" if changed else "unchanged")
        context.progress(1)
    flush_or_refuse("terms")
    return outcomes.result()
