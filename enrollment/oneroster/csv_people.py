"""The users of a OneRoster bundle: students (through the students importer of `import-csv`)
and teachers (instructor accounts). In 1.1 a user's role is its `role` column; in 1.2 it is in
roles.csv (the `primary` role, else the first one listed).

A student's number is its `identifier` (else a `userIds` entry of type `studentNumber`). A
user without an e-mail is imported without a login: the account needs a unique address, so it
gets one that cannot receive mail (`placeholder_email`, under RFC 2606's `.example`), and no
password; staff give it a real address later, and the export leaves the placeholder out. The
`password` column is never read: a bundle does not set passwords.
"""
from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..database import scalars_in
from ..extensions import db
from ..imports import students as student_import
from ..imports.plan import RowError
from ..imports.reading import Cells
from ..imports.reading import Row as ImportRow
from ..models import Role, Student, User
from ..records import UserFields
from . import csv_format as fmt
from .csv_read import Row

PLACEHOLDER_DOMAIN = "no-email.example"
_PLACEHOLDER_NS = uuid.UUID("0e5e0001-6f6e-6572-6f73-746572637376")
STUDENT_COLUMNS = {"student_number": "identifier", "name": "givenName", "email": "email",
                   "program": "metadata.program", "max_credits": "metadata.maxCredits"}


def placeholder_email(sourced_id: str) -> str:
    """The address of an account imported without an e-mail (stable for its sourcedId)."""
    return f"{uuid.uuid5(_PLACEHOLDER_NS, sourced_id).hex}@{PLACEHOLDER_DOMAIN}"


def is_placeholder_email(email: str | None) -> bool:
    return (email or "").lower().endswith("@" + PLACEHOLDER_DOMAIN)


def full_name(row: Row) -> str:
    """Given, middle and family names in that order; a one-word name is written as both the
    given and the family name (both are required), and read back as one word."""
    given, middle, family = row.get("givenName"), row.get("middleName"), row.get("familyName")
    if given == family and not middle:
        return given
    return " ".join(p for p in (given, middle, family) if p)


def people_stage(run) -> None:
    """Students, then instructors."""
    kind = "users"
    existing = run.existing(User, kind, selectinload(User.student))
    roles = _roles(run, existing) if run.bundle.version == "1.2" else None
    student_rows, keys, teachers = [], {}, []
    for row in run.bundle.of(kind):
        if row.status == "tobedeleted":
            run.skip(kind, row, "tobedeleted: an import does not delete accounts")
            continue
        role = _role(run, row, roles, existing.get(row.sourced_id))
        if role is None:
            continue
        if role == "student":
            cells = _student_cells(run, row, existing.get(row.sourced_id))
            if cells is not None:
                student_rows.append(ImportRow(row.line, cells))
                keys[row.line] = (row, cells["student_number"])
        elif role == "teacher":
            teachers.append(row)
        else:
            run.skip(kind, row, f"a user with role {role} is not stored (students and "
                                "teachers are)")
    plan = run.run_importer(kind, student_import, student_rows, STUDENT_COLUMNS)
    applied = {p.line for p in plan.rows}
    numbers = [number for _, number in keys.values()]
    found = {s.student_number: s for s in scalars_in(
        db.session, lambda batch: select(Student).where(Student.student_number.in_(batch))
        .options(selectinload(Student.user)), numbers)}
    for line, (row, number) in keys.items():
        student = found.get(number)
        if line in applied and student is not None:
            run.adopt(student.user, row.sourced_id, kind, row, existing)
    for row in teachers:
        _instructor(run, row, existing)
    db.session.flush()


