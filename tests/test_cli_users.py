"""`flask create-staff`: options, prompts, updates of an existing account, bad input."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from enrollment.cli.users import create_staff
from enrollment.extensions import db
from enrollment.models import Role, User


def user(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.email == email))


def test_creates_a_staff_account(runner):
    result = runner.invoke(create_staff, ["--email", " Registrar@Example.EDU ", "--name",
                                          " Riley ", "--password", "staff-pass-42"])
    assert result.exit_code == 0, result.output
    assert "Created staff account registrar@example.edu." in result.output
    staff = user("registrar@example.edu")
    assert staff.role == Role.STAFF and staff.is_staff and staff.active
    assert staff.name == "Riley" and staff.check_password("staff-pass-42")


def test_prompts_for_what_is_missing(runner):
    result = runner.invoke(create_staff, ["--email", "p@example.edu"],
                           input="Pat Prompted\nstaff-pass-42\nstaff-pass-42\n")
    assert result.exit_code == 0, result.output
    assert "staff-pass-42" not in result.output  # the password is not echoed
    assert user("p@example.edu").check_password("staff-pass-42")


def test_existing_account_becomes_staff(runner, make_student):
    student = make_student(email="sam@example.edu", active=False)
    db.session.commit()
    result = runner.invoke(create_staff, ["--email", "SAM@example.edu", "--name", "Sam",
                                          "--password", "new-staff-pass-1"])
    assert result.exit_code == 0, result.output
    assert "Updated staff account sam@example.edu." in result.output
    account = user("sam@example.edu")
    assert account.id == student.user.id and account.role == Role.STAFF and account.active
    assert account.check_password("new-staff-pass-1")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


@pytest.mark.parametrize(("args", "message"), [
    (["--email", "not-an-email"], "is not an email address"),
    (["--email", "@example.edu"], "is not an email address"),
    (["--name", "   "], "--name: is required"),  # the words of every form and import
    (["--password", "short"], "Password must be at least 10 characters long"),
    (["--password", "abcdefghijkl"], "mix letters with digits"),
    (["--password", "password123"], "too common"),
])
def test_bad_input_is_refused_and_writes_nothing(runner, args, message):
    values = {"--email": "ok@example.edu", "--name": "Ok", "--password": "staff-pass-42"}
    values.update(dict(zip(args[::2], args[1::2], strict=True)))
    result = runner.invoke(create_staff, [item for pair in values.items() for item in pair])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_nul_characters_are_refused(runner):
    result = runner.invoke(create_staff, ["--email", "n@example.edu", "--name", "Nu\x00l",
                                          "--password", "staff-pass-42"])
    assert result.exit_code == 2, result.output
    assert "NUL" in result.output
    assert user("n@example.edu") is None
