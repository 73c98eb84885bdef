"""Numbers for the admin dashboard, in a fixed number of queries whatever the data size."""
from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Course, Enrollment, EnrollmentEvent, Status, Student

TOP = 8


def dashboard_data() -> dict:
    """Counts, the fullest courses, the longest waitlists and the latest audit events."""
    enrolled = func.count(case((Enrollment.status == Status.ENROLLED, 1)))
    waitlisted = func.count(case((Enrollment.status == Status.WAITLISTED, 1)))
    totals = db.session.execute(select(
        select(func.count()).select_from(Student).scalar_subquery(),
        select(func.count()).select_from(Course).scalar_subquery(),
        select(enrolled).scalar_subquery(),
        select(waitlisted).scalar_subquery(),
    )).one()

    per_course = (select(Enrollment.course_id, enrolled.label("enrolled"),
                         waitlisted.label("waitlisted"))
                  .group_by(Enrollment.course_id).subquery())
    fill = (per_course.c.enrolled * 1.0) / func.nullif(Course.capacity, 0)
    fullest = db.session.execute(
        select(Course, per_course.c.enrolled, per_course.c.waitlisted)
        .join(per_course, per_course.c.course_id == Course.id)
        .options(joinedload(Course.term))
        .where(per_course.c.enrolled > 0)
        .order_by(fill.desc().nulls_last(), per_course.c.enrolled.desc(), Course.code)
        .limit(TOP)).all()
    longest = db.session.execute(
        select(Course, per_course.c.enrolled, per_course.c.waitlisted)
        .join(per_course, per_course.c.course_id == Course.id)
        .options(joinedload(Course.term))
        .where(per_course.c.waitlisted > 0)
        .order_by(per_course.c.waitlisted.desc(), Course.code)
        .limit(TOP)).all()
    latest = db.session.scalars(
        select(EnrollmentEvent).options(joinedload(EnrollmentEvent.actor))
        .order_by(EnrollmentEvent.at.desc(), EnrollmentEvent.id.desc()).limit(15)).all()
    return {
        "counts": {"students": totals[0], "courses": totals[1], "enrolled": totals[2],
                   "waitlisted": totals[3]},
        "fullest": fullest,
        "longest": longest,
        "latest": latest,
    }
