"""Helpers for the student-site tests: set enrollments up through the rules, read flashes."""
from __future__ import annotations

import re
from html import unescape

from enrollment import services
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import Source
from tests.factories import NOW


def enroll(student, course, *, staff=False):
    """Enroll (or waitlist) through the services; `staff=True` skips the window and prerequisites."""
    kwargs = {}
    if staff:
        kwargs = {"source": Source.STAFF, "override": frozenset({services.Override.WINDOW,
                                          services.Override.PREREQUISITES}),
                  "reason": "test setup"}
    with write_transaction(db.session):
        return services.enroll(student, course, actor=None, now=NOW, **kwargs).status


def complete(student, course, grade="A"):
    with write_transaction(db.session):
        services.complete(student, course, grade, actor=None, now=NOW)


def flashes(html: str) -> list[str]:
    """The text of the flashed alerts at the top of a page."""
    return [unescape(re.sub(r"<[^>]+>", "", m)).strip()
            for m in re.findall(r'<div class="alert alert-\w+" role="\w+">(.*?)</div>', html,
                                re.DOTALL)]


def text(html: str) -> str:
    """The page's visible text, tags stripped and spaces collapsed (for `in` checks)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.DOTALL)
    html = re.sub(r"</?(strong|em|b|i|span|a|small|code)\b[^>]*>", "", html)  # inline: no gap
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()
