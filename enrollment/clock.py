"""The current time, settable for tests and demos.

Services never call this: they take `now` as an argument. Views, the admin and the CLI call
`clock.now()` at their edge. Setting `FIXED_NOW` in the config (an ISO 8601 string or an aware
datetime) freezes the clock for the whole app.
"""
from datetime import UTC, datetime

from flask import current_app, has_app_context


def parse_datetime(value: str | datetime) -> datetime:
    """Parse an ISO 8601 time; a time without an offset is UTC."""
    if isinstance(value, datetime):
        dt = value
    else:
        dt = datetime.fromisoformat(value.strip())
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def utcnow() -> datetime:
    """The real current time in UTC (column defaults use it; requests use `now`)."""
    return datetime.now(UTC)


def now() -> datetime:
    """The current time in UTC (aware), or the app's `FIXED_NOW`."""
    if has_app_context():
        fixed = current_app.config.get("FIXED_NOW")
        if fixed:
            return parse_datetime(fixed)
    return datetime.now(UTC)
