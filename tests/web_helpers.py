"""Helpers for tests of the site and the admin: enrollments set up through the rules,
flashed messages and visible text read from pages."""
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


# A flash box as the site's base.html renders it (`alert alert-info`, with a role; the
# catalog's notes share it) and as Flask-Admin's layout does (`alert alert-info
# alert-dismissable`, with a close button). Boxes with other classes (a course's blockers,
# say) are not flashes.
_FLASH = re.compile(r'<div class="alert(?: alert-\w+)+"(?: role="\w+")?>(.*?)</div>', re.DOTALL)


def flashes(page) -> list[str]:
    """The text of each flashed message on a page (a response or its HTML), in order."""
    html = page if isinstance(page, str) else page.get_data(as_text=True)
    return [re.sub(r"\s+", " ", unescape(re.sub(r"<button.*?</button>|<[^>]+>", "", box,
                                                  flags=re.DOTALL))).strip()
            for box in _FLASH.findall(html)]


def text(html: str) -> str:
    """The page's visible text, tags stripped and spaces collapsed (for `in` checks)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.DOTALL)
    html = re.sub(r"</?(strong|em|b|i|span|a|small|code)\b[^>]*>", "", html)  # inline: no gap
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()
