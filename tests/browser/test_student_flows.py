"""The student site as a person uses it, in Chromium: register, search, enroll, schedule, drop;
two students racing for the last seat."""
import re

import pytest
from playwright.sync_api import expect

from enrollment.extensions import db
from tests.factories import PASSWORD, at

pytestmark = pytest.mark.config(WTF_CSRF_ENABLED=True)  # real forms carry real tokens


def log_in(page, base, email, password=PASSWORD):
    page.goto(f"{base}/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(flash(page)).to_contain_text("Logged in as")


def flash(page):
    return page.locator("main > .alert").first


def test_register_search_enroll_schedule_drop(page, live_server, make_course, make_term,
                                              make_department):
    term = make_term(code="2027SP", name="Spring 2027")
    cs = make_department(code="CS", name="Computer Science")
    make_course(term=term, department=cs, code="CS101", title="Introduction to Programming",
                days="MWF", start_time=at("09:00"), end_time=at("09:50"), location="Hall A")
    make_course(term=term, department=cs, code="CS201", title="Data Structures")
    make_course(term=term, code="MATH150", title="Calculus I")
    db.session.commit()

    page.goto(f"{live_server}/auth/register")
    page.get_by_label("Full name").fill("Ada Lovelace")
    page.get_by_label("Email").fill("ada@example.edu")
    page.get_by_label("Password", exact=True).fill("analytical-42")
    page.get_by_label("Confirm password").fill("analytical-42")
    page.get_by_role("button", name="Create account").click()
    expect(flash(page)).to_contain_text("Welcome, Ada Lovelace! Your student number is")
    expect(page.locator(".current-user")).to_have_text("Ada Lovelace")

    page.get_by_label("Search").fill("programming")
    page.get_by_label("Department").select_option("CS")
    page.get_by_role("button", name="Search").click()
    rows = page.locator(".course-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("30 of 30 left")
    rows.first.click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("CS101")
    page.get_by_role("button", name="Enroll").click()
    expect(flash(page)).to_have_text("You are enrolled in CS101 Introduction to Programming.")
    expect(page.locator(".viewer-status")).to_contain_text("You are enrolled")
    expect(page.locator(".seat-badge")).to_have_text("29 of 30 left")

    page.get_by_role("link", name="My schedule").click()
    expect(page.locator(".total-credits")).to_contain_text("3 of 18 credits")
    expect(page.locator(".enrolled-courses")).to_contain_text("CS101 Introduction to Programming")
    expect(page.locator(".week-grid .wg-block")).to_have_count(3)  # Mon, Wed, Fri

    page.locator(".enrolled-courses").get_by_role("link", name=re.compile("CS101")).click()
    page.get_by_role("link", name="Drop this course…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Drop CS101 Introduction to Programming?")
    page.get_by_role("button", name="Yes, drop CS101").click()
    expect(flash(page)).to_have_text("You dropped CS101 Introduction to Programming.")
    page.get_by_role("link", name="My schedule").click()
    expect(page.get_by_text("You are not enrolled in any course yet.")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(flash(page)).to_have_text("You are logged out.")
    log_in(page, live_server, "ada@example.edu", "analytical-42")
    expect(page).to_have_url(f"{live_server}/courses")


def test_two_students_race_for_the_last_seat(new_page, live_server, make_course,
                                             make_student):
    course = make_course(code="CS310", title="Operating Systems", capacity=1, days="TR",
                         start_time=at("14:00"), end_time=at("15:15"))
    make_student(email="first@example.edu", name="First Student")
    make_student(email="second@example.edu", name="Second Student")
    db.session.commit()
    url = f"{live_server}/courses/{course.id}"

    first, second = new_page(), new_page(390, 844)  # the second on a phone
    log_in(first, live_server, "first@example.edu")
    log_in(second, live_server, "second@example.edu")
    first.goto(url)
    second.goto(url)
    # Both see one seat left; the first to click gets it.
    expect(second.locator(".seat-badge")).to_have_text("1 of 1 left")
    first.get_by_role("button", name="Enroll").click()
    expect(flash(first)).to_have_text("You are enrolled in CS310 Operating Systems.")
    second.get_by_role("button", name="Enroll").click()
    expect(flash(second)).to_contain_text(
        "CS310 Operating Systems is full: you joined the waitlist at position 1.")
    expect(second.locator(".viewer-status")).to_contain_text("on the waitlist, position 1")

    first.get_by_role("link", name="Drop this course…").click()
    expect(first.locator(".confirm-card")).to_contain_text("1 student is waiting")
    first.get_by_role("button", name="Yes, drop CS310").click()
    expect(flash(first)).to_have_text("You dropped CS310 Operating Systems. Your seat went to "
                                      "the next student on the waitlist.")

    second.goto(f"{live_server}/me/schedule")
    expect(second.locator(".enrolled-courses")).to_contain_text("CS310 Operating Systems")
    expect(second.locator(".waitlisted-courses")).to_have_count(0)
    expect(second.locator(".week-list")).to_contain_text("14:00–15:15 CS310")  # phone view
