"""Refusals: stable codes with messages a student understands."""
from __future__ import annotations

import enum
from dataclasses import dataclass


class Override(enum.StrEnum):
    """Rules that staff may override, each override recorded with its reason."""

    CAPACITY = "capacity"
    PREREQUISITES = "prerequisites"
    CONFLICT = "conflict"
    CREDIT_LOAD = "credit_load"
    WINDOW = "window"
    DEADLINE = "deadline"


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


class EnrollmentRefused(Exception):
    """An enrollment change the rules do not allow. `.reasons` holds every reason found."""

    def __init__(self, reasons: list[Refusal] | Refusal):
        self.reasons = reasons if isinstance(reasons, list) else [reasons]
        super().__init__(self.message)

    @property
    def code(self) -> str:
        return self.reasons[0].code

    @property
    def message(self) -> str:
        return " ".join(r.message for r in self.reasons)

    @classmethod
    def single(cls, code: str, message: str) -> EnrollmentRefused:
        return cls(Refusal(code, message))
