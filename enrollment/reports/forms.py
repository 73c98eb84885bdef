"""The reports' filters: the catalog's filter form, read the way staff need it."""
from __future__ import annotations

from datetime import datetime

from ..catalog.forms import CatalogFilterForm
from ..models import Department, Term


def current_term(terms: list[Term], now: datetime) -> Term | None:
    """The term whose enrollment opened last (the current one), else the next to open.

    `terms` come in `Term.display_order` (the newest first).
    """
    opened = [t for t in terms if t.enrollment_opens <= now]
    if opened:
        return opened[0]
    return terms[-1] if terms else None


class ReportFilterForm(CatalogFilterForm):
    """The catalog's search and filters, except that no term means the current one: a report
    of every term is asked for with `term=all`."""

    ALL_TERMS = "all"
    UNKNOWN_TERM = "There is no term with code “{}”; showing the current term instead."
    UNKNOWN_DEPARTMENT = ("There is no department with code “{}”; showing every department "
                          "instead.")

    def __init__(self, formdata, terms: list[Term], departments: list[Department], *,
                 now: datetime):
        super().__init__(formdata, terms, departments)
        self.current = current_term(terms, now)

    @staticmethod
    def term_label(term: Term) -> str:
        return f"{term.name} ({term.code})"

    def fallback_term(self) -> str:
        return self.current.code if self.current else self.ALL_TERMS
