"""Admin XLSX exports whose sheet is named after the view ("Courses"), not "Tablib Dataset".

Flask-Admin builds an untitled tablib `Dataset` inside its export view and asks tablib for the
file; neither offers a hook for the title in between. tablib's format registry is its
documented way to add or replace a format: the `xlsx` format registered here is tablib's own,
wrapped, and gives an untitled dataset the title that a view sets for the length of its export
(`sheet_title`). Every other use of tablib is left as it was.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from tablib.formats import registry

_SHEET_TITLE: ContextVar[str | None] = ContextVar("admin_export_sheet_title", default=None)


class NamedSheetXLSX:
    """tablib's XLSX format, with the sheet title of the export in progress."""

    def __init__(self, base):
        self.base = base
        self.title = base.title
        self.extensions = base.extensions

    def __getattr__(self, name):
        # detect, import_set, import_book, export_book: tablib's own.
        return getattr(self.base, name)

    def export_set(self, dataset, **kwargs):
        title = _SHEET_TITLE.get()
        if title and not dataset.title:
            dataset.title = title  # tablib replaces the characters a sheet name cannot hold
        return self.base.export_set(dataset, **kwargs)


@contextmanager
def sheet_title(title: str) -> Iterator[None]:
    """Name the sheet of the XLSX files exported inside this block."""
    token = _SHEET_TITLE.set(title)
    try:
        yield
    finally:
        _SHEET_TITLE.reset(token)


def register() -> None:
    """Put the named-sheet XLSX format in tablib's registry (once per process)."""
    current = registry.get_format("xlsx")
    if not isinstance(current, NamedSheetXLSX):
        registry.register("xlsx", NamedSheetXLSX(current))
