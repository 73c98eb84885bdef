"""Courses CSV column `instructor_email`: the account that teaches a course (an instructor's),
the display name from it when the `instructor` cell is empty, and line errors otherwise."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from enrollment.cli.imports import import_csv
from enrollment.extensions import db
from enrollment.models import Course, Role
from tests.factories import make_user

HEADER = "term,code,title,department,credits,capacity,instructor,instructor_email\n"


@pytest.fixture
def run(runner, tmp_path, make_term):
    make_term(code="2027SP")
    make_user(role=Role.INSTRUCTOR, name="Ines Instructor", email="ines@example.edu")
    make_user(role=Role.STUDENT, name="Stu Dent", email="stu@example.edu")
    make_user(role=Role.STAFF, name="Riley", email="riley@example.edu")
    db.session.commit()

    def _run(content):
        path = tmp_path / "courses.csv"
        path.write_text(content, encoding="utf-8")
        result = runner.invoke(import_csv, ["courses", str(path)])
        assert "Traceback" not in result.output
        db.session.expire_all()
        return result
    return _run


def courses() -> dict[str, Course]:
    return {c.code: c for c in db.session.scalars(
        sa.select(Course).options(sa.orm.joinedload(Course.instructor_user)))}


def test_an_instructor_account_teaches_with_its_name_or_the_cell(run):
    result = run(HEADER + "2027SP,A1,Alpha,CS,3,10,,INES@example.edu\n"
                          "2027SP,B1,Beta,CS,3,10,Prof. I. Instructor,ines@example.edu\n"
                          "2027SP,C1,Gamma,CS,3,10,Dr. Nobody,\n")
    assert result.exit_code == 0, result.output
    found = courses()
    assert found["A1"].instructor_user.email == "ines@example.edu"
    assert found["A1"].instructor == "Ines Instructor"  # the empty cell: the user's name
    assert found["B1"].instructor == "Prof. I. Instructor"  # the cell wins when given
    assert found["C1"].instructor_id is None and found["C1"].instructor == "Dr. Nobody"


def test_an_empty_email_takes_the_account_away_on_update(run):
    assert run(HEADER + "2027SP,A1,Alpha,CS,3,10,,ines@example.edu\n").exit_code == 0
    result = run(HEADER + "2027SP,A1,Alpha,CS,3,10,Dr. Guest,\n")
    assert result.exit_code == 0, result.output
    course = courses()["A1"]
    assert course.instructor_id is None and course.instructor == "Dr. Guest"


def test_a_file_without_the_column_keeps_the_account(run):
    assert run(HEADER + "2027SP,A1,Alpha,CS,3,10,,ines@example.edu\n").exit_code == 0
    result = run("term,code,title,department,credits,capacity\n2027SP,A1,Alpha 2,CS,3,10\n")
    assert result.exit_code == 0, result.output
    course = courses()["A1"]
    assert course.title == "Alpha 2" and course.instructor_user.email == "ines@example.edu"


def test_unknown_or_non_instructor_emails_are_line_errors_and_nothing_is_written(run):
    result = run(HEADER + "2027SP,A1,Alpha,CS,3,10,,ines@example.edu\n"
                          "2027SP,B1,Beta,CS,3,10,,nobody@example.edu\n"
                          "2027SP,C1,Gamma,CS,3,10,,stu@example.edu\n"
                          "2027SP,D1,Delta,CS,3,10,,riley@example.edu\n")
    assert result.exit_code == 1
    assert ("line 3: instructor_email: no account has the email nobody@example.edu"
            in result.stderr)
    assert "line 4: instructor_email: stu@example.edu is a student account, not an " \
           "instructor's" in result.stderr
    assert "line 5: instructor_email: riley@example.edu is a staff account" in result.stderr
    assert "nothing was imported" in result.stderr
    assert courses() == {}
