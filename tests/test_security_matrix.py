"""Who may do what on the student site, CSRF on every POST, and students' data kept apart.

The admin's and the reports' access matrices are tests/test_admin_access.py and
tests/test_reports_access.py.
"""
import re

import pytest
from flask_admin.tools import iterencode
from sqlalchemy import func, select

from enrollment.extensions import db
from enrollment.models import (
    Course,
    Department,
    Enrollment,
    EnrollmentEvent,
    Role,
    Status,
    Term,
    User,
)
from tests.factories import PASSWORD, make_user
from tests.web_helpers import enroll, flashes

ROLES = ["anonymous", "student", "other_student", "staff", "instructor"]

# (method, path, expected status per role), tried in this order (logout last).
# {course} is a course the student is enrolled in; {taught} the instructor's course.
MATRIX = [
    ("GET", "/", (302, 302, 302, 302, 302)),
    ("GET", "/courses", (200, 200, 200, 200, 200)),
    ("GET", "/courses?q=x&term=nope&page=-1", (200, 200, 200, 200, 200)),
    ("GET", "/courses/{course}", (200, 200, 200, 200, 200)),
    ("GET", "/courses/999999", (404, 404, 404, 404, 404)),
    # Past the database's integer columns: still "not found", not an overflow (500).
    ("GET", f"/courses/{2**31}", (404, 404, 404, 404, 404)),
    ("GET", f"/courses/{2**63}", (404, 404, 404, 404, 404)),
    ("GET", f"/courses/{10**30}", (404, 404, 404, 404, 404)),
    ("POST", "/courses/{course}/enroll", (303, 303, 303, 403, 403)),
    ("POST", "/courses/{course}/drop", (303, 303, 303, 403, 403)),
    ("POST", "/courses/{course}/accept", (303, 303, 303, 403, 403)),
    ("POST", "/courses/{course}/decline", (303, 303, 303, 403, 403)),
    ("GET", "/courses/{course}/decline", (303, 303, 303, 403, 403)),
    ("POST", "/courses/999999/accept", (303, 404, 404, 403, 403)),
    ("POST", "/courses/999999/enroll", (303, 404, 404, 403, 403)),
    ("GET", "/courses/{course}/enroll", (405, 405, 405, 405, 405)),
    ("GET", "/me/schedule", (302, 200, 200, 403, 403)),
    ("GET", "/me/schedule.ics", (302, 200, 200, 403, 403)),
    ("GET", "/me/notifications", (302, 200, 200, 403, 403)),
    ("GET", "/me/notifications?page=99999999999999999999", (302, 200, 200, 403, 403)),
    ("POST", "/me/notifications", (302, 303, 303, 403, 403)),
    ("POST", "/me/calendar-feed", (302, 303, 303, 403, 403)),
    ("POST", "/me/calendar-feed/off", (302, 303, 303, 403, 403)),
    ("GET", "/calendar/" + "A" * 43 + ".ics", (404, 404, 404, 404, 404)),
    ("GET", "/teach/", (302, 403, 403, 200, 200)),
    ("GET", "/teach/courses/{taught}", (302, 403, 403, 200, 200)),
    ("GET", "/teach/courses/{course}", (302, 403, 403, 200, 403)),
    ("GET", "/teach/courses/999999", (302, 403, 403, 404, 404)),
    ("GET", f"/teach/courses/{2**31}", (404, 404, 404, 404, 404)),
    ("POST", "/teach/courses/{taught}/permissions", (302, 403, 403, 303, 303)),
    ("POST", "/teach/courses/{course}/permissions", (302, 403, 403, 303, 403)),
    ("POST", "/teach/courses/{course}/permissions/1/revoke", (302, 403, 403, 404, 403)),
    ("GET", "/reports/courses/{taught}/roster", (302, 403, 403, 200, 200)),
    ("GET", "/reports/courses/{course}/roster.csv", (302, 403, 403, 200, 403)),
    ("GET", "/reports/enrollment", (302, 403, 403, 200, 403)),
    ("GET", "/admin/", (302, 403, 403, 200, 403)),
    # The API answers a session (or none) with 401: only a bearer token authorizes it.
    ("GET", "/api/v1/terms", (401, 401, 401, 401, 401)),
    ("GET", "/api/v1/courses/{course}/roster", (401, 401, 401, 401, 401)),
    ("GET", "/api/v1/students/me/schedule", (401, 401, 401, 401, 401)),
    ("POST", "/api/v1/courses/{course}/enrollments", (401, 401, 401, 401, 401)),
    ("DELETE", "/api/v1/courses/{course}/enrollments/me", (401, 401, 401, 401, 401)),
    ("GET", "/api/v1/openapi.json", (200, 200, 200, 200, 200)),
    # OneRoster: a bearer access token only; the session cookie never authorizes.
    ("GET", "/ims/oneroster/v1p1/classes", (401, 401, 401, 401, 401)),
    ("GET", "/ims/oneroster/v1p1/users", (401, 401, 401, 401, 401)),
    ("GET", "/ims/oneroster/v1p1/enrollments", (401, 401, 401, 401, 401)),
    ("POST", "/oauth/token", (401, 401, 401, 401, 401)),
    ("GET", "/api/docs", (200, 200, 200, 200, 200)),
    ("GET", "/auth/login", (200, 302, 302, 302, 302)),
    ("GET", "/auth/register", (200, 302, 302, 302, 302)),
    ("POST", "/auth/logout", (303, 303, 303, 303, 303)),
    ("GET", "/auth/logout", (405, 405, 405, 405, 405)),
]


