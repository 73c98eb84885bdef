"""Who may do what on the student site, CSRF on every POST, and students' data kept apart."""
import re

import pytest
from sqlalchemy import func, select

from enrollment.extensions import db
from enrollment.models import Enrollment, Status, User
from tests.factories import PASSWORD
from tests.web_helpers import enroll, flashes

ROLES = ["anonymous", "student", "other_student", "staff"]

# (method, path, expected status per role), tried in this order (logout last).
# {course} is a course the student is enrolled in.
MATRIX = [
    ("GET", "/", (302, 302, 302, 302)),
    ("GET", "/courses", (200, 200, 200, 200)),
    ("GET", "/courses?q=x&term=nope&page=-1", (200, 200, 200, 200)),
    ("GET", "/courses/{course}", (200, 200, 200, 200)),
    ("GET", "/courses/999999", (404, 404, 404, 404)),
    ("POST", "/courses/{course}/enroll", (303, 303, 303, 403)),
    ("POST", "/courses/{course}/drop", (303, 303, 303, 403)),
    ("POST", "/courses/999999/enroll", (303, 404, 404, 403)),
    ("GET", "/courses/{course}/enroll", (405, 405, 405, 405)),
    ("GET", "/me/schedule", (302, 200, 200, 403)),
    ("GET", "/me/schedule.ics", (302, 200, 200, 403)),
    ("GET", "/auth/login", (200, 302, 302, 302)),
    ("GET", "/auth/register", (200, 302, 302, 302)),
    ("POST", "/auth/logout", (303, 303, 303, 303)),
    ("GET", "/auth/logout", (405, 405, 405, 405)),
]


@pytest.fixture
def world(make_student, make_staff, make_course):
    student = make_student(name="Student One")
    other = make_student(name="Student Two")
    staff = make_staff()
    course = make_course(code="MINE101", title="Mine")
    enroll(student, course)
    db.session.commit()
    return {"student": student.user, "other_student": other.user, "staff": staff,
            "course": course.id}


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(role, client, login, world):
    """Every route in MATRIX order for one role (one app per role keeps this fast)."""
    if role != "anonymous":
        login(world[role])
    wrong = []
    for method, path, expected in MATRIX:
        url = path.format(course=world["course"])
        response = client.open(url, method=method)
        want = expected[ROLES.index(role)]
        if response.status_code != want:
            wrong.append(f"{method} {url}: {response.status_code}, expected {want}")
        elif want in (302, 303) and role == "anonymous" and (
                "/me/" in url or url.endswith(("/enroll", "/drop"))):
            assert response.headers["Location"].startswith("/auth/login?next=")
    assert wrong == []


def test_other_student_sees_only_their_own_data(client, login, world):
    login(world["other_student"])
    schedule = client.get("/me/schedule").text
    assert "MINE101" not in schedule and "Student One" not in schedule
    assert "Student Two" in schedule
    assert "MINE101" not in client.get("/me/schedule.ics").text
    course_page = client.get(f"/courses/{world['course']}").text
    assert "You are enrolled" not in course_page
    # Dropping someone else's course drops nothing.
    response = client.post(f"/courses/{world['course']}/drop")
    assert "could not drop" in flashes(client.get(response.headers["Location"]).text)[0]
    link = db.session.scalar(select(Enrollment))
    assert (link.student.user.name, link.status) == ("Student One", Status.ENROLLED)


def _token_from(client, url):
    html = client.get(url).text
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
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
