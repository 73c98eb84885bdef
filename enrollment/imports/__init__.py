"""CSV imports, one module per kind (see `MODULES`; formats in the design contract).

Two steps, so that a preview and the real thing agree:

    plan = plan_import("courses", text, now=clock.now())    # reads, writes nothing
    if plan.ok:
        with write_transaction(db.session):
            result = apply_import(plan, actor=user, now=clock.now())

`plan_import` checks every row before anything is written and returns every problem as a
`RowError` (`line N: column: reason`, the header is line 1). `apply_import` writes the plan;
enrollments go through the rules engine, and a row the rules refuse raises `ImportRefused`,
so the caller's transaction rolls back and nothing is written.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ..models import User
from . import appointments, courses, enrollments, holds, reservations, students, terms
from .plan import (
    KINDS,
    ApplyContext,
    Importer,
    ImportPlan,
    ImportRefused,
    ImportResult,
    PlannedRow,
    RowError,
)
from .reading import decode_upload, read_table

__all__ = ["KINDS", "ImportPlan", "ImportRefused", "ImportResult", "PlannedRow", "RowError",
           "apply_import", "columns", "decode_upload", "plan_import"]

# The registry: every kind is a module with the `Importer` protocol.
MODULES: dict[str, Importer] = {"terms": terms, "courses": courses, "students": students,
                                "enrollments": enrollments, "appointments": appointments,
                                "holds": holds, "reservations": reservations}


def columns(kind: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The (required, optional) columns of a kind, in the documented order."""
    module = MODULES[kind]
    return module.REQUIRED, module.OPTIONAL


def plan_import(kind: str, text: str, *, now: datetime) -> ImportPlan:
    """Check a whole CSV file (`text`, may start with a BOM) and plan what importing it does.

    Reads the database, writes nothing. `plan.ok` is False when any row has a problem; then
    `plan.errors` lists them all, in line order, and `plan.rows` still holds the valid rows
    (for the preview: `apply_import` refuses a plan with errors).
    """
    if kind not in MODULES:
        raise ValueError(f"unknown import kind {kind!r}; expected one of {', '.join(KINDS)}")
    module = MODULES[kind]
    plan = ImportPlan(kind)
    table = read_table(text, module.REQUIRED, module.OPTIONAL, plan.errors)
    if not plan.errors:
        module.plan_rows(table, plan, now=now)
    plan.errors.sort(key=lambda e: e.line)
    return plan


def apply_import(plan: ImportPlan, *, actor: User | None, now: datetime,
                 override: frozenset = frozenset(), reason: str = "",
                 progress: Callable[[int], None] | None = None) -> ImportResult:
    """Write a plan; must run inside `write_transaction(db.session)`.

    Raises `ImportRefused` when the plan has errors or a row is refused now (the rules refuse an
    enrollment, or a record changed since the plan): the caller's transaction then rolls back.
    `override` (a set of `services.Override`) and `reason` apply to enrollment rows. `progress`
    is called with the number of rows done, for a progress bar.
    """
    if not plan.ok:
        raise ImportRefused(plan.errors)
    context = ApplyContext(actor=actor, now=now, override=frozenset(override), reason=reason,
                           progress=progress or (lambda n: None))
    return MODULES[plan.kind].apply_rows(plan, context)
