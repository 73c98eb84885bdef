"""A staff member edits a roster in the admin, from the course's edit page to its editor."""
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


def test_staff_adds_students_to_a_course_through_the_roster_editor(live_server, new_page,
                                                                   make_staff, make_course,
                                                                   make_student):
    staff = make_staff(email="desk@example.edu")
    course = make_course(code="CHEM101", title="General Chemistry", capacity=1)
    make_student(name="Marie Curie", student_number="S1867001")
    make_student(name="Pierre Curie", student_number="S1859001")
    db.session.commit()
    page = new_page(1280, 900)
    _log_in(page, live_server, staff.email)
    _shot(page, "dashboard")

    # Changed with the roster editor: the course form has no student select any more; students
    # are added in the editor (tests/browser/test_admin_roster_browser.py has the full flow).
    roster = f"{live_server}/admin/course/roster/?id={course.id}"
    page.goto(f"{live_server}/admin/course/edit/?id={course.id}")
    _shot(page, "course-edit")
    page.click("#roster-summary a")
    page.wait_for_url(roster)
    for query, name in (("Marie", "Marie Curie"), ("S18590", "Pierre Curie")):
        page.fill("#roster-q", query)
        page.click("button:has-text('Search')")
        page.click(f"a:has-text('Add {name}…')")
        page.click(f"button:has-text('Add {name}')")
        page.wait_for_url(f"{roster}#student-*")
    assert "joined the waitlist of CHEM101 at position 1" in page.inner_text("body")
    assert sorted(links().values()) == ["enrolled", "waitlisted"]
    page.goto(f"{live_server}/admin/course/")
    _shot(page, "course-list")

    page.goto(f"{live_server}/admin/enrollment/")
    assert "Marie Curie" in page.inner_text("body")
    _shot(page, "enrollments")
    page.goto(f"{live_server}/admin/import/")
    _shot(page, "import")

    phone = new_page(390, 800)
    _log_in(phone, live_server, staff.email)
    _shot(phone, "dashboard-phone")
    phone.goto(f"{live_server}/admin/course/edit/?id={course.id}")
    _shot(phone, "course-edit-phone")