@pytest.fixture
def world(make_student, make_staff, make_course):
    student = make_student(name="Student One")
    other = make_student(name="Student Two")
    staff = make_staff()
    instructor = make_user(role=Role.INSTRUCTOR, name="Ines Instructor")
    course = make_course(code="MINE101", title="Mine")
    taught = make_course(code="TAUGHT1", instructor_id=instructor.id)
    enroll(student, course)
    db.session.commit()
    return {"student": student.user, "other_student": other.user, "staff": staff,
            "instructor": instructor, "course": course.id, "taught": taught.id,
            "student_id": student.id}


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(role, client, login, world):
    """Every route in MATRIX order for one role (one app per role keeps this fast)."""
    if role != "anonymous":
        login(world[role])
    wrong = []
    for method, path, expected in MATRIX:
        url = path.format(course=world["course"], taught=world["taught"])
        response = client.open(url, method=method)
        want = expected[ROLES.index(role)]
        if response.status_code != want:
            wrong.append(f"{method} {url}: {response.status_code}, expected {want}")
        elif want in (302, 303) and role == "anonymous" and (
                "/me/" in url or url.endswith(("/enroll", "/drop", "/accept", "/decline"))):
            assert response.headers["Location"].startswith("/auth/login?next=")
    assert wrong == []


def test_other_student_sees_only_their_own_data(client, login, world):
    login(world["other_student"])
    schedule = client.get("/me/schedule").text
    assert "MINE101" not in schedule and "Student One" not in schedule
    assert "Student Two" in schedule
    assert "MINE101" not in client.get("/me/schedule.ics").text
    # Query strings do not select another student.
    for url in [f"/me/schedule?student_id={world['student_id']}",
                f"/me/schedule.ics?id={world['student_id']}"]:
        body = client.get(url).text
        assert "MINE101" not in body and "Student One" not in body, url
    course_page = client.get(f"/courses/{world['course']}").text
    assert "You are enrolled" not in course_page
    # Dropping someone else's course drops nothing.
    response = client.post(f"/courses/{world['course']}/drop")
    assert "could not drop" in flashes(client.get(response.headers["Location"]).text)[0]
    link = db.session.scalar(select(Enrollment))
    assert (link.student.user.name, link.status) == ("Student One", Status.ENROLLED)


