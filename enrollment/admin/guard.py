"""Request checks for the admin panel, before Flask-Admin parses anything.

Flask-Admin passes list, edit, lookup and filter parameters to the database as they come: a
NUL byte (PostgreSQL refuses it in text) or a number past 64 bits (SQLite overflows) would end
in a 500, and a line break in the return `url` makes the redirect itself fail. Such requests
get a 400 with the reason instead, and nothing runs.
"""
from __future__ import annotations

import re

from flask import Flask, abort, request

from ..models import MAX_ID

ADMIN_PREFIX = "/admin"
# Parameters that Flask-Admin turns into numbers (pages, ids, limits) or filter values.
NUMERIC_KEYS = {"page", "page_size", "id", "limit", "offset", "sort"}
COUNTS = {"page", "page_size", "limit", "offset"}  # a negative one becomes a bad OFFSET
LARGEST = MAX_ID  # the database's integer column; larger ids and pages cannot exist
NUMBER = re.compile(r"-?\d+")
RECORD_ID = re.compile(r"\d+(,\d+)*")  # integer keys; composite ones joined by commas


def problem(key: str, value: str) -> str | None:
    """Why one parameter is refused, or None."""
    if "\x00" in value:
        return f"The parameter {key!r} contains a NUL character."
    if key == "url" and any(ch in value for ch in "\r\n\t"):
        return "The return address contains a line break."
    if key in COUNTS and value and not value.isdigit():
        return f"The parameter {key!r} must be a whole number, 0 or more."
    if key == "id" and not RECORD_ID.fullmatch(value):
        return f"{value[:40]!r} is not a record id."
    if key in NUMERIC_KEYS or key.startswith("flt"):
        for token in NUMBER.findall(value):
            if abs(int(token)) > LARGEST:
                return f"The number in {key!r} is too large."
    return None


def init_app(app: Flask) -> None:
    @app.before_request
    def _check_admin_parameters():
        if not request.path.startswith(ADMIN_PREFIX):
            return None
        # Query parameters all; of a form only the return address: the admin's forms turn
        # bad field values into form errors themselves.
        params = list(request.args.items(multi=True))
        params += [("url", value) for value in request.form.getlist("url")]
        for key, value in params:
            reason = problem(key, value)
            if reason:
                abort(400, description=reason)
        return None
