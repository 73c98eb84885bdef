"""Test data factories: sensible defaults, `**overrides` for what a test cares about."""
from __future__ import annotations

import functools
import itertools
from datetime import UTC, date, datetime, time

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from enrollment.extensions import db
from enrollment.models import (
    Course,
    Department,
    Enrollment,
    Role,
    Source,
    Status,
    Student,
    Term,
    User,
)

# The frozen "now" of the test suite: term 2027SP's enrollment window is open.
NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
PASSWORD = "correct-horse-42"

_seq = itertools.count(1)


def _n() -> int:
    return next(_seq)


def make_department(**overrides) -> Department:
    n = _n()
    values = {"code": f"D{n}", "name": f"Department {n}"}
    values.update(overrides)
    dept = Department(**values)
    db.session.add(dept)
    db.session.flush()
    return dept


def make_term(**overrides) -> Term:
    n = _n()
    values = {
        "code": f"T{n}",
        "name": f"Term {n}",
        "enrollment_opens": datetime(2027, 1, 1, tzinfo=UTC),
        "enrollment_closes": datetime(2027, 1, 31, 23, 59, tzinfo=UTC),
        "drop_deadline": datetime(2027, 2, 15, 23, 59, tzinfo=UTC),
        "classes_start": date(2027, 2, 1),
        "classes_end": date(2027, 5, 14),
    }
    values.update(overrides)
    term = Term(**values)
    db.session.add(term)
    db.session.flush()
    return term


def make_course(**overrides) -> Course:
    n = _n()
    if "term" not in overrides and "term_id" not in overrides:
        overrides["term"] = make_term()
    if "department" not in overrides and "department_id" not in overrides:
        overrides["department"] = make_department()
    values = {
        "code": f"C{n:03d}",
        "title": f"Course {n}",
        "credits": 3,
        "capacity": 30,
        "waitlist_capacity": 10,
        "days": "",
        "start_time": None,
        "end_time": None,
        "instructor": "Dr. Test",
        "location": "Room 1",
    }
    values.update(overrides)
    course = Course(**values)
    db.session.add(course)
    db.session.flush()
    return course


def at(hhmm: str) -> time:
    hours, minutes = hhmm.split(":")
    return time(int(hours), int(minutes))


@functools.cache
def _password_hash() -> str:
    return generate_password_hash(PASSWORD)


def make_user(**overrides) -> User:
    n = _n()
    password = overrides.pop("password", PASSWORD)
    values = {"email": f"user{n}@example.edu", "name": f"User {n}", "role": Role.STUDENT}
    values.update(overrides)
    user = User(**values)
    if password == PASSWORD:  # hashing is slow by design: hash the common password once
        user.password_hash = _password_hash()
    elif password:
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def make_student(**overrides) -> Student:
    n = _n()
    user_fields = {k: overrides.pop(k) for k in ("email", "name", "password", "active")
                   if k in overrides}
    user = overrides.pop("user", None) or make_user(**user_fields)
    values = {"student_number": f"S{n:07d}", "program": "Computer Science", "max_credits": 18}
    values.update(overrides)
    student = Student(user=user, **values)
    db.session.add(student)
    db.session.flush()
    return student


def make_staff(**overrides) -> User:
    overrides.setdefault("role", Role.STAFF)
    overrides.setdefault("name", "Registrar Staff")
    return make_user(**overrides)


def make_enrollment(**overrides) -> Enrollment:
    """A row of `enrollments` written as it is, past the rules (no capacity check, no audit
    event): for tests of the model and the database constraints. Set enrollments up through
    `enrollment.services` (tests/web_helpers.py) when the rules matter.

    A waitlisted row goes to the end of its course's waitlist unless `waitlist_seq` is given;
    a completed one gets grade "A"; `at` sets all three timestamps (default: `NOW`).
    """
    if "student" not in overrides and "student_id" not in overrides:
        overrides["student"] = make_student()
    if "course" not in overrides and "course_id" not in overrides:
        overrides["course"] = make_course()
    moment = overrides.pop("at", NOW)
    status = Status(overrides.setdefault("status", Status.ENROLLED))
    if status is Status.WAITLISTED and "waitlist_seq" not in overrides:
        course_id = overrides.get("course_id") or overrides["course"].id
        last = db.session.scalar(select(func.max(Enrollment.waitlist_seq))
                                 .where(Enrollment.course_id == course_id))
        overrides["waitlist_seq"] = (last or 0) + 1
    values = {"source": Source.SELF, "grade": "A" if status is Status.COMPLETED else None,
              "created_at": moment, "status_changed_at": moment, "updated_at": moment}
    values.update(overrides)
    enrollment = Enrollment(**values)
    db.session.add(enrollment)
    db.session.flush()
    return enrollment
