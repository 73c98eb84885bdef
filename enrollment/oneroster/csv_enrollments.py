"""The enrollments of a OneRoster bundle.

A `student` enrollment becomes a link through the enrollments importer of `import-csv` (the
rules of a staff import: capacity and waitlist hold, the window and prerequisites are not
checked; every link gets its audit event in the same transaction); `metadata.status`
`completed` with a `metadata.grade` records a completed course. A `tobedeleted` one drops the
link as staff do (past the drop deadline too: the SIS says the student left), before the new
links are made, so that the seats it frees count. A `teacher` enrollment makes its user the
class's instructor when that user is an instructor account (`tobedeleted`: no longer). Other
roles are skipped.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import services
from ..database import scalars_in
from ..extensions import db
from ..imports import enrollments as enrollment_import
from ..imports.reading import Row as ImportRow
from ..models import Course, Enrollment, Role, Student, User
from ..services import course_changes
from . import csv_format as fmt
from .csv_read import Row

REMOVED_REASON = "Removed by a OneRoster import."

COLUMNS = {"term": "classSourcedId", "code": "classSourcedId", "student_number": "userSourcedId",
           "status": "metadata.status", "grade": "metadata.grade"}


def enrollments_stage(run) -> None:
    kind = "enrollments"
    rows = run.bundle.of(kind)
    classes = _classes(run, rows)
    users = _users(run, rows)
    links, drops, teachers = [], [], []
    for row in rows:
        class_id, user_id = row.get("classSourcedId"), row.get("userSourcedId")
        course, user = classes.get(class_id), users.get(user_id)
        if row.status == "tobedeleted" and (course is None or user is None):
            run.skip(kind, row, "tobedeleted: its class or user is not here (nothing to "
                                "remove)")
            continue
        role = run.enum(kind, row, "role", fmt.ENROLLMENT_ROLES)
        if role is None:
            continue
        if role not in ("student", "teacher"):
            run.skip(kind, row, f"an enrollment with role {role} is not stored")
            continue
        if {class_id, user_id} & run.failed:
            run.failed.add(row.sourced_id)  # its class or user has a problem already
            continue
        if (course is None and class_id in run.skipped) or (
                user is None and user_id in run.skipped):
            run.skip(kind, row, "its class or user is skipped (not stored here)")
            continue
        if course is None:
            run.error(kind, row, "classSourcedId", f"no class {class_id} in classes.csv, or "
                                                   "imported before")
            continue
        if user is None:
            run.error(kind, row, "userSourcedId", f"no user {user_id} in users.csv, or "
                                                  "imported before")
            continue
        if role == "teacher":
            teachers.append((row, course, user))
        elif user.student is None:
            run.error(kind, row, "userSourcedId", f"{user_id} is not a student (role "
                                                  f"{user.role.value})")
        elif row.status == "tobedeleted":
            drops.append((row, course, user.student))
        else:
            links.append(ImportRow(row.line, {
                "term": course.term.code, "code": course.code,
                "student_number": user.student.student_number,
                "status": row.get("metadata.status"), "grade": row.get("metadata.grade")}))
    for row, course, student in drops:
        _drop(run, row, course, student)
    run.run_importer(kind, enrollment_import, links, COLUMNS)
    for row, course, user in teachers:
        _teacher(run, row, course, user)
    db.session.flush()


def _classes(run, rows: list[Row]) -> dict[str, Course]:
    """The classes the rows name, by sourcedId: the bundle's and those imported before."""
    return {c.sourced_id: c for c in scalars_in(
        db.session, lambda batch: select(Course).where(Course.sourced_id.in_(batch))
        .options(selectinload(Course.term)), {r.get("classSourcedId") for r in rows})}


def _users(run, rows: list[Row]) -> dict[str, User]:
    return {u.sourced_id: u for u in scalars_in(
        db.session, lambda batch: select(User).where(User.sourced_id.in_(batch))
        .options(selectinload(User.student)), {r.get("userSourcedId") for r in rows})}


def _drop(run, row: Row, course: Course, student: Student) -> None:
    kind = "enrollments"
    link = db.session.get(Enrollment, (student.id, course.id))
    if link is None:
        run.skip(kind, row, f"tobedeleted: {student.student_number} has no link to "
                            f"{course.code} (nothing to remove)")
        return
    try:
        services.drop(student, course, actor=None, now=run.now, reason=REMOVED_REASON,
                      by_staff=True, override=frozenset({services.Override.DEADLINE}))
    except services.EnrollmentRefused as exc:
        run.error(kind, row, "userSourcedId", f"{student.student_number} in {course.code}: "
                                              f"{exc.message}")
        return
    run.count(kind, "remove")


def _teacher(run, row: Row, course: Course, user: User) -> None:
    kind = "enrollments"
    if user.role != Role.INSTRUCTOR:
        run.skip(kind, row, f"teacher {user.email} is a {user.role.value} account, not an "
                            "instructor's: the class's instructor is left as it is")
        return
    before = course_changes.snapshot(course)
    if row.status == "tobedeleted":
        if course.instructor_id != user.id:
            run.skip(kind, row, f"tobedeleted: {user.email} does not teach {course.code}")
            return
        course.instructor_id = None
        run.count(kind, "remove")
    elif course.instructor_id == user.id:
        run.count(kind, "unchanged")
        return
    else:
        course.instructor_id = user.id
        course.instructor = course.instructor or user.name
        run.count(kind, "update")
    course_changes.record_change(course, before, actor=None, now=run.now)
