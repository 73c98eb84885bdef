"""Refusals: stable codes with messages a student understands, and the overrides that lift them.

Each `Refusal` names the `Override` that can set it aside (None: no one may), so a caller that
holds overrides never needs its own table from codes to rules. Overriding always needs a
reason: `require_reason` is the one place that says so.
"""
from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class Override(enum.StrEnum):
    """Rules that staff may override, each override recorded with its reason."""

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    CAPACITY = "capacity", "Capacity (enroll past the seat limit)"
    PREREQUISITES = "prerequisites", "Prerequisites"
    COREQUISITES = "corequisites", "Co-requisites (courses taken together)"
    CONFLICT = "conflict", "Time conflict"
    CREDIT_LOAD = "credit_load", "Credit limit"
    WINDOW = "window", "Enrollment window"
    DEADLINE = "deadline", "Drop deadline"
    REPEAT = "repeat", "Repeat (take a passed course again)"
    HOLD = "hold", "Registration hold"


REASON_REQUIRED = "A reason is required when overriding a rule."


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str
    # The rule staff may override to set this refusal aside; None when nobody can.
    override: Override | None = None


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

    @property
    def overrides(self) -> frozenset[Override]:
        """The overrides that would lift every reason (empty when one cannot be lifted)."""
        if any(r.override is None for r in self.reasons):
            return frozenset()
        return frozenset(r.override for r in self.reasons)

    @classmethod
    def single(cls, code: str, message: str, override: Override | None = None
               ) -> EnrollmentRefused:
        return cls(Refusal(code, message, override))


def require_reason(override: Iterable[Override], reason: str | None) -> None:
    """Refuse an override without a reason (the audit trail must say why)."""
    if override and not (reason or "").strip():
        raise EnrollmentRefused.single("reason_required", REASON_REQUIRED)


def overrode(override: Iterable[Override]) -> str:
    """How an audit reason names the overridden rules ("" when none)."""
    names = sorted(override)
    return f"Overrode: {', '.join(names)}." if names else ""
