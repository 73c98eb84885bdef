"""Shared by the per-kind appliers: counting outcomes, flushing without a traceback."""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from ..extensions import db
from .plan import ImportRefused, ImportResult, RowError


class Outcomes:
    """Counts of created, updated and unchanged records while an import is applied."""

    def __init__(self):
        self.counts = {"create": 0, "update": 0, "unchanged": 0}

    def add(self, action: str) -> None:
        self.counts[action] += 1

    def result(self) -> ImportResult:
        return ImportResult(self.counts["create"], self.counts["update"],
                            self.counts["unchanged"])


def flush_or_refuse(what: str) -> None:
    """Flush; a constraint violation (a concurrent change since the plan) refuses the import."""
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise ImportRefused([RowError(
            1, "file", f"the database refused the {what} ({str(exc.orig).splitlines()[0]}); "
                       "the data changed since the file was checked, check it again")]) from None
