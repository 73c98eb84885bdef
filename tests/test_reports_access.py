"""Who may see the reports: staff only, on every route; missing things are 404."""
from __future__ import annotations

import pytest


@pytest.fixture
def things(make_course, make_student):
    return {"course": make_course().id, "student": make_student().id}


ROUTES = [
    "/reports/",
    "/reports/enrollment",
    "/reports/enrollment.csv",
    "/reports/courses/{course}/roster",
    "/reports/courses/{course}/roster.csv",
    "/reports/courses/{course}/roster.xlsx",
    "/reports/students/{student}",
]
MISSING = [r for r in ROUTES if "{" in r]


@pytest.mark.parametrize("route", ROUTES)
def test_anonymous_users_go_to_login(client, things, route):
    response = client.get(route.format(**things))
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("route", ROUTES)
def test_students_get_403(client, login, make_student, things, route):
    login(make_student().user)
    response = client.get(route.format(**things))
    assert response.status_code == 403
    assert "text/html" in response.content_type


@pytest.mark.parametrize("route", ROUTES)
def test_staff_get_the_report(client, login, make_staff, things, route):
    login(make_staff())
    assert client.get(route.format(**things)).status_code == 200


@pytest.mark.parametrize("route", MISSING)
def test_missing_course_or_student_is_404(client, login, make_staff, route):
    login(make_staff())
    assert client.get(route.format(course=999999, student=999999)).status_code == 404


@pytest.mark.parametrize("route", MISSING)
def test_anonymous_on_missing_thing_still_goes_to_login(client, route):
    assert client.get(route.format(course=999999, student=999999)).status_code == 302


def test_inactive_staff_is_treated_as_anonymous(client, login, make_staff):
    login(make_staff(active=False))
    assert client.get("/reports/enrollment").status_code == 302


def test_only_get_is_allowed(client, login, make_staff, things):
    login(make_staff())
    assert client.post("/reports/enrollment").status_code in (400, 405)


def test_nav_links_to_reports_for_staff_only(client, login, make_staff, make_student):
    login(make_student().user)
    assert "/reports/enrollment" not in client.get("/reports/").get_data(as_text=True)
    login(make_staff())
    html = client.get("/reports/").get_data(as_text=True)
    assert 'href="/reports/enrollment"' in html and 'href="/reports/"' in html
