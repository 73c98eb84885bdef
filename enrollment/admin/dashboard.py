"""Numbers for the admin dashboard, in a fixed number of queries whatever the data size."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Course, CourseCount, EnrollmentEvent, Student
from ..services.counts import STATUS_COUNTS

TOP = 8


def dashboard_data() -> dict:
    """Counts, the fullest courses, the longest waitlists and the latest audit events."""
    totals = db.session.execute(select(
        select(func.count()).select_from(Student).scalar_subquery(),
        select(func.count()).select_from(Course).scalar_subquery(),
        select(func.coalesce(func.sum(CourseCount.enrolled), 0)).scalar_subquery(),
        select(func.coalesce(func.sum(CourseCount.waitlisted), 0)).scalar_subquery(),
    )).one()

    per_course = STATUS_COUNTS.c
    fill = (per_course.enrolled * 1.0) / func.nullif(Course.capacity, 0)
    ranked = (select(Course, per_course.enrolled, per_course.waitlisted)
              .join(STATUS_COUNTS, per_course.course_id == Course.id)
              .options(joinedload(Course.term)))
    fullest = db.session.execute(
        ranked.where(per_course.enrolled > 0)
        .order_by(fill.desc().nulls_last(), per_course.enrolled.desc(), Course.code)
        .limit(TOP)).all()
    longest = db.session.execute(
        ranked.where(per_course.waitlisted > 0)
        .order_by(per_course.waitlisted.desc(), Course.code)
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
