"""Helpers for the API tests: a school with a token of each kind, and authorized requests."""
from __future__ import annotations

from dataclasses import dataclass

from enrollment.api import tokens
from enrollment.extensions import db
from enrollment.models import Role
from tests import factories
from tests.factories import NOW


@dataclass
class School:
    term: object
    course: object
    taught: object
    full: object
    student: object
    other: object
    staff: object
    instructor: object
    secrets: dict


def make_token(user, scopes: str, **kwargs) -> str:
    return tokens.create_token(user, scopes, now=NOW, **kwargs).secret


def make_school() -> School:
    term = factories.make_term(code="2027SP", name="Spring 2027")
    dept = factories.make_department(code="CS", name="Computer Science")
    instructor = factories.make_user(role=Role.INSTRUCTOR, email="turing@example.edu",
                                     name="Alan Turing")
    course = factories.make_course(code="CS101", title="Programming I", term=term,
                                   department=dept)
    taught = factories.make_course(code="CS201", title="Data Structures", term=term,
                                   department=dept, instructor_id=instructor.id)
    full = factories.make_course(code="CS301", title="Algorithms", term=term, department=dept,
                                 capacity=1, waitlist_capacity=0)
    student = factories.make_student(email="ada@example.edu", name="Ada Lovelace",
                                     student_number="S1")
    other = factories.make_student(email="grace@example.edu", name="Grace Hopper",
                                   student_number="S2")
    staff = factories.make_staff(email="registrar@example.edu")
    secrets = {
        "staff": make_token(staff, "read,enroll,roster,admin", name="SIS sync"),
        "staff_enroll": make_token(staff, "read,enroll"),
        "staff_read": make_token(staff, "read"),
        "student": make_token(student.user, "read,enroll", name="Student app"),
        "student_read": make_token(student.user, "read"),
        "other": make_token(other.user, "read,enroll"),
        "instructor": make_token(instructor, "read,roster", name="LMS"),
    }
    db.session.commit()
    return School(term, course, taught, full, student, other, staff, instructor, secrets)


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}
