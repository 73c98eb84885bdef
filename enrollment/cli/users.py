"""`flask create-user` (any kind of account) and `flask create-staff` (its staff shortcut)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import exists, select
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import MultiDict

from ..extensions import db
from ..models import Role, Student, User
from ..records import StudentFields, UserFields

DEFAULT_PROGRAM = "Undeclared"  # what registration gives a new student


def _refuse_nul(**options: str | None) -> None:
    for option, value in options.items():
        if value and "\x00" in value:  # PostgreSQL refuses NUL in text: say so, no traceback
            raise click.UsageError(f"--{option.replace('_', '-')} must not contain NUL "
                                   "characters.")


def _checked(form_class, values: dict) -> dict:
    """The values checked by the record kind's form (`enrollment.records`), or a usage error
    naming each bad option with the words every form and import uses."""
    fields = form_class(MultiDict({k: v for k, v in values.items() if v is not None}))
    for name in list(fields._fields):
        if name not in values or values[name] is None:
            del fields[name]
    if not fields.validate():
        raise click.UsageError("; ".join(f"--{name.replace('_', '-')}: {errors[0]}"
                                         for name, errors in fields.errors.items()))
    return {name: field.data for name, field in fields._fields.items()}


def save_account(*, role: Role, email: str, name: str, password: str,
                 student_number: str | None = None, program: str | None = None
                 ) -> tuple[User, bool]:
    """Create the account, or update the one with that email (name, role, password, active),
    checking every value first; a student gets a profile as registration gives one (a
    generated number unless `student_number`). Returns (user, created); the caller commits."""
    from ..auth.passwords import password_problem
    from ..auth.registration import new_student_number

    _refuse_nul(email=email, name=name, password=password, student_number=student_number,
                program=program)
    if role != Role.STUDENT and (student_number or program):
        raise click.UsageError("--student-number and --program are for student accounts "
                               "(--role student) only.")
    values = _checked(UserFields, {"email": email, "name": name})
    profile = {}
    if role == Role.STUDENT:
        profile = _checked(StudentFields, {"student_number": student_number,
                                           "program": program})
    problem = password_problem(password)
    if problem:
        raise click.UsageError(f"--password: {problem}")
    user = db.session.scalar(select(User).options(joinedload(User.student))
                             .where(User.email == values["email"]))
    number = profile.get("student_number")
    if number and db.session.scalar(select(exists().where(
            Student.student_number == number,
            Student.user_id != (user.id if user is not None else -1)))):
        raise click.UsageError(f"--student-number: {number} belongs to another student.")
    created = user is None
    if created:
        user = User(email=values["email"], name=values["name"])
        db.session.add(user)
    user.name, user.role, user.active = values["name"], role, True
    user.set_password(password)
    if role == Role.STUDENT:
        if user.student is None:
            user.student = Student(student_number=number or new_student_number(),
                                   program=profile.get("program") or DEFAULT_PROGRAM)
        else:
            user.student.student_number = number or user.student.student_number
            if profile.get("program"):
                user.student.program = profile["program"]
    db.session.flush()
    return user, created


@click.command("create-user")
@click.option("--role", type=click.Choice([r.value for r in Role]), prompt=True,
              help="The kind of account: student, instructor or staff.")
@click.option("--email", prompt=True, help="Login email.")
@click.option("--name", prompt=True, help="Display name.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Password (prompted, hidden, when missing).")
@click.option("--student-number", default=None,
              help="A student's number (students only; default: a generated one).")
@click.option("--program", default=None,
              help=f"A student's program (students only; default: {DEFAULT_PROGRAM}).")
@with_appcontext
def create_user(role: str, email: str, name: str, password: str, student_number: str | None,
                program: str | None) -> None:
    """Create an account of any kind, or update the account with that email (its role,
    name and password) and activate it."""
    user, created = save_account(role=Role(role), email=email, name=name, password=password,
                                 student_number=student_number, program=program)
    number = f" (student number {user.student.student_number})" if role == Role.STUDENT else ""
    db.session.commit()
    click.echo(f"{'Created' if created else 'Updated'} {role} account {user.email}{number}.")


@click.command("create-staff")
@click.option("--email", prompt=True, help="Login email of the staff member.")
@click.option("--name", prompt=True, help="Display name.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Password (prompted, hidden, when missing).")
@with_appcontext
def create_staff(email: str, name: str, password: str) -> None:
    """Create a staff account, or make an existing account staff and reset its password."""
    user, created = save_account(role=Role.STAFF, email=email, name=name, password=password)
    db.session.commit()
    click.echo(f"{'Created' if created else 'Updated'} staff account {user.email}.")
