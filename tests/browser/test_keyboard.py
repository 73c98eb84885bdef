"""Keyboard only, in Chromium: Tab, Shift+Tab, Enter, Space and typing, never a click.

A student logs in, enrolls in a course and drops it through the confirmation page; a staff
member adds a student to a course in the admin (the student list's "With selected → Enroll in
a course…", its course picker and the form). Every control the keyboard lands on to act must
show where the focus is (a :focus-visible ring).
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from enrollment.extensions import db
from tests.admin_support import links
from tests.factories import PASSWORD

pytestmark = pytest.mark.config(WTF_CSRF_ENABLED=True)  # real forms carry real tokens

MAX_TABS = 80

# What the focused element is called (its accessible name, near enough) and whether a focus
# ring shows: an outline of 2px or more, or a box shadow (Bootstrap's inputs), on it or, for
# select2's hidden search input, on the box that select2 marks active.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const ringOf = (node) => {
    const s = getComputedStyle(node);
    return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2)
        || (s.boxShadow && s.boxShadow !== 'none');
  };
  const box = el.closest('.select2-container');
  const active = box && box.classList.contains('select2-container-active')
      ? box.querySelector('.select2-choice, .select2-choices') : null;
  const labels = el.labels && el.labels.length ? el.labels[0].innerText : '';
  return {
    name: (el.getAttribute('aria-label') || labels || el.innerText || el.value || '')
        .replace(/\\s+/g, ' ').trim(),
    tag: el.tagName.toLowerCase(),
    ring: ringOf(el) || (active !== null && ringOf(active)),
  };
}"""


def tab_to(page, name: str | re.Pattern, *, backwards: bool = False) -> dict:
    """Press Tab (or Shift+Tab) until the focused element's name matches; it must show a
    focus ring."""
    wanted = name if isinstance(name, re.Pattern) else re.compile(re.escape(name))
    seen = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        focused = page.evaluate(FOCUSED)
        if focused and wanted.search(focused["name"]):
            assert focused["ring"], f"no visible focus on {focused}"
            return focused
        seen.append(focused and focused["name"])
    raise AssertionError(f"{name!r} not reached with the keyboard; focus went through {seen}")


def flash(page):
    return page.locator("main .alert").first


def log_in(page, base, email):
    page.goto(f"{base}/auth/login")  # typing the address is not a click
    focused = page.evaluate(FOCUSED)
    assert focused["name"] == "Email", focused  # the field has autofocus
    page.keyboard.type(email)
    tab_to(page, "Password")
    page.keyboard.type(PASSWORD)
    tab_to(page, re.compile(r"^Log in$"))
    page.keyboard.press("Enter")
    expect(flash(page)).to_contain_text("Logged in as")


def test_student_logs_in_enrolls_and_drops_with_the_keyboard(new_page, live_server,
                                                             make_term, make_course,
                                                             make_student):
    term = make_term(code="2027SP", name="Spring 2027")
    make_course(term=term, code="CS101", title="Programming I")
    course = make_course(term=term, code="MATH150", title="Calculus I")
    make_student(name="Ada Lovelace", email="ada@example.edu")
    db.session.commit()
    page = new_page(1280, 900)

    # The first Tab reaches the skip link, which takes the focus past the header.
    page.goto(f"{live_server}/courses")
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED)["name"] == "Skip to content"
    expect(page.get_by_role("link", name="Skip to content")).to_be_visible()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # the catalog's first field, not the header's links
    assert page.evaluate(FOCUSED)["name"] == "Search"

    log_in(page, live_server, "ada@example.edu")
    tab_to(page, "MATH150 Calculus I")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server}/courses/{course.id}")
    tab_to(page, re.compile(r"^Enroll$"))
    page.keyboard.press("Enter")
    expect(flash(page)).to_have_text("You are enrolled in MATH150 Calculus I.")

    tab_to(page, "Drop this course…")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server}/courses/{course.id}/drop")
    expect(page.get_by_role("heading", level=1)).to_have_text("Drop MATH150 Calculus I?")
    tab_to(page, "Yes, drop MATH150")
    page.keyboard.press(" ")  # Space presses a button too
    expect(flash(page)).to_have_text("You dropped MATH150 Calculus I.")
    assert links() == {}

    # On a phone the header's links fold behind the toggler, which the keyboard opens.
    phone = new_page(390, 844)
    log_in(phone, live_server, "ada@example.edu")
    tab_to(phone, "Toggle navigation", backwards=True)
    phone.keyboard.press("Enter")
    expect(phone.locator("#site-nav")).to_be_visible()
    tab_to(phone, "My schedule")
    phone.keyboard.press("Enter")
    expect(phone).to_have_url(f"{live_server}/me/schedule")
    tab_to(phone, "Toggle navigation")
    phone.keyboard.press("Enter")
    tab_to(phone, "Log out")
    phone.keyboard.press("Enter")
    expect(flash(phone)).to_have_text("You are logged out.")


def test_staff_adds_a_student_to_a_course_with_the_keyboard(new_page, live_server, make_term,
                                                            make_course, make_student,
                                                            make_staff):
    term = make_term(code="2027SP", name="Spring 2027")
    course = make_course(term=term, code="CHEM101", title="General Chemistry")
    make_course(term=term, code="CS101", title="Programming I")
    marie = make_student(name="Marie Curie", student_number="S1867001")
    make_student(name="Pierre Curie", student_number="S1859001")
    make_staff(email="desk@example.edu")
    db.session.commit()
    page = new_page(1280, 900)

    log_in(page, live_server, "desk@example.edu")
    expect(page).to_have_url(f"{live_server}/admin/")
    tab_to(page, re.compile(r"^Students$"))  # the admin's own menu, under the header
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/admin/student/"))
    tab_to(page, "Select Marie Curie (S1867001)")
    page.keyboard.press(" ")
    expect(page.get_by_label("Select Marie Curie (S1867001)")).to_be_checked()
    tab_to(page, "With selected", backwards=True)
    page.keyboard.press("Enter")  # opens the menu
    tab_to(page, "Enroll in a course…")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Enroll")
    expect(page.locator("#bulk-selected")).to_have_text("Marie Curie (S1867001)")

    # The course picker (select2): focus it, type, pick the highlighted match with Enter.
    tab_to(page, "Course section")
    page.keyboard.type("CHEM")
    result = page.locator(".select2-result-label", has_text="CHEM101")
    expect(result).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator(".select2-chosen")).to_contain_text("CHEM101")
    tab_to(page, "Enroll (1)")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("main .alert-success")).to_contain_text(
        "Enroll in a course: 1 of 1 done")
    assert links() == {(marie.id, course.id): "enrolled"}
