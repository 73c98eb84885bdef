"""Grades: their order and the pass mark (config PASSING_GRADE, default D).

A completion whose grade passes satisfies prerequisites and counts as done, so the course
cannot be taken again unless it is repeatable; one that does not pass may be repeated. With
several completions of one code the best grade counts.
"""
from __future__ import annotations

from collections.abc import Iterable

from flask import current_app, has_app_context

# Letter grades, best first; P passes, NP/W/I do not (nor does F).
LETTERS = ("A+", "A", "A-", "B+", "B", "B-", "C+", "C", "C-", "D+", "D", "D-", "F")
PASS = "P"
NOT_PASSED = ("NP", "W", "I")
IN_ORDER = (*LETTERS, PASS, *NOT_PASSED)  # how lists and messages show them
GRADES = frozenset(IN_ORDER)
DEFAULT_PASSING_GRADE = "D"


def passing_grade() -> str:
    if has_app_context():
        return current_app.config.get("PASSING_GRADE") or DEFAULT_PASSING_GRADE
    return DEFAULT_PASSING_GRADE


def _rank(grade: str | None) -> int:
    """Higher is better; grades that never pass rank below every letter."""
    if grade == PASS:
        return len(LETTERS) + 1  # a pass ranks with the best: it is not a letter to compare
    if grade in LETTERS:
        return len(LETTERS) - LETTERS.index(grade)
    return 0


def passed(grade: str | None) -> bool:
    """Whether a completion with this grade passed (at least PASSING_GRADE, or P)."""
    if grade == PASS:
        return True
    return grade in LETTERS and _rank(grade) >= _rank(passing_grade())


def best(grades: Iterable[str | None]) -> str | None:
    """The best of several completions' grades (None when there are none)."""
    found = [g for g in grades]
    return max(found, key=_rank) if found else None