def _token_from(client, url):
    html = client.get(url).text
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def _links():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Enrollment))


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_csrf_register(client):
    data = {"name": "Ada", "email": "ada@example.edu", "password": "analytical-42",
            "confirm": "analytical-42"}
    response = client.post("/auth/register", data=data)
    assert response.status_code == 400
    assert "CSRF" in response.text
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    data["csrf_token"] = _token_from(client, "/auth/register")
    assert client.post("/auth/register", data=data).status_code == 303


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_csrf_login(client, make_student):
    make_student(email="bob@example.edu")
    db.session.commit()
    data = {"email": "bob@example.edu", "password": PASSWORD}
    assert client.post("/auth/login", data=data).status_code == 400
    assert client.get("/me/schedule").status_code == 302  # still anonymous
    data["csrf_token"] = _token_from(client, "/auth/login")
    assert client.post("/auth/login", data=data).status_code == 303
    assert client.get("/me/schedule").status_code == 200


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_csrf_logout(client, login, world):
    login(world["student"])
    assert client.post("/auth/logout").status_code == 400
    assert client.get("/me/schedule").status_code == 200  # still logged in
    token = _token_from(client, "/courses")
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/me/schedule").status_code == 302


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_csrf_enroll_and_drop(client, login, world, make_course):
    login(world["student"])
    other_course = make_course()
    db.session.commit()
    course_id, other_id = world["course"], other_course.id
    assert client.post(f"/courses/{other_id}/enroll").status_code == 400
    assert client.post(f"/courses/{other_id}/enroll",
                       data={"csrf_token": "forged"}).status_code == 400
    assert client.post(f"/courses/{course_id}/drop").status_code == 400
    assert _links() == 1
    token = _token_from(client, f"/courses/{other_id}")
    assert client.post(f"/courses/{other_id}/enroll",
                       data={"csrf_token": token}).status_code == 303
    token = _token_from(client, f"/courses/{course_id}")
    assert client.post(f"/courses/{course_id}/drop",
                       data={"csrf_token": token}).status_code == 303
    assert _links() == 1  # one added, one dropped


def _post_routes(app):
    return [rule for rule in app.url_map.iter_rules() if "POST" in rule.methods]


def _fill(rule, course_id) -> str:
    values = {"course_id": course_id, "op": "drop", "permission_id": 1, "path": "classes"}
    url = rule.rule
    for arg in rule.arguments:
        url = re.sub(rf"<(?:[^:>]+:)?{arg}(?:\([^)]*\))?>", str(values[arg]), url)
    return url


def _counts():
    db.session.commit()
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (User, Course, Enrollment, EnrollmentEvent, Term, Department))


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_every_post_route_refuses_a_missing_or_foreign_csrf_token(app, client, login, world):
    """Every POST route of the app, the admin's included, as staff (who may use them all).
    The student's own routes are tried without and with a token above."""
    login(world["staff"])
    rowid = iterencode([world["student_id"], world["course"]])
    # A valid token, but from another browser's session.
    foreign = _token_from(app.test_client(), "/auth/login")
    routes = _post_routes(app)
    assert len(routes) >= 40  # the admin's routes are there too
    before = _counts()
    for rule in routes:
        url = _fill(rule, world["course"])
        for extra in ({}, {"csrf_token": foreign}, {"csrf_token": "x" * 5000}):
            data = {"id": world["course"], "rowid": rowid, "action": "delete", "code": "NEW1",
                    "name": "New", "email": "n@example.edu", "password": PASSWORD,
                    "confirm": PASSWORD, "kind": "terms", "payload": "x", **extra}
            response = client.post(url, data=data)
            # The API takes no cookie and no CSRF token: a session alone is 401 there.
            # Nor does the OneRoster token endpoint (client credentials): 401 without them.
            expected = 401 if url.startswith(("/api/", "/oauth/token", "/ims/")) else 400
            assert response.status_code == expected, (url, extra.keys(), response.status_code)
    assert _counts() == before
    # Still logged in: the logout without a token did nothing.
    assert client.get("/admin/").status_code == 200
