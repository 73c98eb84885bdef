"""Neutralise spreadsheet formulas in exported cells (CSV and XLSX alike).

A spreadsheet treats a cell that begins with `=`, `+`, `-` or `@` (and, in some programs, a tab
or a carriage return) as a formula, so a student named `=HYPERLINK(...)` could run one on the
registrar's machine. Prefixing such a cell with `'` makes it plain text; every export of the
project (reports, CLI, admin lists) passes its text cells through `safe_cell`.
"""
from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_STARTS = frozenset(FORMULA_STARTS)


def safe_cell(value):
    """Return `value` with a `'` in front when it is text a spreadsheet would run as a formula.

    Anything that is not a string (numbers, dates, None) is returned unchanged.
    """
    if isinstance(value, str) and value and value[0] in _STARTS:
        return "'" + value
    return value

