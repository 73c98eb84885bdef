"""What an import looks like before and after it is applied: errors, planned rows, results."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

KINDS = ("terms", "courses", "students", "enrollments", "appointments", "holds",
         "reservations")
ACTIONS = ("create", "update", "unchanged")


@dataclass(frozen=True)
class RowError:
    """One problem in the file; `line` 1 is the header."""

    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.column}: {self.reason}"


@dataclass
class PlannedRow:
    """What applying the import will do with one data row."""

    line: int
    action: str  # "create", "update" or "unchanged"
    key: str
    summary: str
    # The validated values, for `apply_import` (not part of what a preview shows).
    values: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class ImportPlan:
    kind: str
    errors: list[RowError] = field(default_factory=list)
    rows: list[PlannedRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(row.action for row in self.rows)
        return {action: counted.get(action, 0) for action in ACTIONS}


@dataclass(frozen=True)
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class ImportRefused(Exception):
    """The import cannot be applied; `.errors` says where and why. Nothing is written."""

    def __init__(self, errors: list[RowError]):
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors[:5]))


@dataclass(frozen=True)
class ApplyContext:
    """What writing a plan needs besides the plan: who, when, and for enrollments the
    overrides with their reason; `progress(n)` is told of every n rows done."""

    actor: Any  # a User, or None for the command line
    now: datetime
    override: frozenset = frozenset()
    reason: str = ""
    progress: Callable[[int], None] = lambda n: None


class Importer(Protocol):
    """What each kind's module (terms, courses, students, enrollments) provides."""

    REQUIRED: tuple[str, ...]
    OPTIONAL: tuple[str, ...]

    def plan_rows(self, table, plan: ImportPlan, *, now: datetime) -> None:
        """Check every row (errors on `plan.errors`) and add a PlannedRow for each good one."""

    def apply_rows(self, plan: ImportPlan, context: ApplyContext) -> ImportResult:
        """Write the planned rows (the caller's transaction); raise ImportRefused if not."""
