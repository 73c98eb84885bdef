"""The shared header in Chromium at a phone's width and a laptop's: nothing in it overlaps,
the page does not scroll sideways, and on a phone the links fold behind the toggler."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from enrollment.extensions import db
from tests.factories import PASSWORD

# The header's parts a person sees, each with its box (only the visible ones).
PARTS = """() => Array.from(document.querySelectorAll(
    '.site-header .navbar-brand, .site-header .user-compact, .site-header .navbar-toggler,'
    + ' .site-header .nav-link, .site-header .signed-in, .site-header .logout-form .btn,'
    + ' .site-header .register-link'))
  .filter(el => el.offsetParent !== null && el.getClientRects().length)
  .map(el => { const r = el.getBoundingClientRect();
               return {name: el.innerText.trim() || el.getAttribute('aria-label'),
                       left: r.left, right: r.right, top: r.top, bottom: r.bottom}; })"""


def _overlaps(parts):
    found = []
    for i, a in enumerate(parts):
        for b in parts[i + 1:]:
            if (a["left"] < b["right"] - 0.5 and b["left"] < a["right"] - 0.5
                    and a["top"] < b["bottom"] - 0.5 and b["top"] < a["bottom"] - 0.5):
                found.append((a["name"], b["name"]))
    return found


def _log_in(page, base, email):
    page.goto(f"{base}/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()


@pytest.mark.parametrize("width", [390, 1280])
def test_header_fits_without_overlap(new_page, live_server, make_staff, make_student, width):
    make_staff(email="registrar@example.edu", name="Maximiliane Registrar-Oberhausen")
    make_student(email="ada@example.edu", name="Ada Lovelace")
    db.session.commit()
    for who, path in ((None, "/courses"), ("ada@example.edu", "/me/schedule"),
                      ("registrar@example.edu", "/admin/course/"),
                      ("registrar@example.edu", "/reports/enrollment")):
        page = new_page(width, 844)
        if who:
            _log_in(page, live_server, who)
        page.goto(f"{live_server}{path}")
        where = f"{who or 'anonymous'} {path} at {width}px"
        parts = page.evaluate(PARTS)
        assert not _overlaps(parts), (where, _overlaps(parts))
        assert all(p["right"] <= width + 0.5 for p in parts), (where, parts)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, where
        toggler = page.locator(".site-header .navbar-toggler")
        links = page.locator("#site-nav")
        if width < 992:
            # One row: brand, name, toggler; the rest opens below it.
            expect(links).to_be_hidden()
            assert page.locator(".site-header").bounding_box()["height"] < 80, where
            toggler.click()
            expect(links).to_be_visible()
            expect(toggler).to_have_attribute("aria-expanded", "true")
            opened = page.evaluate(PARTS)
            assert not _overlaps(opened), (where, _overlaps(opened))
            assert all(p["right"] <= width + 0.5 for p in opened), (where, opened)
        else:
            expect(toggler).to_be_hidden()
            expect(links).to_be_visible()
            assert page.locator(".site-header").bounding_box()["height"] < 80, where
        page.context.close()
