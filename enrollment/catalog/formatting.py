"""Showing times in the school's own time zone (config SCHOOL_TIMEZONE)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app


def school_tz() -> ZoneInfo:
    """The school's time zone; meeting times are wall-clock times there."""
    return ZoneInfo(current_app.config.get("SCHOOL_TIMEZONE") or "UTC")


def local_datetime(value: datetime | None) -> str:
    """Template filter: an aware UTC time as e.g. 'Mon 15 Feb 2027, 23:59 UTC' at the school."""
    if value is None:
        return ""
    local = value.astimezone(school_tz())
    return f"{local:%a %d %b %Y, %H:%M} {local.tzname()}"
