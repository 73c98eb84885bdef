"""`/teach/`: an instructor's courses, a course's roster, waitlist and permissions, the grant
and revoke POSTs (303 with a message; refused input stores nothing; CSRF required), the
landing page after login and the navigation link."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from enrollment.extensions import db
from enrollment.models import Permission, Role
from tests.factories import PASSWORD, make_user
from tests.web_helpers import enroll, flashes, text


@pytest.fixture
def school(make_term, make_course, make_student):
    """An instructor teaching a full course (one enrolled, one waitlisted) and a second
    course in another term; a course of someone else; a student without a seat."""
    instructor = make_user(role=Role.INSTRUCTOR, name="Ines Instructor",
                           email="ines@example.edu")
    other = make_user(role=Role.INSTRUCTOR, name="Otto Other")
    term, past = make_term(code="2027SP", name="Spring 2027"), make_term(code="2026FA")
    course = make_course(code="MINE1", title="Mine", term=term, capacity=1,
                         waitlist_capacity=1, instructor_id=instructor.id)
    old = make_course(code="OLD1", term=past, instructor_id=instructor.id)
    theirs = make_course(code="THEIRS1", term=term, instructor_id=other.id)
    seated, waiting = make_student(name="Sam Seated"), make_student(name="Wanda Waiting")
    enroll(seated, course)
    enroll(waiting, course)
    enroll(make_student(name="Theo Theirs"), theirs)
    applicant = make_student(name="Pat Applicant", student_number="S9000001")
    db.session.commit()
    return {"instructor": instructor, "other": other, "course": course, "old": old,
            "theirs": theirs, "applicant": applicant, "waiting": waiting}


def stored() -> list[Permission]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Permission).order_by(Permission.id)))


def post_grant(client, course_id, **data):
    data.setdefault("student_number", "S9000001")
    data.setdefault("rules", ["capacity"])
    data.setdefault("reason", "Lab partner")
    return client.post(f"/teach/courses/{course_id}/permissions", data=data)


def test_an_instructor_sees_only_their_courses(client, login, school):
    login(school["instructor"])
    page = text(client.get("/teach/?term=all").get_data(as_text=True))
    assert "MINE1" in page and "OLD1" in page and "THEIRS1" not in page
    assert "2 courses" in page
    current = text(client.get("/teach/?term=2026FA").get_data(as_text=True))
    assert "OLD1" in current and "MINE1" not in current


def test_staff_see_every_course_filtered_by_term(client, login, make_staff, school):
    login(make_staff())
    page = text(client.get("/teach/?term=2027SP").get_data(as_text=True))
    assert "MINE1" in page and "THEIRS1" in page and "OLD1" not in page
    bad = client.get("/teach/?term=NOPE&page=99999")
    assert bad.status_code == 200 and "There is no term" in bad.get_data(as_text=True)


def test_the_course_page_shows_roster_waitlist_permissions_and_report_links(
        client, login, school):
    login(school["instructor"])
    course = school["course"]
    post_grant(client, course.id)
    html = client.get(f"/teach/courses/{course.id}").get_data(as_text=True)
    page = text(html)
    assert "Enrolled (1)" in page and "Sam Seated" in page
    assert "Waitlist (1)" in page and "Wanda Waiting" in page
    assert re.search(r"<td class=\"text-right\">1</td><td>S\d+</td><td>Wanda Waiting", html)
    assert "Pat Applicant (S9000001)" in page and "active" in page and "Lab partner" in page
    for suffix in ("roster", "roster.csv", "roster.xlsx"):
        assert f'href="/reports/courses/{course.id}/{suffix}"' in html
    assert 'name="rules" value="capacity"' in html
    assert 'name="rules" value="corequisites"' in html and "Not offered" not in page
    assert "Theo Theirs" not in page
    assert client.get(f"/reports/courses/{course.id}/roster").status_code == 200


def test_grant_then_the_student_enrolls_past_the_full_course(client, login, school):
    login(school["instructor"])
    course = school["course"]
    response = post_grant(client, course.id, rules=["capacity", "prerequisites"])
    assert response.status_code == 303
    assert response.headers["Location"] == f"/teach/courses/{course.id}"
    message = flashes(client.get(response.headers["Location"]))[0]
    assert "Pat Applicant (S9000001) may now enroll in MINE1 past: capacity, prerequisites" \
        in message
    (permission,) = stored()
    assert permission.granted_by_id == school["instructor"].id
    assert permission.rules == "capacity prerequisites" and permission.reason == "Lab partner"

    student_client = client.application.test_client()
    login(school["applicant"].user, student_client)
    response = student_client.post(f"/courses/{course.id}/enroll")
    assert "You are enrolled" in flashes(student_client.get(response.headers["Location"]))[0]
    assert stored()[0].state == "used"
    page = text(client.get(f"/teach/courses/{course.id}").get_data(as_text=True))
    assert "Enrolled (2)" in page and "used" in page


@pytest.mark.parametrize(("data", "message"), [
    ({"student_number": "NOPE1"}, "there is no student with number NOPE1"),
    ({"student_number": ""}, "Student number: is required"),
    ({"student_number": "has space"}, "is not a student number"),
    ({"rules": ["fly"]}, "Unknown rule 'fly'"),
    ({"rules": []}, "Choose at least one rule"),
    ({"reason": "  "}, "Reason: is required"),
    ({"reason": "x" * 501}, "Reason: is longer than 500 characters"),
    ({"reason": "\x00\x01"}, "A reason is required"),  # control characters are no reason
])
def test_refused_grants_say_why_and_store_nothing(client, login, school, data, message):
    login(school["instructor"])
    response = post_grant(client, school["course"].id, **data)
    assert response.status_code == 303
    shown = flashes(client.get(response.headers["Location"]))
    assert shown and "No permission granted" in shown[0] and message in shown[0], shown
    assert stored() == []


def test_revoke_before_use(client, login, school):
    login(school["instructor"])
    course = school["course"]
    assert "may now enroll" in flashes(client.get(post_grant(client, course.id).location))[0]
    (permission,) = stored()
    response = client.post(f"/teach/courses/{course.id}/permissions/{permission.id}/revoke")
    assert response.status_code == 303
    assert "is revoked" in flashes(client.get(response.headers["Location"]))[0]
    assert stored()[0].state == "revoked"
    again = client.post(f"/teach/courses/{course.id}/permissions/{permission.id}/revoke")
    assert "revoked already" in flashes(client.get(again.headers["Location"]))[0]
    # A permission of this course, asked for through another course's URL, is not found.
    old = school["old"]
    assert client.post(f"/teach/courses/{old.id}/permissions/{permission.id}/revoke"
                       ).status_code == 404


def test_another_instructor_can_neither_see_nor_grant_nor_revoke(client, login, school):
    login(school["instructor"])
    course = school["course"]
    post_grant(client, course.id)
    (permission,) = stored()
    login(school["other"])
    assert client.get(f"/teach/courses/{course.id}").status_code == 403
    assert post_grant(client, course.id, student_number="S9000001").status_code == 403
    assert client.post(f"/teach/courses/{course.id}/permissions/{permission.id}/revoke"
                       ).status_code == 403
    for suffix in ("roster", "roster.csv", "roster.xlsx"):
        assert client.get(f"/reports/courses/{course.id}/{suffix}").status_code == 403
    assert [p.state for p in stored()] == ["active"]


def _token(client, url):
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get(url).get_data(as_text=True))
    assert match, url
    return match.group(1)


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_csrf_is_required_on_grant_and_revoke(client, login, school):
    login(school["instructor"])
    course = school["course"]
    assert post_grant(client, course.id).status_code == 400
    assert post_grant(client, course.id, csrf_token="forged").status_code == 400
    assert stored() == []
    token = _token(client, f"/teach/courses/{course.id}")
    assert post_grant(client, course.id, csrf_token=token).status_code == 303
    (permission,) = stored()
    url = f"/teach/courses/{course.id}/permissions/{permission.id}/revoke"
    assert client.post(url).status_code == 400
    assert stored()[0].state == "active"
    assert client.post(url, data={"csrf_token": token}).status_code == 303
    assert stored()[0].state == "revoked"


def test_an_instructor_lands_on_teach_and_sees_the_teaching_link(client, school):
    response = client.post("/auth/login", data={"email": "ines@example.edu",
                                                "password": PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/teach/"
    html = client.get("/teach/").get_data(as_text=True)
    assert 'href="/teach/"' in html and ">Teaching</a>" in html
    assert 'href="/admin/"' not in html and "My schedule" not in html
    # Not a student: the student-only pages are refused, the catalog offers no enroll button.
    assert client.get("/me/schedule").status_code == 403
    course = school["course"]
    assert f'action="/courses/{course.id}/enroll"' not in client.get(
        f"/courses/{course.id}").get_data(as_text=True)


def test_an_instructor_with_a_student_profile_is_not_a_student(client, login, school):
    user = school["applicant"].user
    user.role = Role.INSTRUCTOR
    db.session.commit()
    login(user)
    assert client.get("/me/schedule").status_code == 403
    assert client.post(f"/courses/{school['course'].id}/enroll").status_code == 403


def test_students_and_staff_see_the_teaching_link_as_their_role_says(client, login, school,
                                                                     make_staff):
    login(school["applicant"].user)
    assert 'href="/teach/"' not in client.get("/courses").get_data(as_text=True)
    login(make_staff())
    assert 'href="/teach/"' in client.get("/courses").get_data(as_text=True)


def test_the_course_page_runs_a_fixed_number_of_queries(client, login, school, make_student,
                                                        count_queries):
    login(school["instructor"])
    course = school["course"]
    counts = []
    for extra in (1, 8):
        for _ in range(extra):
            student = make_student()
            db.session.commit()
            post_grant(client, course.id, student_number=student.student_number)
            db.session.commit()
        with count_queries() as q:
            page = client.get(f"/teach/courses/{course.id}")
        assert page.status_code == 200
        assert page.get_data(as_text=True).count('class="permission-active"') == len(stored())
        counts.append(q.count)
    assert len(stored()) == 9 and counts[0] == counts[1]


def test_the_course_page_sends_its_instructor_to_teach(client, login, school):
    login(school["instructor"])
    mine = client.get(f"/courses/{school['course'].id}").text
    assert "Instructor accounts do not enroll." in mine
    assert f'href="/teach/courses/{school["course"].id}"' in mine
    theirs = client.get(f"/courses/{school['theirs'].id}").text
    assert "Instructor accounts do not enroll." in theirs
    assert "/teach/courses/" not in theirs
