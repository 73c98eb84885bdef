"""Any row count works: an enrollments file of 70,000 rows (more than PostgreSQL's 65,535 and
SQLite's 32,766 parameters per statement, which one IN list per file once needed)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from enrollment.cli.imports import import_csv
from enrollment.extensions import db
from enrollment.models import Enrollment, EnrollmentEvent, Student, User
from tests.factories import NOW, make_course, make_term

pytestmark = pytest.mark.slow

STUDENTS = 35_000  # each in two courses: 70,000 rows


def test_an_enrollments_file_of_70000_rows_imports(app, runner, tmp_path):
    term = make_term(code="BIG27")
    courses = [make_course(term=term, code=code, capacity=STUDENTS, credits=1)
               for code in ("BIG1", "BIG2")]
    db.session.commit()
    db.session.execute(sa.insert(User), [
        {"email": f"big{i}@example.edu", "name": f"Big {i}", "role": "student",
         "active": True, "created_at": NOW, "session_token": f"t{i}"} for i in range(STUDENTS)])
    user_ids = dict(db.session.execute(select(User.email, User.id)).all())
    db.session.execute(sa.insert(Student), [
        {"user_id": user_ids[f"big{i}@example.edu"], "student_number": f"N{i:06d}",
         "program": "History", "max_credits": 18} for i in range(STUDENTS)])
    db.session.commit()
    lines = ["term,code,student_number"] + [
        f"BIG27,{course.code},N{i:06d}" for course in courses for i in range(STUDENTS)]
    path = tmp_path / "enrollments.csv"
    path.write_text("\n".join(lines) + "\n")

    result = runner.invoke(import_csv, ["enrollments", str(path)])

    assert result.exit_code == 0, result.output[-2000:]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 2 * STUDENTS
    assert db.session.scalar(select(func.count()).select_from(EnrollmentEvent)) == 2 * STUDENTS
