"""Request checks for the admin panel, before Flask-Admin parses anything.

Flask-Admin passes list, edit, lookup and filter parameters, and the record ids posted by its
delete button and actions, to the database as they come: a NUL byte (PostgreSQL refuses it in
text) or a number past the integer columns (SQLite overflows) would end in a 500. The return
`url` becomes the `Location` header: a line break makes the redirect itself fail, and a huge
one makes a huge header. Such requests get a 400 with the reason instead, and nothing runs.
"""
from __future__ import annotations

import re

from flask import Flask, abort, request

from ..models import MAX_ID

ADMIN_PREFIX = "/admin"
# Parameters that Flask-Admin turns into numbers (pages, ids, limits) or filter values.
NUMERIC_KEYS = {"page", "page_size", "id", "limit", "offset", "sort"}
# Form fields that reach the database or a header as they come: the record id of the delete
# button, the selected rows of an action, the return address.
FORM_KEYS = ("id", "rowid", "url")
# The return address is a list page of this site with its search and filters; 2,000 characters
# is the longest URL every browser and proxy is known to carry, so a longer one is not ours.
MAX_URL = 2000
COUNTS = {"page", "page_size", "limit", "offset"}  # a negative one becomes a bad OFFSET
LARGEST = MAX_ID  # the database's integer column; larger ids and pages cannot exist
NUMBER = re.compile(r"-?\d+")
RECORD_ID = re.compile(r"\d+(,\d+)*")  # integer keys; composite ones joined by commas


def problem(key: str, value: str) -> str | None:
    """Why one query parameter is refused, or None."""
    reason = _text_problem(key, value)
    if reason:
        return reason
    if key in COUNTS and value and not value.isdigit():
        return f"The parameter {key!r} must be a whole number, 0 or more."
    if key == "id" and not RECORD_ID.fullmatch(value):
        return f"{value[:40]!r} is not a record id."
    if key in NUMERIC_KEYS or key.startswith("flt"):
        return _number_problem(key, value)
    return None


def form_problem(key: str, value: str) -> str | None:
    """Why one posted FORM_KEYS field is refused, or None.

    Other ids that cannot be a record's are the views' to report: the delete button's finds no
    record and says so, an action leaves such a row out and names it.
    """
    reason = _text_problem(key, value)
    if reason is None and key == "id":
        reason = _number_problem(key, value)
    return reason


def _text_problem(key: str, value: str) -> str | None:
    if "\x00" in value:
        return f"The parameter {key!r} contains a NUL character."
    if key == "url" and len(value) > MAX_URL:
        return f"The return address is longer than {MAX_URL} characters."
    if key == "url" and any(ch in value for ch in "\r\n\t"):
        return "The return address contains a line break."
    return None


def _number_problem(key: str, value: str) -> str | None:
    for token in NUMBER.findall(value):
        # The length first: int() refuses digit strings past 4,300 characters.
        if len(token.lstrip("-")) > len(str(LARGEST)) or abs(int(token)) > LARGEST:
            return f"The number in {key!r} is too large."
    return None


def init_app(app: Flask) -> None:
    @app.before_request
    def _check_admin_parameters():
        if not request.path.startswith(ADMIN_PREFIX):
            return None
        # Every query parameter; of a form only FORM_KEYS: the admin's forms turn bad field
        # values into form errors themselves.
        checks = [(problem, key, value) for key, value in request.args.items(multi=True)]
        checks += [(form_problem, key, value)
                   for key in FORM_KEYS for value in request.form.getlist(key)]
        for check, key, value in checks:
            reason = check(key, value)
            if reason:
                abort(400, description=reason)
        return None
