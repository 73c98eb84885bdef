"""Every admin URL is staff only: anonymous → login page, students and instructors → 403,
staff → served."""
from __future__ import annotations

import pytest

from enrollment.extensions import db
from enrollment.models import Course, Role, WebhookDelivery, WebhookEndpoint
from enrollment.services.webhooks import new_secret
from tests.admin_support import staff_client_fixture, staff_fixture  # noqa: F401
from tests.factories import make_user

MODEL_VIEWS = ["course", "student", "enrollment", "term", "department", "user", "audit",
               "reservation", "outbox", "webhook", "webhook_delivery"]


def _urls(ids):
    gets = ["/admin/", "/admin/import/"]
    for view in MODEL_VIEWS:
        gets += [f"/admin/{view}/", f"/admin/{view}/export/csv/", f"/admin/{view}/export/xlsx/"]
    gets += ["/admin/course/new/", f"/admin/course/edit/?id={ids['course']}",
             "/admin/student/new/", f"/admin/student/edit/?id={ids['student']}",
             f"/admin/term/edit/?id={ids['term']}", f"/admin/user/edit/?id={ids['user']}",
             f"/admin/course/roster/?id={ids['course']}",
             f"/admin/course/roster/?id={ids['course']}&q=someone",
             f"/admin/course/roster/add/?id={ids['course']}&student={ids['student']}",
             "/admin/course/ajax/lookup/?name=prerequisites&query=a",
             "/admin/student/ajax/lookup/?name=courses&query=a",
             "/admin/enrollment/ajax/lookup/?name=courses&query=a",
             "/admin/webhook/new/", f"/admin/webhook/edit/?id={ids['webhook']}",
             f"/admin/webhook/rotate/?id={ids['webhook']}",
             f"/admin/webhook_delivery/details/?id={ids['webhook_delivery']}"]
    posts = [f"/admin/{view}/action/" for view in MODEL_VIEWS]
    posts += [f"/admin/{view}/delete/" for view in MODEL_VIEWS]
    posts += ["/admin/student/bulk/enroll/", "/admin/enrollment/bulk/drop/",
              "/admin/enrollment/bulk/promote/", "/admin/enrollment/bulk/move/",
              "/admin/enrollment/bulk/complete/", "/admin/import/preview", "/admin/import/apply",
              f"/admin/course/edit/?id={ids['course']}", "/admin/course/new/",
              "/admin/webhook/new/", f"/admin/webhook/rotate/?id={ids['webhook']}"]
    posts += [f"/admin/course/roster/{op}/?id={ids['course']}&student={ids['student']}"
              for op in ("add", "drop", "promote", "move", "complete")]
    return gets, posts


# The student whose data the refused pages must not show (staff see it on most of them).
NAME, EMAIL = "Someone Else", "someone.else@example.edu"


@pytest.fixture
def ids(make_course, make_student, staff):
    course = make_course()
    student = make_student(name=NAME, email=EMAIL)
    endpoint = WebhookEndpoint(url="https://hooks.example.com/in", secret=new_secret())
    delivery = WebhookDelivery(endpoint=endpoint, event_type="enrollment.created",
                               body=f'{{"student_number": "{student.student_number}"}}')
    db.session.add_all([endpoint, delivery])
    db.session.commit()
    return {"course": course.id, "student": student.id, "term": course.term_id,
            "user": student.user_id, "webhook": endpoint.id, "webhook_delivery": delivery.id}


def _shows_no_student(response) -> bool:
    return NAME.encode() not in response.data and EMAIL.encode() not in response.data


def test_anonymous_is_sent_to_login_everywhere(client, ids):
    gets, posts = _urls(ids)
    for url in gets:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/auth/login"), url
        assert _shows_no_student(response), url
    for url in posts:
        response = client.post(url, data={"rowid": "1", "action": "delete"})
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/auth/login"), url


# Users who are not staff, each refused everywhere: a student, and an instructor who teaches
# the course the admin's URLs name.
REFUSED_ROLES = ["student", "instructor"]


@pytest.mark.parametrize("role", REFUSED_ROLES)
def test_non_staff_get_403_everywhere(client, login, make_student, ids, role):
    student = make_student()
    user = student.user
    if role == "instructor":
        user = make_user(role=Role.INSTRUCTOR)
        db.session.get(Course, ids["course"]).instructor_id = user.id
    db.session.commit()
    login(user)
    gets, posts = _urls(ids)
    # Details pages are switched off for staff (a redirect), but the route exists.
    for url in [*gets, f"/admin/student/details/?id={ids['student']}"]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert _shows_no_student(response), url
    for url in posts:
        assert client.post(url, data={"rowid": "1", "action": "delete"}).status_code == 403, url
    # Nothing was deleted by the refused posts.
    assert db.session.get(type(student), ids["student"]) is not None


def test_staff_are_served_everywhere(staff_client, ids):
    gets, _ = _urls(ids)
    for url in gets:
        response = staff_client.get(url)
        assert response.status_code == 200, url
    # The student the others must not see is on the staff's pages (the checks above can fail).
    assert not _shows_no_student(staff_client.get("/admin/student/"))
    assert not _shows_no_student(staff_client.get("/admin/user/export/csv/"))


def test_inactive_staff_are_treated_as_anonymous(client, login, staff):
    staff.active = False
    db.session.commit()
    login(staff)
    assert client.get("/admin/").status_code == 302


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_admin_forms_carry_csrf_tokens_and_posts_without_them_fail(staff_client, ids,
                                                                   make_course):
    empty = make_course()
    db.session.commit()
    page = staff_client.get("/admin/course/").get_data(as_text=True)
    # The list's delete buttons and the actions form both carry the token.
    assert page.count('name="csrf_token"') >= 3
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0] \
        if 'name="csrf_token" type="hidden" value="' in page else \
        page.split('name="csrf_token" value="')[1].split('"')[0]
    edit = staff_client.get(f"/admin/course/edit/?id={ids['course']}").get_data(as_text=True)
    assert 'name="csrf_token"' in edit

    refused = staff_client.post("/admin/course/delete/", data={"id": empty.id})
    assert refused.status_code == 400
    db.session.expire_all()
    assert db.session.get(type(empty), empty.id) is not None

    accepted = staff_client.post("/admin/course/delete/",
                                 data={"id": empty.id, "csrf_token": token})
    assert accepted.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(empty), empty.id) is None
