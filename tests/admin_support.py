"""Helpers shared by the admin tests (tests/test_admin_*.py)."""
from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from enrollment.extensions import db
from enrollment.models import Enrollment, EnrollmentEvent, Role, Student, User


# Fixtures: test modules import them (`from tests.admin_support import staff_fixture, ...`);
# the `name=` keeps the imported names apart from the test arguments.
@pytest.fixture(name="staff")
def staff_fixture(make_staff):
    return make_staff(email="registrar@example.edu")


@pytest.fixture(name="staff_client")
def staff_client_fixture(client, login, staff):
    db.session.commit()
    return login(staff)


def links() -> dict[tuple[int, int], str]:
    """{(student_id, course_id): status} of every enrollment row."""
    db.session.commit()  # end any read snapshot (SQLite WAL) and see every committed change
    return {(e.student_id, e.course_id): str(e.status)
            for e in db.session.scalars(select(Enrollment))}


def events() -> list[EnrollmentEvent]:
    return list(db.session.scalars(select(EnrollmentEvent).order_by(EnrollmentEvent.id)))


def course_form(course, **overrides) -> dict:
    """The POST data of the course edit form for `course`, with changes."""
    data = {
        "term": course.term_id, "department": course.department_id, "code": course.code,
        "title": course.title, "description": course.description or "",
        "credits": course.credits, "capacity": course.capacity,
        "waitlist_capacity": course.waitlist_capacity, "instructor": course.instructor,
        "instructor_user": course.instructor_id or "",
        "days": course.days, "start_time": course.start_time.strftime("%H:%M")
        if course.start_time else "", "end_time": course.end_time.strftime("%H:%M")
        if course.end_time else "", "location": course.location,
        "prerequisites": ",".join(str(p.id) for p in course.prerequisites),
        "corequisites": ",".join(str(c.id) for c in course.corequisites),
        "students": ",".join(str(s.id) for s in course.students),
    }
    data.update(overrides)
    return data


def student_form(student, **overrides) -> dict:
    data = {"student_number": student.student_number, "name": student.user.name,
            "email": student.user.email, "program": student.program,
            "max_credits": student.max_credits,
            "courses": ",".join(str(c.id) for c in student.courses)}
    data.update(overrides)
    return data


def bulk_insert_students(n: int, prefix: str = "bulk") -> None:
    """Insert `n` users with student profiles using Core inserts (fast for big tables)."""
    start = (db.session.scalar(select(db.func.max(User.id))) or 0) + 1
    db.session.execute(insert(User), [
        {"id": start + i, "email": f"{prefix}{i}@example.edu", "name": f"Bulk Student {i:05d}",
         "role": Role.STUDENT, "active": True} for i in range(n)])
    db.session.execute(insert(Student), [
        {"user_id": start + i, "student_number": f"{prefix.upper()}{i:07d}",
         "program": "History", "max_credits": 18} for i in range(n)])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # Explicit ids bypassed the sequence; move it past them.
        db.session.execute(db.text(
            "SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users))"))
        db.session.commit()
