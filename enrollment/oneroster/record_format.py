"""Formatting of OneRoster 1.1 JSON records, shared by the record readers: times, dates,
booleans, GUIDRefs, names, the school org, and the filterable `Field` of a SQL source."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import current_app

from ..models import Status
from . import ids

LINKED = (Status.ENROLLED, Status.COMPLETED)  # the links that are OneRoster enrollments
ACTIVE, TOBEDELETED = "active", "tobedeleted"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The path of each GUIDRef type's records (the href of a reference).
PATHS = {"academicSession": "academicSessions", "org": "orgs", "course": "courses",
         "class": "classes", "user": "users", "enrollment": "enrollments"}


def moment(value: datetime) -> str:
    """`dateLastModified`: UTC, milliseconds, `Z`."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def flag(value: bool) -> str:
    return "true" if value else "false"


def ref(base_url: str, kind: str, sourced_id: str) -> dict:
    return {"href": f"{base_url}/{PATHS[kind]}/{sourced_id}", "sourcedId": sourced_id,
            "type": kind}


def names(name: str) -> tuple[str, str]:
    """givenName and familyName: the last word is the family name; a one-word name is both
    (both are required)."""
    words = (name or "").split()
    if len(words) < 2:
        return (words[0], words[0]) if words else ("", "")
    return " ".join(words[:-1]), words[-1]


def school() -> tuple[str, str]:
    """The school org: (sourcedId, name)."""
    name = current_app.config["SCHOOL_NAME"]
    return ids.school_id(name), name


def school_identifier(name: str) -> str:
    return "".join(ch for ch in name.upper() if ch.isalnum())[:32] or "SCHOOL"

@dataclass(frozen=True)
class Field:
    """A filterable, sortable field of a SQL source: its column and how a filter's text
    compares with it (`text`, `moment`, `flag`, or `enrollment_id`)."""

    column: object
    kind: str = "text"

def aware(value) -> datetime:
    """A time read from a union or an aggregate: aware UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
