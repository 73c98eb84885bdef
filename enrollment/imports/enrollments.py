"""Importing enrollments: `term,code,student_number,status,grade`.

Every row goes through the rules engine, in file order: `enrolled` rows call
`services.enroll` with `Source.IMPORT` (capacity and waitlist hold, so rows beyond the seats
join the waitlist; window and prerequisites are not checked), `completed` rows call
`services.complete` with their grade (recording past terms, which prerequisites look at).
A `waitlisted` status is refused: the waitlist is the rules' decision, in arrival order.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import selectinload
from wtforms import Form

from .. import services
from ..database import scalars_in
from ..extensions import db
from ..models import Course, Enrollment, Source, Status, Student, Term
from ..records import CourseFields, StudentFields, TermFields
from ..services import grades
from .plan import ApplyContext, ImportPlan, ImportRefused, ImportResult, PlannedRow, RowError
from .reading import Cells, FirstSeen, Table
from .writing import Outcomes

REQUIRED = ("term", "code", "student_number")
OPTIONAL = ("status", "grade")
MAX_REFUSALS = 50  # enough to see the pattern; the rest would say the same


def _references(keys: set[tuple[str, str]], numbers: set[str]):
    """Courses by (term code, code), students by number, and their existing links."""
    courses = {(course.term.code, course.code): course for course in scalars_in(
        db.session, lambda batch: select(Course).join(Term).where(
            tuple_(Term.code, Course.code).in_(batch)).options(selectinload(Course.term)),
        keys)}
    students = {s.student_number: s for s in scalars_in(
        db.session, lambda batch: select(Student).where(Student.student_number.in_(batch))
        .options(selectinload(Student.user)), numbers)}
    links = {}
    if courses and students:
        course_ids = [c.id for c in courses.values()]
        for link in scalars_in(db.session, lambda batch: select(Enrollment).where(
                Enrollment.course_id.in_(course_ids), Enrollment.student_id.in_(batch)),
                [s.id for s in students.values()]):
            links[(link.student_id, link.course_id)] = link
    return courses, students, links


def plan_rows(table: Table, plan: ImportPlan, *, now: datetime) -> None:
    parsed = []
    seen = FirstSeen()
    for row in table.rows:
        cells = Cells(row, plan.errors)
        values = _values(cells)
        key = (values.get("term"), values.get("code"), values.get("student_number"))
        seen.check(cells, "student_number", key, f"{key[2]} in {key[0]} {key[1]}")
        parsed.append((cells, values))
    keys = seen.lines
    courses, students, links = _references({k[:2] for k in keys}, {k[2] for k in keys})
    terms = set(db.session.scalars(select(Term.code).where(Term.code.in_({k[0] for k in keys}))))
    for cells, values in parsed:
        if not cells.ok:
            continue
        course = courses.get((values["term"], values["code"]))
        student = students.get(values["student_number"])
        if values["term"] not in terms:
            cells.error("term", f"unknown term {values['term']}")
        elif course is None:
            cells.error("code", f"unknown course {values['code']} in term {values['term']}")
        if student is None:
            cells.error("student_number", f"unknown student {values['student_number']}")
        if not cells.ok:
            continue
        link = links.get((student.id, course.id))
        planned = _planned(cells, values, link)
        if planned:
            plan.rows.append(planned)


class EnrollmentRow(Form):
    """An enrollments CSV row: the course and the student by their keys."""

    term = TermFields.code
    code = CourseFields.code
    student_number = StudentFields.student_number


def _values(cells: Cells) -> dict:
    values = cells.read(EnrollmentRow)
    values["status"] = (cells.raw("status") or Status.ENROLLED.value).lower()
    values["grade"] = (cells.raw("grade") or "").upper() or None
    status = values["status"]
    if status == Status.WAITLISTED:
        cells.error("status", "waitlisted cannot be imported: import the student as enrolled "
                              "and the rules put them on the waitlist when the course is full")
    elif status not in (Status.ENROLLED, Status.COMPLETED):
        cells.error("status", f"{status!r} is not a status (enrolled or completed)")
    elif status == Status.COMPLETED and not values["grade"] and "grade" not in cells.bad:
        cells.error("grade", "is required for a completed course")
    elif status == Status.ENROLLED and values["grade"]:
        cells.error("grade", "only completed courses carry a grade")
    elif values["grade"] and values["grade"] not in services.GRADES:
        cells.error("grade", f"{values['grade']!r} is not a grade (one of "
                             f"{' '.join(grades.IN_ORDER)})")
    return values


def _planned(cells: Cells, values: dict, link: Enrollment | None) -> PlannedRow | None:
    key = f"{values['term']} {values['code']} {values['student_number']}"
    completing = values["status"] == Status.COMPLETED
    if link is None:
        summary = (f"record {key} completed with {values['grade']}" if completing
                   else f"enroll {key} (waitlist when full)")
        return PlannedRow(cells.line, "create", key, summary, values)
    if link.status == Status.COMPLETED and not completing:
        cells.error("status", f"{values['student_number']} already completed {values['code']}")
        return None
    if link.status in (Status.WAITLISTED, Status.OFFERED) and completing:
        where = "on the waitlist for" if link.status == Status.WAITLISTED else \
            "only offered a seat in"
        cells.error("status", f"{values['student_number']} is {where} "
                              f"{values['code']}, so cannot have completed it")
        return None
    if not completing:
        return PlannedRow(cells.line, "unchanged", key, f"{key} is already {link.status}", values)
    if link.status == Status.COMPLETED and link.grade == values["grade"]:
        return PlannedRow(cells.line, "unchanged", key, f"{key} already completed with "
                                                        f"{link.grade}", values)
    return PlannedRow(cells.line, "update", key, f"mark {key} completed with {values['grade']}",
                      values)


def apply_rows(plan: ImportPlan, context: ApplyContext) -> ImportResult:
    """Send each planned row through the rules engine; every refusal is reported."""
    keys = {(r.values["term"], r.values["code"]) for r in plan.rows}
    courses, students, _links = _references(keys, {r.values["student_number"]
                                                   for r in plan.rows})
    outcomes = Outcomes()
    errors: list[RowError] = []
    to_enroll: list[tuple[PlannedRow, Student, Course]] = []

    def refused(row: PlannedRow, exc: services.EnrollmentRefused) -> None:
        errors.append(RowError(row.line, "student_number",
                               f"{row.values['student_number']} in {row.values['code']}: "
                               f"{exc.message}"))

    for row in plan.rows:
        values = row.values
        course = courses.get((values["term"], values["code"]))
        student = students.get(values["student_number"])
        if course is None or student is None:
            errors.append(RowError(row.line, "code" if course is None else "student_number",
                                   "no longer exists"))
        elif row.action != "unchanged" and values["status"] == Status.COMPLETED:
            try:
                services.complete(student, course, values["grade"], actor=context.actor,
                                  now=context.now, reason=context.reason or "Imported.",
                                  source=Source.IMPORT)
            except services.EnrollmentRefused as exc:
                refused(row, exc)
        elif row.action != "unchanged":
            to_enroll.append((row, student, course))
        outcomes.add(row.action)
        context.progress(1)
    # Enrollment rows in one batch: the same rules, in file order, in a fixed number of queries.
    results = services.enroll_many([(s, c) for _, s, c in to_enroll], actor=context.actor,
                                   now=context.now, source=Source.IMPORT,
                                   override=context.override, reason=context.reason)
    for (row, _, _), result in zip(to_enroll, results, strict=True):
        if isinstance(result, services.EnrollmentRefused):
            refused(row, result)
    errors = errors[:MAX_REFUSALS]
    if errors:
        raise ImportRefused(errors)
    return outcomes.result()
