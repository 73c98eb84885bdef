"""The extension columns (`metadata.…`) of a CSV bundle: what OneRoster has no field for, added
to the 1.1 records of `records.iter_records` so that a bundle imported into an empty database
gives the same school.

`with_metadata(kind, records)` passes the records on with a `metadata` dict: a term's code and
enrollment window; a class's department, credits, seats, meeting times, shown instructor name,
repeatability and prerequisites; a student's program and credit limit; a student enrollment's
status (`enrolled` or `completed`) and grade. The records are taken in batches and each batch's
values read in one statement, so the export stays streaming and its queries do not grow with
the rows (only with their number of batches).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice

from sqlalchemy import select, tuple_

from ..extensions import db
from ..models import Course, Department, Enrollment, Student, Term, User, prerequisite_links
from . import csv_format as fmt
from . import ids

BATCH = 1000


def with_metadata(kind: str, records: Iterable[dict]) -> Iterator[dict]:
    adders = {"academicSessions": _terms, "classes": _classes, "users": _students,
              "enrollments": _links}
    adder = adders.get(kind)
    if adder is None:
        yield from records
        return
    iterator = iter(records)
    while batch := list(islice(iterator, BATCH)):
        values = adder([r for r in batch if r.get("status") != "tobedeleted"])
        for record in batch:
            extra = values.get(record["sourcedId"])
            yield {**record, "metadata": extra} if extra else record


def _terms(batch: list[dict]) -> dict[str, dict]:
    wanted = [r["sourcedId"] for r in batch if r.get("type") == "term"]
    if not wanted:
        return {}
    return {t.sourced_id: {"code": t.code, "enrollmentOpens": fmt.moment(t.enrollment_opens),
                           "enrollmentCloses": fmt.moment(t.enrollment_closes),
                           "dropDeadline": fmt.moment(t.drop_deadline)}
            for t in db.session.scalars(select(Term).where(Term.sourced_id.in_(wanted)))}


def _classes(batch: list[dict]) -> dict[str, dict]:
    wanted = [r["sourcedId"] for r in batch]
    if not wanted:
        return {}
    rows = db.session.execute(select(Course, Department.code)
                              .join(Department, Course.department_id == Department.id)
                              .where(Course.sourced_id.in_(wanted))).all()
    prerequisites: dict[int, list[str]] = {}
    for course_id, code in db.session.execute(
            select(prerequisite_links.c.course_id, Course.code)
            .join(Course, Course.id == prerequisite_links.c.prerequisite_id)
            .where(prerequisite_links.c.course_id.in_([c.id for c, _ in rows]))
            .order_by(Course.code)):
        prerequisites.setdefault(course_id, []).append(code)
    return {course.sourced_id: {
        "department": department, "credits": course.credits, "capacity": course.capacity,
        "waitlistCapacity": course.waitlist_capacity, "days": course.days or "",
        "startTime": f"{course.start_time:%H:%M}" if course.start_time else "",
        "endTime": f"{course.end_time:%H:%M}" if course.end_time else "",
        "instructor": course.instructor or "", "repeatable": fmt.flag(course.repeatable),
        "prerequisites": " ".join(prerequisites.get(course.id, ()))}
        for course, department in rows}


def _students(batch: list[dict]) -> dict[str, dict]:
    wanted = [r["sourcedId"] for r in batch if r.get("role") == "student"]
    if not wanted:
        return {}
    rows = db.session.execute(select(User.sourced_id, Student.program, Student.max_credits)
                              .join(Student, Student.user_id == User.id)
                              .where(User.sourced_id.in_(wanted)))
    return {sid: {"program": program or "", "maxCredits": max_credits}
            for sid, program, max_credits in rows}


def _links(batch: list[dict]) -> dict[str, dict]:
    pairs = {}
    for record in batch:
        parsed = ids.parse_enrollment_id(record["sourcedId"])
        if parsed and parsed[0] == "student":
            pairs[(parsed[1], parsed[2])] = record["sourcedId"]
    if not pairs:
        return {}
    rows = db.session.execute(select(Enrollment.course_id, Enrollment.student_id,
                                     Enrollment.status, Enrollment.grade)
                              .where(tuple_(Enrollment.course_id, Enrollment.student_id)
                                     .in_(list(pairs))))
    return {pairs[(course_id, student_id)]: {"status": status.value, "grade": grade or ""}
            for course_id, student_id, status, grade in rows}
