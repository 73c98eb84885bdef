"""The summaries the reports read (links per course and status, enrolled seats per course and
day) are kept by the database in the changing statement: after any mix of changes they equal a
count of the links and the audit trail, and the migration's backfill computes the same."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import case, func, select

from enrollment import services
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import (
    CourseCount,
    EnrolledDayChange,
    Enrollment,
    EnrollmentEvent,
    Source,
    Status,
)
from enrollment.models.summaries import BACKFILL, backfill_days
from tests.factories import NOW, make_course, make_student
from tests.web_helpers import complete, enroll


def kept() -> tuple[dict, dict]:
    counts = {row.course_id: (row.enrolled, row.offered, row.waitlisted, row.completed)
              for row in db.session.scalars(select(CourseCount))}
    days = {(row.course_id, str(row.day)): row.change
            for row in db.session.scalars(select(EnrolledDayChange))}
    return ({k: v for k, v in counts.items() if any(v)}, {k: v for k, v in days.items() if v})


def recounted() -> tuple[dict, dict]:
    by_status = [func.count(case((Enrollment.status == s, 1))) for s in
                 (Status.ENROLLED, Status.OFFERED, Status.WAITLISTED, Status.COMPLETED)]
    counts = {course_id: tuple(numbers) for course_id, *numbers in db.session.execute(
        select(Enrollment.course_id, *by_status).group_by(Enrollment.course_id))}
    days: dict = {}
    for event in db.session.scalars(select(EnrollmentEvent)):
        became = event.status_after == Status.ENROLLED and event.status_before != Status.ENROLLED
        left = event.status_before == Status.ENROLLED and event.status_after != Status.ENROLLED
        key = (event.course_id, str(event.at.date()))
        days[key] = days.get(key, 0) + int(became) - int(left)
    return counts, {k: v for k, v in days.items() if v}


def test_summaries_follow_every_kind_of_change(app):
    small = make_course(capacity=2, waitlist_capacity=5)
    other = make_course(term=small.term, capacity=10)
    students = [make_student() for _ in range(6)]
    db.session.commit()
    for student in students[:4]:
        enroll(student, small)  # two enrolled, two waitlisted
    enroll(students[4], other)
    enroll(students[5], other)
    with write_transaction(db.session):  # a drop promotes the first on the waitlist
        services.drop(students[0], small, actor=None, now=NOW)
    with write_transaction(db.session):  # a later day: the timeline has two days
        services.drop(students[4], other, actor=None, now=NOW + timedelta(days=1))
    complete(students[5], other)
    with write_transaction(db.session):
        services.move(students[1], small, other, actor=None, now=NOW, reason="section change")
    with write_transaction(db.session):
        services.set_capacity(small, 3, actor=None, now=NOW)
    db.session.commit()

    counts, days = kept()
    assert (counts, days) == recounted()
    assert counts[small.id][0] == 2 and counts[other.id][3] == 1
    assert sum(days.values()) == sum(c[0] for c in counts.values())

    # The migration's backfill computes the same from the links and the audit trail.
    dialect = db.engine.dialect.name
    for statement in [*BACKFILL, backfill_days(dialect)]:
        db.session.execute(sa.text(statement))
    assert kept() == (counts, days)
    db.session.rollback()


def test_a_bulk_insert_and_a_course_without_links(app):
    course = make_course(capacity=100)
    empty = make_course(term=course.term)
    students = [make_student() for _ in range(5)]
    db.session.commit()
    db.session.execute(sa.insert(Enrollment), [
        {"student_id": s.id, "course_id": course.id, "status": Status.ENROLLED,
         "source": Source.IMPORT, "created_at": NOW, "status_changed_at": NOW,
         "updated_at": NOW} for s in students])
    db.session.commit()
    counts, _ = kept()
    assert counts == {course.id: (5, 0, 0, 0)}
    assert empty.id not in counts
    db.session.execute(sa.delete(Enrollment).where(Enrollment.course_id == course.id))
    db.session.commit()
    assert kept()[0] == {}
