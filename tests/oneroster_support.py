"""Helpers for the OneRoster tests: a small school, a REST client with an access token, and
authorized reads of the provider."""
from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime

from enrollment.extensions import db
from enrollment.models import Role, Status
from enrollment.oneroster import oauth
from tests import factories
from tests.factories import NOW

PREFIX = "/ims/oneroster/v1p1"


@dataclass
class Roster:
    term: object
    other_term: object
    dept: object
    course: object  # CS101, taught by the instructor; Ada and Grace enrolled
    later: object  # CS101 again, next term (the same OneRoster course)
    other: object  # MA201, no instructor; Grace completed it, Linus waitlisted
    instructor: object
    ada: object
    grace: object
    linus: object
    client_id: str
    secret: str


def make_client(name: str = "LMS") -> tuple[str, str]:
    new = oauth.create_client(name, now=NOW)
    db.session.commit()
    return new.client.client_id, new.secret


def make_roster() -> Roster:
    term = factories.make_term(code="2027SP", name="Spring 2027",
                               drop_deadline=datetime(2100, 1, 1, tzinfo=UTC))
    other_term = factories.make_term(code="2027FA", name="Fall 2027",
                                     classes_start=datetime(2027, 9, 1).date(),
                                     classes_end=datetime(2027, 12, 15).date())
    dept = factories.make_department(code="CS", name="Computer Science")
    instructor = factories.make_user(role=Role.INSTRUCTOR, email="turing@example.edu",
                                     name="Alan Mathison Turing")
    course = factories.make_course(code="CS101", title="Programming I", term=term,
                                   department=dept, instructor_id=instructor.id)
    later = factories.make_course(code="CS101", title="Programming One", term=other_term,
                                  department=dept)
    other = factories.make_course(code="MA201", title="Linear Algebra", term=term,
                                  department=dept, location="Hall B")
    ada = factories.make_student(email="ada@example.edu", name="Ada Lovelace",
                                 student_number="S1")
    grace = factories.make_student(email="grace@example.edu", name="Grace Hopper",
                                   student_number="S2")
    linus = factories.make_student(email="linus@example.edu", name="Linus", student_number="S3")
    factories.make_enrollment(student=ada, course=course)
    factories.make_enrollment(student=grace, course=course)
    factories.make_enrollment(student=grace, course=other, status=Status.COMPLETED)
    factories.make_enrollment(student=linus, course=other, status=Status.WAITLISTED)
    db.session.commit()
    client_id, secret = make_client()
    return Roster(term, other_term, dept, course, later, other, instructor, ada, grace, linus,
                  client_id, secret)


def basic(client_id: str, secret: str) -> dict:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def access_token(http, client_id: str, secret: str) -> str:
    response = http.post("/oauth/token", data={"grant_type": "client_credentials"},
                         headers=basic(client_id, secret))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["access_token"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