def _roles(run, existing: dict[str, User]) -> dict[str, str]:
    """1.2: each user's role from roles.csv (the primary one first)."""
    kind = "roles"
    users = {r.sourced_id for r in run.bundle.of("users")}
    chosen: dict[str, tuple[bool, str]] = {}
    for row in run.bundle.of(kind):
        if row.status == "tobedeleted":
            run.skip(kind, row, "tobedeleted: an import does not change an account's role")
            continue
        role = run.enum(kind, row, "role", fmt.USER_ROLES["1.2"])
        role_type = fmt.canonical(row.get("roleType") or "primary", fmt.ROLE_TYPES)
        if role_type is None:
            run.error(kind, row, "roleType", f"{row.get('roleType')!r} is not primary or "
                                             "secondary")
            continue
        if role is None:
            continue
        user = row.get("userSourcedId")
        if user not in users and user not in existing:
            run.error(kind, row, "userSourcedId", f"no user {user} in users.csv")
            continue
        primary = role_type == "primary"
        if user not in chosen or (primary and not chosen[user][0]):
            chosen[user] = (primary, role)
        run.count(kind, "read")
    return {user: role for user, (_, role) in chosen.items()}


def _role(run, row: Row, roles: dict[str, str] | None, user: User | None) -> str | None:
    if roles is None:
        return run.enum("users", row, "role", fmt.USER_ROLES["1.1"])
    if row.sourced_id in roles:
        return roles[row.sourced_id]
    if user is not None:  # a delta of users.csv without roles.csv: the account's own role
        return "student" if user.student is not None else (
            "teacher" if user.role == Role.INSTRUCTOR else user.role.value)
    run.error("users", row, "sourcedId", "the user has no role in roles.csv")
    return None


def _student_cells(run, row: Row, user: User | None) -> dict | None:
    number = row.get("identifier")
    column = "identifier"
    if not number:
        number = next((ident for kind, ident in fmt.user_ids(row.get("userIds"))
                       if kind.lower() == "studentnumber"), "")
        column = "userIds"
    student = user.student if user is not None else None
    if not number and student is not None:
        number = student.student_number
    if not number:
        run.error("users", row, "identifier", "is required for a student (the student "
                                              "number), or a userIds entry "
                                              "{studentNumber:…}")
        return None
    email = row.get("email") or (user.email if user is not None else
                                 placeholder_email(row.sourced_id))
    if (student is not None and number != student.student_number
            and email.lower() != user.email):
        run.error("users", row, column, f"{number} and {email} both differ from the student "
                                        f"this sourcedId names ({student.student_number} "
                                        f"<{user.email}>); change one of them at a time")
        return None
    cells = {"student_number": number, "name": full_name(row), "email": email}
    for name in ("program", "max_credits"):
        if STUDENT_COLUMNS[name] in row.cells:
            cells[name] = row.get(STUDENT_COLUMNS[name])
    return cells


def _instructor(run, row: Row, existing: dict[str, User]) -> None:
    """Create or update the instructor account of a teacher."""
    kind = "users"
    user = existing.get(row.sourced_id)
    email = row.get("email") or (user.email if user is not None else
                                 placeholder_email(row.sourced_id))
    problems: list[RowError] = []
    values = Cells(ImportRow(row.line, {"email": email, "name": full_name(row)}),
                   problems).read(UserFields)
    for problem in problems:
        run.error(kind, row, "givenName" if problem.column == "name" else "email",
                  problem.reason)
    if problems:
        return
    if user is None:
        user = db.session.scalar(select(User).where(User.email == values["email"]))
    if user is not None and user.role != Role.INSTRUCTOR:
        run.error(kind, row, "email", f"{user.email} is a {user.role.value} account, not an "
                                      "instructor's")
        return
    if user is None:
        user = User(email=values["email"], name=values["name"], role=Role.INSTRUCTOR,
                    password_hash=None, created_at=run.now, sourced_id=row.sourced_id)
        db.session.add(user)
        run.count(kind, "create")
    else:
        other = db.session.scalar(select(User).where(User.email == values["email"],
                                                     User.id != user.id))
        if other is not None:
            run.error(kind, row, "email", f"{values['email']} belongs to another account")
            return
        changed = (user.name, user.email) != (values["name"], values["email"])
        user.name, user.email = values["name"], values["email"]
        run.adopt(user, row.sourced_id, kind, row, existing)
        run.count(kind, "update" if changed else "unchanged")
