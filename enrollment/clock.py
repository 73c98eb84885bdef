"""The current time, settable for tests and demos.

Services never call `now`: they take it as an argument (always UTC). Times shown to people,
pages and refusal messages alike, are worded on the school's wall clock, `school_zone()`.
Views, the admin and the CLI call
`clock.now()` at their edge. Setting `FIXED_NOW` in the config (an ISO 8601 string or an aware
datetime) freezes the clock for the whole app.
"""
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

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


def school_zone() -> ZoneInfo:
    """The school's time zone (config SCHOOL_TIMEZONE): meeting times and every time shown."""
    if has_app_context():
        return ZoneInfo(current_app.config.get("SCHOOL_TIMEZONE") or "UTC")
    return ZoneInfo("UTC")


def wall_clock(moment: datetime) -> str:
    """A time for a message, e.g. '31 Jan 2027 18:59 EST', on the school's wall clock."""
    local = moment.astimezone(school_zone())
    return f"{local:%d %b %Y %H:%M} {local.tzname()}"
