"""Input filters shared by every form (the site's, the admin's and the CSV rows')."""
from __future__ import annotations


def strip_nul(value):
    """PostgreSQL refuses NUL characters in text: drop them before validation."""
    return value.replace("\x00", "") if isinstance(value, str) else value


def strip(value):
    """Surrounding white space off (and NULs out) of a text value; others pass unchanged."""
    return strip_nul(value).strip() if isinstance(value, str) else value
