"""Who may see the reports: staff on every route, a course's instructor on that course's roster
routes only; missing things are 404."""
from __future__ import annotations

import pytest

from enrollment.extensions import db
from enrollment.models import Role
from tests.factories import make_user
from tests.web_helpers import enroll

# The student on every report (the roster's too): refused pages must not show them.
NAME, EMAIL = "Someone Else", "someone.else@example.edu"


@pytest.fixture
def things(make_course, make_student):
    course, student = make_course(), make_student(name=NAME, email=EMAIL)
    enroll(student, course)
    # An instructor of another course (with its own student): `{course}` is not theirs.
    instructor = make_user(role=Role.INSTRUCTOR, name="Ines Instructor")
    taught = make_course(instructor_id=instructor.id)
    enroll(make_student(name="Taught Student"), taught)
    db.session.commit()
    return {"course": course.id, "student": student.id, "taught": taught.id,
            "instructor": instructor}


def _shows_no_student(response) -> bool:
    return NAME.encode() not in response.data and EMAIL.encode() not in response.data


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
NAMES_THE_STUDENT = {"/reports/courses/{course}/roster", "/reports/courses/{course}/roster.csv",
                     "/reports/students/{student}"}
ROSTERS = [r for r in ROUTES if r.startswith("/reports/courses/")]


@pytest.mark.parametrize("route", ROUTES)
def test_anonymous_users_go_to_login(client, things, route):
    response = client.get(route.format(**things))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")
    assert _shows_no_student(response)


@pytest.mark.parametrize("route", ROUTES)
def test_students_get_403(client, login, make_student, things, route):
    login(make_student().user)
    response = client.get(route.format(**things))
    assert response.status_code == 403
    assert "text/html" in response.content_type
    assert _shows_no_student(response)


@pytest.mark.parametrize("route", ROUTES)
def test_staff_get_the_report(client, login, make_staff, things, route):
    login(make_staff())
    response = client.get(route.format(**things))
    assert response.status_code == 200
    if route in NAMES_THE_STUDENT:  # so the checks above can fail
        assert not _shows_no_student(response)


@pytest.mark.parametrize("route", ROUTES)
def test_instructors_get_403_except_on_their_own_rosters(client, login, things, route):
    """Every report of another course (and every staff report) is 403 for an instructor."""
    login(things["instructor"])
    response = client.get(route.format(**things))
    assert response.status_code == 403, route
    assert _shows_no_student(response)


@pytest.mark.parametrize("route", ROSTERS)
def test_instructors_get_their_own_course_rosters(client, login, things, route):
    login(things["instructor"])
    response = client.get(route.replace("{course}", "{taught}").format(**things))
    assert response.status_code == 200, route
    if route.endswith("/roster"):
        html = response.get_data(as_text=True)
        assert "Taught Student" in html
        # No link to the staff-only pages: the student report, the report tabs.
        assert "/reports/students/" not in html and 'href="/reports/enrollment"' not in html
    elif route.endswith(".csv"):
        assert "Taught Student" in response.get_data(as_text=True)


@pytest.mark.parametrize("route", MISSING)
def test_missing_course_or_student_is_404(client, login, make_staff, route):
    login(make_staff())
    # Ids past the database's integer columns too: "not found", not an overflow (500).
    for missing in (999999, 2**31, 2**63, 10**30):
        url = route.format(course=missing, student=missing)
        assert client.get(url).status_code == 404, url


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
