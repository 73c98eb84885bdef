"""The queries behind the reports: rosters, course statistics, the audit timeline, a student.

Each report page runs a fixed number of these, whatever the size of the data: rows are read
as plain columns (no ORM objects per row) and counted with SQL aggregates.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import (
    Date,
    DateTime,
    String,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import aliased, joinedload

from ..extensions import db
from ..models import (
    Course,
    Department,
    Enrollment,
    EnrollmentEvent,
    Status,
    Student,
    Term,
    User,
)

ROSTER_CHUNK = 1000


class RosterRow(NamedTuple):
    """One line of a roster, in the column order of the roster export.

    The rows of `iter_roster_chunks` are SQLAlchemy `Row`s with these fields, in this order.
    """

    student_number: str
    name: str
    email: str
    program: str
    status: str  # the plain value: "enrolled", "waitlisted" or "completed"
    waitlist_position: int | None
    enrolled_at: datetime  # naive UTC: when the current status began
    student_id: int  # not exported; links the printable roster to the student report


def load_course(course_id: int) -> Course | None:
    """The course with its term and department (one query), or None."""
    return db.session.scalar(
        select(Course).where(Course.id == course_id)
        .options(joinedload(Course.term), joinedload(Course.department))
    )


def find_course(term_code: str, course_code: str) -> tuple[Term | None, Course | None]:
    """Look a course up by term code and course code (for the command line)."""
    term = db.session.scalar(select(Term).where(Term.code == term_code))
    if term is None:
        return None, None
    course = db.session.scalar(
        select(Course).where(Course.term_id == term.id, Course.code == course_code)
        .options(joinedload(Course.term), joinedload(Course.department))
    )
    return term, course


def roster_statement():
    """The roster of the course given as the bound parameter `course_id`.

    Enrolled by name, then the waitlist in arrival order, then completed by name.

    Speed matters here (a roster may have thousands of lines): the database numbers the
    waitlist, and status and time come back as plain text and naive UTC datetimes, so no
    Python code runs per row before the CSV writer.
    """
    waitlisted = Enrollment.status == Status.WAITLISTED
    status_rank = case((Enrollment.status == Status.ENROLLED, 0), (waitlisted, 1), else_=2)
    # Counted per waitlisted row on the (course, status, seq) index: SQLite runs this several
    # times faster than a row_number() window over the whole roster.
    ahead = aliased(Enrollment)
    position = case((waitlisted, select(func.count()).where(
        ahead.course_id == Enrollment.course_id, ahead.status == Status.WAITLISTED,
        ahead.waitlist_seq <= Enrollment.waitlist_seq,
    ).correlate(Enrollment).scalar_subquery()))
    return (
        select(Student.student_number.label("student_number"), User.name.label("name"),
               User.email.label("email"), Student.program.label("program"),
               type_coerce(Enrollment.status, String).label("status"),
               position.label("waitlist_position"),
               type_coerce(Enrollment.status_changed_at, DateTime()).label("enrolled_at"),
               Student.id.label("student_id"))
        .select_from(Enrollment)
        .join(Student, Student.id == Enrollment.student_id)
        .join(User, User.id == Student.user_id)
        .where(Enrollment.course_id == bindparam("course_id"))
        .order_by(status_rank, Enrollment.waitlist_seq, func.lower(User.name), User.name,
                  Student.student_number)
    )


# Built once: constructing the statement costs more than running it for a short roster.
_roster_statement = None


def iter_roster_chunks(course_id: int, size: int = ROSTER_CHUNK) -> Iterator[list[RosterRow]]:
    """The roster in lists of at most `size` rows, read in constant memory.

    `yield_per` makes PostgreSQL use a server-side cursor (and SQLite fetches lazily anyway),
    so a roster of any length never sits in memory at once. Core execution on the session's
    connection: these are plain rows, the ORM has nothing to add.
    """
    global _roster_statement
    if _roster_statement is None:
        _roster_statement = roster_statement()
    result = db.session.connection().execute(
        _roster_statement, {"course_id": course_id}, execution_options={"yield_per": size})
    yield from result.partitions()


def roster_rows(course_id: int) -> list[RosterRow]:
    """The whole roster as a list (for the printable page)."""
    return [row for chunk in iter_roster_chunks(course_id) for row in chunk]


@dataclass(frozen=True)
class CourseStat:
    id: int
    term_code: str
    department_code: str
    code: str
    title: str
    instructor: str
    capacity: int
    waitlist_capacity: int
    enrolled: int
    waitlisted: int
    completed: int

    @property
    def fill_rate(self) -> float | None:
        """Enrolled seats over capacity (None when the course has no seats)."""
        return self.enrolled / self.capacity if self.capacity else None


@dataclass(frozen=True)
class Totals:
    label: str
    courses: int
    capacity: int
    enrolled: int
    waitlisted: int

    @property
    def fill_rate(self) -> float | None:
        return self.enrolled / self.capacity if self.capacity else None


def _counts():
    """Per-course counts of enrolled, waitlisted and completed links (a subquery)."""
    return (
        select(
            Enrollment.course_id.label("course_id"),
            func.count(case((Enrollment.status == Status.ENROLLED, 1))).label("enrolled"),
            func.count(case((Enrollment.status == Status.WAITLISTED, 1))).label("waitlisted"),
            func.count(case((Enrollment.status == Status.COMPLETED, 1))).label("completed"),
        )
        .group_by(Enrollment.course_id)
        .subquery("counts")
    )


def _course_filter(term_id: int | None, department_id: int | None) -> list:
    conditions = []
    if term_id is not None:
        conditions.append(Course.term_id == term_id)
    if department_id is not None:
        conditions.append(Course.department_id == department_id)
    return conditions


def course_stats(term_id: int | None, department_id: int | None = None, *, order: str = "fill",
                 limit: int | None = None, offset: int = 0) -> list[CourseStat]:
    """Capacity and seat counts per course, fullest first (`order="fill"`) or by code."""
    counts = _counts()
    enrolled = func.coalesce(counts.c.enrolled, 0)
    fill = enrolled * 1.0 / func.nullif(Course.capacity, 0)
    if order == "fill":
        ordering = [fill.desc().nulls_last(), Term.code, Department.code, Course.code, Course.id]
    else:
        ordering = [Term.code, Department.code, Course.code, Course.id]
    stmt = (
        select(Course.id, Term.code, Department.code, Course.code, Course.title,
               Course.instructor, Course.capacity, Course.waitlist_capacity, enrolled,
               func.coalesce(counts.c.waitlisted, 0), func.coalesce(counts.c.completed, 0))
        .join(Term, Term.id == Course.term_id)
        .join(Department, Department.id == Course.department_id)
        .outerjoin(counts, counts.c.course_id == Course.id)
        .where(*_course_filter(term_id, department_id))
        .order_by(*ordering)
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [CourseStat(*row) for row in db.session.execute(stmt)]


def department_totals(term_id: int | None, department_id: int | None = None) -> list[Totals]:
    """Courses, capacity, enrolled and waitlisted per department (one query), by code."""
    counts = _counts()
    stmt = (
        select(Department.code, func.count(Course.id), func.coalesce(func.sum(Course.capacity), 0),
               func.coalesce(func.sum(counts.c.enrolled), 0),
               func.coalesce(func.sum(counts.c.waitlisted), 0))
        .select_from(Course)
        .join(Department, Department.id == Course.department_id)
        .outerjoin(counts, counts.c.course_id == Course.id)
        .where(*_course_filter(term_id, department_id))
        .group_by(Department.code)
        .order_by(Department.code)
    )
    # PostgreSQL sums integers as NUMERIC (Decimal): make them ints again.
    return [Totals(code, *map(int, numbers)) for code, *numbers in db.session.execute(stmt)]


def grand_total(parts: list[Totals]) -> Totals:
    """The sum of department totals."""
    return Totals("All departments", sum(p.courses for p in parts),
                  sum(p.capacity for p in parts), sum(p.enrolled for p in parts),
                  sum(p.waitlisted for p in parts))


def all_terms() -> list[Term]:
    """Every term, the latest first."""
    return list(db.session.scalars(select(Term).order_by(Term.enrollment_opens.desc(), Term.code)))


def all_departments() -> list[Department]:
    return list(db.session.scalars(select(Department).order_by(Department.code)))


def default_term(terms: list[Term], now: datetime) -> Term | None:
    """The term whose enrollment opened last (the current one), else the next to open."""
    opened = [t for t in terms if t.enrollment_opens <= now]
    if opened:
        return opened[0]
    return terms[-1] if terms else None


def _net_enrolled_delta():
    """+1 when a change gave the link a seat, -1 when it took one away (from the audit's
    status before and after), so the running sum is the number enrolled."""
    before, after = EnrollmentEvent.status_before, EnrollmentEvent.status_after
    enrolled = Status.ENROLLED
    return case(
        (and_(after == enrolled, or_(before.is_(None), before != enrolled)), 1),
        (and_(before == enrolled, or_(after.is_(None), after != enrolled)), -1),
        else_=0,
    )


@dataclass(frozen=True)
class DayCount:
    day: date
    change: int
    total: int


def enrolled_over_time(term_id: int, department_id: int | None = None) -> list[DayCount]:
    """Net enrolled seats at the end of each day with audit events (UTC days), one query."""
    day = func.date(EnrollmentEvent.at, type_=Date)
    stmt = (
        select(day, func.sum(_net_enrolled_delta()))
        .join(Course, Course.id == EnrollmentEvent.course_id)
        .where(*_course_filter(term_id, department_id))
        .group_by(day)
        .order_by(day)
    )
    series, total = [], 0
    for when, change in db.session.execute(stmt):
        if isinstance(when, str):  # PostgreSQL returns a date, SQLite's date() text
            when = date.fromisoformat(when)
        total += int(change or 0)
        series.append(DayCount(when, int(change or 0), total))
    return series


def load_student(student_id: int) -> Student | None:
    """The student with the login identity (one query), or None."""
    return db.session.scalar(
        select(Student).where(Student.id == student_id).options(joinedload(Student.user))
    )


def student_links(student_id: int) -> list[Enrollment]:
    """The student's enrollments with course, term and department (one query), newest term
    first, then by status (enrolled, waitlisted, completed) and course code."""
    status_rank = case(
        (Enrollment.status == Status.ENROLLED, 0),
        (Enrollment.status == Status.WAITLISTED, 1),
        else_=2,
    )
    return list(db.session.scalars(
        select(Enrollment)
        .join(Course, Course.id == Enrollment.course_id)
        .join(Term, Term.id == Course.term_id)
        .where(Enrollment.student_id == student_id)
        .options(joinedload(Enrollment.course).joinedload(Course.term),
                 joinedload(Enrollment.course).joinedload(Course.department))
        .order_by(Term.enrollment_opens.desc(), status_rank, Course.code)
    ))


def student_history(student_id: int) -> list[EnrollmentEvent]:
    """The student's audit events, oldest first, with the acting user (one query)."""
    return list(db.session.scalars(
        select(EnrollmentEvent).where(EnrollmentEvent.student_id == student_id)
        .options(joinedload(EnrollmentEvent.actor))
        .order_by(EnrollmentEvent.at, EnrollmentEvent.id)
    ))
