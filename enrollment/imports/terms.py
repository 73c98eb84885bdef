"""Importing terms: `code,name,enrollment_opens,enrollment_closes,drop_deadline`, optionally
`classes_start,classes_end`."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import Term
from .plan import ImportPlan, ImportResult, PlannedRow
from .reading import Cells, Table
from .writing import Outcomes, flush_or_refuse

REQUIRED = ("code", "name", "enrollment_opens", "enrollment_closes", "drop_deadline")
OPTIONAL = ("classes_start", "classes_end")
FIELDS = REQUIRED + OPTIONAL
CLASS_WEEKS = 15


def plan_rows(table: Table, plan: ImportPlan, *, now: datetime) -> None:
    existing = {t.code: t for t in db.session.scalars(select(Term))}
    seen: dict[str, int] = {}
    for row in table.rows:
        cells = Cells(row, plan.errors)
        values = _values(cells)
        code = values.get("code")
        if code in seen:
            cells.error("code", f"term {code} already appears on line {seen[code]}")
        elif code:
            seen[code] = row.line
        if not cells.ok:
            continue
        plan.rows.append(_planned(row.line, values, existing.get(code)))


def _values(cells: Cells) -> dict:
    values = {
        "code": cells.text("code", max_length=16, required=True),
        "name": cells.text("name", max_length=120, required=True),
        "enrollment_opens": cells.moment("enrollment_opens", required=True),
        "enrollment_closes": cells.moment("enrollment_closes", required=True, end_of_day=True),
        "drop_deadline": cells.moment("drop_deadline", required=True, end_of_day=True),
        "classes_start": cells.day("classes_start"),
        "classes_end": cells.day("classes_end"),
    }
    if values["code"]:
        values["code"] = values["code"].upper()
        if any(ch.isspace() for ch in values["code"]):
            cells.error("code", "must not contain spaces")
    opens, closes = values["enrollment_opens"], values["enrollment_closes"]
    if opens and closes and closes < opens:
        cells.error("enrollment_closes", "is before enrollment_opens")
    if opens and values["drop_deadline"] and values["drop_deadline"] < opens:
        cells.error("drop_deadline", "is before enrollment_opens")
    # Classes run CLASS_WEEKS weeks from the first day after enrollment closes, unless given.
    if closes and not values["classes_start"] and "classes_start" not in cells.bad:
        values["classes_start"] = closes.date() + timedelta(days=1)
    start = values["classes_start"]
    if start and not values["classes_end"] and "classes_end" not in cells.bad:
        values["classes_end"] = start + timedelta(weeks=CLASS_WEEKS, days=-1)
    if start and values["classes_end"] and values["classes_end"] < start:
        cells.error("classes_end", "is before classes_start")
    return values


def _planned(line: int, values: dict, term: Term | None) -> PlannedRow:
    code = values["code"]
    if term is None:
        return PlannedRow(line, "create", code, f"new term {code} {values['name']}", values)
    changed = [f for f in FIELDS if f != "code" and getattr(term, f) != values[f]]
    if not changed:
        return PlannedRow(line, "unchanged", code, f"term {code} is up to date", values)
    return PlannedRow(line, "update", code, f"term {code}: {', '.join(changed)}", values)


def apply_rows(plan: ImportPlan, *, progress) -> ImportResult:
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
            changed = [f for f in FIELDS if getattr(term, f) != row.values[f]]
            for name in changed:
                setattr(term, name, row.values[name])
            outcomes.add("update" if changed else "unchanged")
        progress(1)
    flush_or_refuse("terms")
    return outcomes.result()
