"""Showing times in the school's own time zone (config SCHOOL_TIMEZONE)."""
from __future__ import annotations

from datetime import datetime

from ..clock import school_zone


def local_datetime(value: datetime | None) -> str:
    """Template filter: an aware UTC time as e.g. 'Mon 15 Feb 2027, 23:59 UTC' at the school."""
    if value is None:
        return ""
    local = value.astimezone(school_zone())
    return f"{local:%a %d %b %Y, %H:%M} {local.tzname()}"


def local_date(value: datetime | None) -> str:
    """Template filter: the school's calendar date of an aware UTC time, e.g. '15 Jan 2027'."""
    if value is None:
        return ""
    return f"{value.astimezone(school_zone()):%d %b %Y}"
