"""A staff member adds and drops students in the roster editor, by click and by keyboard."""
from __future__ import annotations

import os

from enrollment.extensions import db
from tests.admin_support import links
from tests.factories import PASSWORD

SHOTS = os.environ.get("ADMIN_SHOTS")  # a folder to save screenshots in, when set


def _shot(page, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def _log_in(page, live_server, email):
    page.goto(f"{live_server}/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/admin/")


def test_staff_add_and_drop_students_in_the_roster_editor(live_server, new_page, make_staff,
                                                          make_course, make_student):
    staff = make_staff(email="desk@example.edu")
    course = make_course(code="CHEM101", title="General Chemistry", capacity=1)
    marie = make_student(name="Marie Curie", student_number="S1867001")
    pierre = make_student(name="Pierre Curie", student_number="S1859001")
    db.session.commit()
    roster = f"{live_server}/admin/course/roster/?id={course.id}"
    page = new_page(1280, 900)
    _log_in(page, live_server, staff.email)

    # From the course list to the editor.
    page.goto(f"{live_server}/admin/course/")
    page.click("a:has-text('edit roster')")
    page.wait_for_url(f"{roster}")

    # By click: search, review, confirm.
    page.fill("#roster-q", "Marie")
    page.click("button:has-text('Search')")
    page.click("a:has-text('Add Marie Curie…')")
    assert "will be enrolled in CHEM101" in page.inner_text("#plan-summary")
    page.click("button:has-text('Add Marie Curie')")
    page.wait_for_url(f"{roster}#student-{marie.id}")
    assert "Marie Curie (S1867001) was enrolled in CHEM101." in page.inner_text("body")
    assert "enrolled" in page.inner_text(f"#student-{marie.id}")

    # By keyboard: type, Enter, then Enter on the focused links and buttons.
    page.focus("#roster-q")
    page.keyboard.type("S18590")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Add Pierre Curie…").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#plan-summary")
    assert "will join the waitlist at position 1" in page.inner_text("#plan-summary")
    page.get_by_role("button", name="Add Pierre Curie").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{roster}#student-{pierre.id}")
    assert "waitlisted #1" in page.inner_text(f"#student-{pierre.id}")
    assert links() == {(marie.id, course.id): "enrolled", (pierre.id, course.id): "waitlisted"}
    _shot(page, "roster-editor")

    # Drop Marie: the confirmation page says what happens; Pierre takes the seat.
    page.get_by_role("link", name="Drop… Marie Curie").click()
    assert "will be dropped from CHEM101" in page.inner_text("#plan-summary")
    _shot(page, "roster-drop")
    page.get_by_role("button", name="Drop Marie Curie").click()
    page.wait_for_url(f"{roster}#student-{marie.id}")
    assert "Promoted from the waitlist: Pierre Curie" in page.inner_text("body")
    assert links() == {(pierre.id, course.id): "enrolled"}

    # A phone: the roster stacks, nothing is wider than the screen.
    phone = new_page(390, 800)
    _log_in(phone, live_server, staff.email)
    phone.goto(roster)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert phone.get_by_role("link", name="Drop… Pierre Curie").is_visible()
    _shot(phone, "roster-editor-phone")
