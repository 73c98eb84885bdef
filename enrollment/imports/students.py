"""Importing students: `student_number,name,email,program,max_credits,password`.

A row matches an existing student by student number, else by email, and updates it. The
password is optional: without one a new account cannot log in until a password is set, and an
existing one keeps its password. Password hashing is slow on purpose (scrypt, about 0.15 s a
password on one core), so hashes and checks run on a thread pool (hashlib releases the GIL)
and only rows that carry a password pay for it.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from ..auth.passwords import password_problem
from ..database import scalars_in
from ..extensions import db
from ..models import Role, Student, User
from ..records import DEFAULT_MAX_CREDITS, StudentFields
from .plan import ApplyContext, ImportPlan, ImportRefused, ImportResult, PlannedRow, RowError
from .reading import Cells, FirstSeen, Table
from .writing import Outcomes, flush_or_refuse

REQUIRED = ("student_number", "name", "email")
OPTIONAL = ("program", "max_credits", "password")


def _parallel(fn: Callable, items: list, progress: Callable[[int], None] | None = None) -> list:
    """`map(fn, items)` on a thread pool, in order."""
    if len(items) < 4:
        return [fn(*item) if isinstance(item, tuple) else fn(item) for item in items]
    results = []
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for result in pool.map(lambda item: fn(*item) if isinstance(item, tuple) else fn(item),
                               items):
            results.append(result)
            if progress:
                progress(1)
    return results


def _lookup(numbers: Iterable[str], emails: Iterable[str]):
    """Existing students by number and users by email, each with the other side loaded."""
    by_number = {s.student_number: s for s in scalars_in(
        db.session, lambda batch: select(Student).where(Student.student_number.in_(batch))
        .options(selectinload(Student.user)), numbers)}
    by_email = {u.email: u for u in scalars_in(
        db.session, lambda batch: select(User).where(User.email.in_(batch))
        .options(selectinload(User.student)), emails)}
    return by_number, by_email


def _target(values: dict, by_number, by_email) -> tuple[Student | User | None, str | None]:
    """The record the row updates (a Student, a profile-less User, or None to create) or the
    reason it cannot: the number and the email belong to two different accounts."""
    student = by_number.get(values["student_number"])
    user = by_email.get(values["email"])
    if user is not None and user.role == Role.STAFF:
        return None, f"{values['email']} belongs to a staff account"
    if student is not None and user is not None and user.student is not student:
        other = user.student.student_number if user.student else "an account without a profile"
        return None, (f"{values['email']} belongs to another student ({other}), not to "
                      f"{values['student_number']}")
    if student is not None:
        return student, None
    if user is not None:
        return user.student or user, None
    return None, None


def plan_rows(table: Table, plan: ImportPlan, *, now: datetime) -> None:
    parsed = []
    seen = {"student_number": FirstSeen(), "email": FirstSeen()}
    for row in table.rows:
        cells = Cells(row, plan.errors)
        values = _values(cells)
        for column, first in seen.items():
            first.check(cells, column, values.get(column), values.get(column))
        parsed.append((cells, values))
    by_number, by_email = _lookup(seen["student_number"].lines, seen["email"].lines)
    matched = []
    for cells, values in parsed:
        if not cells.ok:
            continue
        target, problem = _target(values, by_number, by_email)
        if problem:
            cells.error("email", problem)
        else:
            matched.append((cells.line, values, target))
    # A password the account already has is no change (checking costs as much as hashing).
    checks = [(values, target_user(target).password_hash) for _, values, target in matched
              if target is not None and values["password"] and target_user(target).password_hash]
    same = _parallel(lambda values, hashed: check_password_hash(hashed, values["password"]),
                     checks)
    for (values, _hash), unchanged in zip(checks, same, strict=True):
        if unchanged:
            values["password"] = None
    for line, values, target in matched:
        changed = _changes(target, values) if target is not None else None
        plan.rows.append(_planned(line, values, target, changed))


def target_user(target: Student | User) -> User:
    return target.user if isinstance(target, Student) else target


def _values(cells: Cells) -> dict:
    values = cells.read(StudentFields)
    values["password"] = cells.raw("password")
    if values["password"] and (problem := password_problem(values["password"])):
        cells.error("password", problem)
    return values


def _changes(target: Student | User, values: dict) -> list[str]:
    user = target_user(target)
    changed = [f for f in ("name", "email") if getattr(user, f) != values[f]]
    if not isinstance(target, Student):
        return ["student profile"]
    if target.student_number != values["student_number"]:
        changed.append("student_number")
    changed += [f for f in ("program", "max_credits")
                if f in values and getattr(target, f) != values[f]]
    if values.get("password"):
        changed.append("password")
    return changed


def _planned(line: int, values: dict, target, changed: list[str] | None) -> PlannedRow:
    key = values["student_number"]
    if target is None:
        login = "" if values.get("password") else " (no password: cannot log in yet)"
        return PlannedRow(line, "create", key,
                          f"new student {key} {values['name']} <{values['email']}>{login}", values)
    if not changed:
        return PlannedRow(line, "unchanged", key, f"student {key} is up to date", values)
    return PlannedRow(line, "update", key, f"student {key}: {', '.join(changed)}", values)


def apply_rows(plan: ImportPlan, context: ApplyContext) -> ImportResult:
    """Create or update the planned students; hashes the given passwords in parallel."""
    rows = plan.rows
    by_number, by_email = _lookup((r.values["student_number"] for r in rows),
                                  (r.values["email"] for r in rows))
    to_hash = [r.values["password"] for r in rows if r.values.get("password")]
    hashes = iter(_parallel(generate_password_hash, to_hash, context.progress))
    outcomes = Outcomes()
    errors = []
    for row in rows:
        values = row.values
        target, problem = _target(values, by_number, by_email)
        if problem:
            errors.append(RowError(row.line, "email", problem))
            continue
        password_hash = next(hashes) if values.get("password") else None
        if target is None:
            user = User(email=values["email"], name=values["name"], role=Role.STUDENT,
                        password_hash=password_hash, created_at=context.now)
            user.student = Student(student_number=values["student_number"],
                                   program=values.get("program", ""),
                                   max_credits=values.get("max_credits", DEFAULT_MAX_CREDITS))
            db.session.add(user)
            outcomes.add("create")
        else:
            changed = _changes(target, values)
            user = target_user(target)
            student = target if isinstance(target, Student) else Student(user=user)
            user.name, user.email = values["name"], values["email"]
            student.student_number = values["student_number"]
            for name in ("program", "max_credits"):
                if name in values:
                    setattr(student, name, values[name])
            if password_hash:
                user.password_hash = password_hash
            outcomes.add("update" if changed else "unchanged")
        if not values.get("password"):
            context.progress(1)
    if errors:
        raise ImportRefused(errors)
    flush_or_refuse("students")
    return outcomes.result()
