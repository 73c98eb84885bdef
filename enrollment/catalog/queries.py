"""What the catalog and course pages read, each in a fixed number of queries."""
from __future__ import annotations

from dataclasses import dataclass

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from .. import services
from ..extensions import db
from ..models import Course, Department, Enrollment, Status, Student, Term
from .availability import Availability, availability


def filter_choices() -> tuple[list[Term], list[Department]]:
    """Terms (latest first) and departments for the catalog's selects: two queries."""
    terms = list(db.session.scalars(select(Term).order_by(Term.classes_start.desc(), Term.code)))
    departments = list(db.session.scalars(select(Department).order_by(Department.code)))
    return terms, departments


def search_courses(*, q: str, term_code: str, department_code: str, page: int,
                   per_page: int) -> Pagination:
    """One page of matching courses with their term and department (a count and a select)."""
    stmt = (
        select(Course)
        .join(Course.term)
        .join(Course.department)
        .options(contains_eager(Course.term), contains_eager(Course.department))
    )
    if q:
        stmt = stmt.where(or_(Course.code.icontains(q, autoescape=True),
                              Course.title.icontains(q, autoescape=True)))
    if term_code:
        stmt = stmt.where(Term.code == term_code)
    if department_code:
        stmt = stmt.where(Department.code == department_code)
    stmt = stmt.order_by(Term.classes_start.desc(), Term.code, Course.code, Course.id)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def availabilities(courses: list[Course]) -> dict[int, Availability]:
    """Seats and waitlist per course id, in one aggregate query."""
    counts = services.seat_counts(c.id for c in courses)
    return {c.id: availability(c, counts[c.id]) for c in courses}


def load_course(course_id: int) -> Course | None:
    """A course with its term, department and prerequisites (two queries)."""
    return db.session.scalar(
        select(Course)
        .options(joinedload(Course.term), joinedload(Course.department),
                 selectinload(Course.prerequisites))
        .where(Course.id == course_id)
    )


@dataclass(frozen=True)
class ViewerStatus:
    """The logged-in student's link to a course, as the course page shows it."""

    status: Status | None = None
    grade: str | None = None
    waitlist_position: int | None = None


def viewer_status(student: Student, course: Course) -> ViewerStatus:
    """The student's status in the course, with the waitlist position (one or two queries)."""
    link = db.session.get(Enrollment, (student.id, course.id))
    if link is None:
        return ViewerStatus()
    position = services.waitlist_position(link) if link.status == Status.WAITLISTED else None
    return ViewerStatus(link.status, link.grade, position)


def completed_codes(student: Student, codes: list[str]) -> set[str]:
    """Which of these course codes the student has completed (in any term), in one query."""
    if not codes:
        return set()
    return set(db.session.scalars(
        select(Course.code).join(Enrollment, Enrollment.course_id == Course.id)
        .where(Enrollment.student_id == student.id, Enrollment.status == Status.COMPLETED,
               Course.code.in_(codes))
    ))
