"""`flask create-user`: every kind of account, a student's profile, updates, bad input."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from enrollment.cli.users import create_user
from enrollment.extensions import db
from enrollment.models import Role, Student, User


def user(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.email == email))


def run(runner, *args, **options):
    values = {"--role": "instructor", "--email": "new@example.edu", "--name": "New Person",
              "--password": "account-pass-42"}
    values.update({f"--{k.replace('_', '-')}": v for k, v in options.items()})
    return runner.invoke(create_user, [*[item for pair in values.items() for item in pair],
                                       *args])


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.parametrize("role", ["student", "instructor", "staff"])
def test_creates_each_kind_of_account(runner, role):
    result = run(runner, role=role, email=" New@Example.EDU ", name=" Nia New ")
    assert result.exit_code == 0, result.output
    assert f"Created {role} account new@example.edu" in result.output
    account = user("new@example.edu")
    assert account.role == Role(role) and account.active and account.name == "Nia New"
    assert account.check_password("account-pass-42")
    assert account.is_instructor == (role == "instructor")
    assert account.is_staff == (role == "staff")
    if role == "student":  # a profile as registration gives one
        assert account.student is not None and account.student.program == "Undeclared"
        assert account.student.max_credits == 18
        assert f"(student number {account.student.student_number})" in result.output
    else:
        assert account.student is None


def test_a_student_with_a_number_and_program(runner):
    result = run(runner, role="student", student_number="S77", program="Physics")
    assert result.exit_code == 0, result.output
    profile = user("new@example.edu").student
    assert (profile.student_number, profile.program) == ("S77", "Physics")


def test_an_existing_account_is_updated(runner, make_student):
    make_student(email="sam@example.edu", active=False)
    db.session.commit()
    result = run(runner, role="instructor", email="SAM@example.edu", name="Sam Teacher")
    assert result.exit_code == 0, result.output
    assert "Updated instructor account sam@example.edu." in result.output
    account = user("sam@example.edu")
    assert account.role == Role.INSTRUCTOR and account.active and account.name == "Sam Teacher"
    assert count(User) == 1


def test_the_prompts_ask_for_what_is_missing(runner):
    result = runner.invoke(create_user, ["--email", "p@example.edu"],
                           input="instructor\nPat Prompted\nteach-pass-42\nteach-pass-42\n")
    assert result.exit_code == 0, result.output
    assert "teach-pass-42" not in result.output
    assert user("p@example.edu").role == Role.INSTRUCTOR


@pytest.mark.parametrize(("options", "message"), [
    ({"role": "teacher"}, "'teacher' is not one of 'student', 'instructor', 'staff'"),
    ({"email": "not-an-email"}, "--email: 'not-an-email' is not an email address"),
    ({"name": "  "}, "--name: is required"),
    ({"name": "x" * 121}, "--name: is longer than 120 characters"),
    ({"password": "short"}, "--password: Password must be at least 10 characters long"),
    ({"password": "password123"}, "too common"),
    ({"name": "Nu\x00l"}, "--name must not contain NUL characters"),
    ({"role": "student", "student_number": "has space"},
     "--student-number: 'has space' is not a student number"),
    ({"role": "student", "program": "p" * 121}, "--program: is longer than 120 characters"),
    ({"role": "instructor", "student_number": "S1"}, "for student accounts (--role student) only"),
])
def test_bad_input_is_refused_and_writes_nothing(runner, options, message):
    result = run(runner, **options)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert count(User) == 0 and count(Student) == 0


def test_a_student_number_of_someone_else_is_refused(runner, make_student):
    make_student(student_number="S42")
    db.session.commit()
    result = run(runner, role="student", student_number="S42")
    assert result.exit_code == 2
    assert "--student-number: S42 belongs to another student." in result.output
    assert user("new@example.edu") is None


def test_the_command_is_registered_beside_create_staff(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "--role", "instructor", "--email",
                                 "t@example.edu", "--name", "Tess", "--password",
                                 "teach-pass-42"])
    assert result.exit_code == 0, result.output
    assert user("t@example.edu").role == Role.INSTRUCTOR
    assert "create-staff" in runner.invoke(args=["--help"]).output
