"""The reports in Chromium: the printable roster and the statistics page with its charts."""
from __future__ import annotations

import os
from datetime import timedelta

from enrollment.extensions import db
from tests.factories import NOW, PASSWORD, at
from tests.report_data import drop, fill_course

SHOTS = os.environ.get("REPORT_SHOTS")  # a folder to keep screenshots in, when set


def _school(make_term, make_department, make_course, make_staff):
    term = make_term(code="2027SP", name="Spring 2027")
    cs = make_department(code="CS", name="Computer Science")
    math = make_department(code="MATH", name="Mathematics")
    cs101 = make_course(term=term, department=cs, code="CS101", title="Programming I",
                        capacity=8, waitlist_capacity=5, days="MWF", start_time=at("09:00"),
                        end_time=at("09:50"), instructor="Dr. Ada Lovelace", location="Hall 1")
    names = ["Zoë Ångström", "Bob Brown", "Carol Chen", "Dan Dunn", "Eve Evans", "Fay Fox",
             "Gus Gray", "Hal Hill", "Ivy Ito", "Jon Jay", "Kim Kay"]
    students = fill_course(cs101, names, start=NOW - timedelta(days=8), step=timedelta(hours=9))
    drop(students[1], cs101, at=NOW - timedelta(days=2))  # Bob drops, Ivy is promoted
    for i, (dept, cap, n) in enumerate([(cs, 20, 12), (math, 10, 3), (math, 30, 29), (cs, 5, 2)]):
        course = make_course(term=term, department=dept, code=f"{dept.code}2{i}0",
                             capacity=cap)
        fill_course(course, [f"Student {i}-{k}" for k in range(n)],
                    start=NOW - timedelta(days=6 - i), step=timedelta(minutes=30))
    staff = make_staff(email="registrar@example.edu")
    db.session.commit()
    return cs101, staff


def _log_in(page, live_server):
    page.goto(f"{live_server}/auth/login")
    page.fill("input[name=email]", "registrar@example.edu")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state()


def _shot(page, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def test_printable_roster_and_statistics(live_server, new_page, make_term, make_department,
                                         make_course, make_staff):
    cs101, _ = _school(make_term, make_department, make_course, make_staff)
    page = new_page(1280, 900)
    _log_in(page, live_server)

    page.goto(f"{live_server}/reports/")  # staff land on the admin after logging in
    page.click("nav.navbar a.nav-link:has-text('Reports')")
    page.wait_for_url("**/reports/enrollment")
    chart = page.locator("#course-chart svg")
    assert chart.is_visible()
    assert chart.bounding_box()["height"] > 50
    assert page.locator("#timeline-chart svg path.line").count() == 1
    assert page.locator("#department-chart svg rect.bar").count() == 2
    assert page.locator("tr.stats-row").count() == 5
    _shot(page, "stats-desktop.png")

    page.click("text=Courses & rosters")
    page.click(f"a[href='/reports/courses/{cs101.id}/roster']")
    rows = page.locator("tr.roster-row")
    assert rows.count() == 10
    names = rows.locator("td:nth-child(3)").all_inner_texts()
    assert names[:8] == ["Carol Chen", "Dan Dunn", "Eve Evans", "Fay Fox", "Gus Gray",
                         "Hal Hill", "Ivy Ito", "Zoë Ångström"]
    assert names[8:] == ["Jon Jay", "Kim Kay"]
    assert rows.nth(9).locator("td").nth(6).inner_text() == "2"
    assert page.locator(".roster-actions").is_visible()
    _shot(page, "roster-desktop.png")

    page.emulate_media(media="print")
    assert not page.locator("nav.navbar").is_visible()
    assert not page.locator(".roster-actions").is_visible()
    assert page.locator("tr.roster-row").count() == 10
    assert page.locator("thead").first.evaluate(
        "el => getComputedStyle(el).display") == "table-header-group"
    assert page.locator("tr.roster-row").first.evaluate(
        "el => getComputedStyle(el).breakInside") == "avoid"
    _shot(page, "roster-print.png")
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    page.emulate_media(media="screen")

    phone = new_page(390, 844)
    _log_in(phone, live_server)
    phone.goto(f"{live_server}/reports/enrollment")
    assert phone.locator("#course-chart svg").is_visible()
    # A chart scrolls inside its box; the page itself does not scroll sideways.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    _shot(phone, "stats-phone.png")
    phone.goto(f"{live_server}/reports/courses/{cs101.id}/roster")
    assert phone.locator("tr.roster-row").count() == 10
    _shot(phone, "roster-phone.png")
