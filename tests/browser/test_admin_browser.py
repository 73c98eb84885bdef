"""A staff member edits a roster in the admin with the AJAX student select."""
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


def test_staff_adds_a_student_to_a_course_through_the_ajax_select(live_server, new_page,
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

    page.goto(f"{live_server}/admin/course/edit/?id={course.id}")
    page.click("#s2id_students")
    page.keyboard.type("Marie")
    page.click(".select2-result-label:has-text('Marie Curie')")
    page.click("#s2id_students")
    page.keyboard.type("S18590")
    page.click(".select2-result-label:has-text('Pierre Curie')")
    _shot(page, "course-edit")
    page.click("input[type=submit][value=Save]")
    page.wait_for_url(f"{live_server}/admin/course/**")
    assert "enrolled: 1, waitlisted: 1" in page.inner_text("body")
    assert sorted(links().values()) == ["enrolled", "waitlisted"]
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
