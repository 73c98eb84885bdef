"""The queries behind the reports: rosters, course statistics, the audit timeline, a student.

Each report page runs a fixed number of these, whatever the size of the data: rows are read
as plain columns (no ORM objects per row) and counted with SQL aggregates. What the reports
share with the rest of the site is read through there: a course for a page and the filters
(`catalog.queries`), the status counts (`services.counts.STATUS_COUNTS`), a student's
history (`services.history_for_student`).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import (
    DateTime,
    Select,
    String,
    bindparam,
    case,
    func,
    select,
    type_coerce,
)
from sqlalchemy.orm import Bundle, aliased, joinedload

from ..catalog.forms import CourseFilter
from ..catalog.queries import COURSE_PAGE, course_conditions
from ..extensions import db
from ..models import (
    Course,
    Department,
    EnrolledDayChange,
    Enrollment,
    Status,
    Student,
    Term,
    User,
)
from ..services.counts import STATUS_COUNTS, same_line

ROSTER_CHUNK = 1000


class RosterRow(NamedTuple):
    """One line of a roster, in the column order of the roster export.

    The rows of `iter_roster_chunks` are SQLAlchemy `Row`s with these fields, in this order.
    """

    student_number: str
    name: str
    email: str
    program: str
    status: str  # the plain value: "enrolled", "offered", "waitlisted" or "completed"
    waitlist_position: int | None
    enrolled_at: datetime  # naive UTC: when the current status began
    student_id: int  # not exported; links the printable roster to the student report


def find_course(term_code: str, course_code: str) -> tuple[Term | None, Course | None]:
    """Look a course up by term code and course code (for the command line)."""
    term = db.session.scalar(select(Term).where(Term.code == term_code))
    if term is None:
        return None, None
    course = db.session.scalar(
        select(Course).where(Course.term_id == term.id, Course.code == course_code)
        .options(*COURSE_PAGE)
    )
    return term, course


def roster_statement():
    """The roster of the course given as the bound parameter `course_id`.

    Enrolled by name, then the seats offered (by name; no waitlist position), then the
    waitlist in arrival order, then completed by name.

    Speed matters here (a roster may have thousands of lines): the database numbers the
    waitlist, and status and time come back as plain text and naive UTC datetimes, so no
    Python code runs per row before the CSV writer.
    """
    waitlisted = Enrollment.status == Status.WAITLISTED
    status_rank = case((Enrollment.status == Status.ENROLLED, 0),
                       (Enrollment.status == Status.OFFERED, 1), (waitlisted, 2), else_=3)
    # Counted per waitlisted row on the (course, status, seq) index: SQLite runs this several
    # times faster than a row_number() window over the whole roster.
    ahead = aliased(Enrollment)
    position = case((waitlisted, select(func.count()).where(
        same_line(Enrollment.course_id, ahead.course_id), ahead.status == Status.WAITLISTED,
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
    offered: int = 0  # seats held for waitlisted students: taken, like enrolled ones

    @property
    def taken(self) -> int:
        return self.enrolled + self.offered

    @property
    def fill_rate(self) -> float | None:
        """Taken seats (enrolled and offered) over capacity (None when it has no seats)."""
        return self.taken / self.capacity if self.capacity else None


@dataclass(frozen=True)
class Totals:
    label: str
    courses: int
    capacity: int
    enrolled: int
    waitlisted: int
    offered: int = 0

    @property
    def taken(self) -> int:
        return self.enrolled + self.offered

    @property
    def fill_rate(self) -> float | None:
        return self.taken / self.capacity if self.capacity else None


class _CourseStats(Bundle):
    """A row as one CourseStat. `db.paginate` keeps the first column of each row, and a
    bundle is a single column: so the page's rows and their counts come in one query."""

    def create_row_processor(self, query, procs, labels):
        def make(row):
            return CourseStat(*(proc(row) for proc in procs))

        return make


def _matching(chosen: CourseFilter) -> list:
    return course_conditions(chosen.q, chosen.term_id, chosen.department_id)


def course_stats_statement(chosen: CourseFilter, *, fullest_first: bool = True) -> Select:
    """Capacity and seat counts of the matching courses, the fullest first or else by term
    (`Term.display_order`), department and code: each row one CourseStat, for
    `db.paginate` (or `db.session.scalars`)."""
    counts = STATUS_COUNTS.c
    enrolled = func.coalesce(counts.enrolled, 0)
    fill = func.coalesce(counts.seated, 0) * 1.0 / func.nullif(Course.capacity, 0)
    ordering = [*Term.display_order(), Department.code, Course.code, Course.id]
    if fullest_first:
        ordering.insert(0, fill.desc().nulls_last())
    return (
        select(_CourseStats(
            "stat", Course.id, Term.code, Department.code, Course.code, Course.title,
            Course.instructor, Course.capacity, Course.waitlist_capacity, enrolled,
            func.coalesce(counts.waitlisted, 0), func.coalesce(counts.completed, 0),
            func.coalesce(counts.offered, 0)))
        .select_from(Course)
        .join(Term, Term.id == Course.term_id)
        .join(Department, Department.id == Course.department_id)
        .outerjoin(STATUS_COUNTS, counts.course_id == Course.id)
        .where(*_matching(chosen))
        .order_by(*ordering)
    )


def course_stats(chosen: CourseFilter) -> list[CourseStat]:
    """Every matching course's statistics, fullest first (for the CSV file)."""
    return list(db.session.scalars(course_stats_statement(chosen)))


def department_totals(chosen: CourseFilter) -> list[Totals]:
    """Courses, capacity, enrolled and waitlisted per department (one query), by code."""
    counts = STATUS_COUNTS.c
    stmt = (
        select(Department.code, func.count(Course.id), func.coalesce(func.sum(Course.capacity), 0),
               func.coalesce(func.sum(counts.enrolled), 0),
               func.coalesce(func.sum(counts.waitlisted), 0),
               func.coalesce(func.sum(counts.offered), 0))
        .select_from(Course)
        .join(Department, Department.id == Course.department_id)
        .outerjoin(STATUS_COUNTS, counts.course_id == Course.id)
        .where(*_matching(chosen))
        .group_by(Department.code)
        .order_by(Department.code)
    )
    # PostgreSQL sums integers as NUMERIC (Decimal): make them ints again.
    return [Totals(code, *map(int, numbers)) for code, *numbers in db.session.execute(stmt)]


def grand_total(parts: list[Totals]) -> Totals:
    """The sum of department totals."""
    return Totals("All departments", sum(p.courses for p in parts),
                  sum(p.capacity for p in parts), sum(p.enrolled for p in parts),
                  sum(p.waitlisted for p in parts), sum(p.offered for p in parts))


@dataclass(frozen=True)
class DayCount:
    day: date
    change: int
    total: int


def enrolled_over_time(term_id: int, department_id: int | None = None,
                       q: str = "") -> list[DayCount]:
    """Net enrolled seats at the end of each day with audit events (UTC days), one query
    over the per-course, per-day changes the database keeps (`models.summaries`)."""
    day = EnrolledDayChange.day
    stmt = (
        select(day, func.sum(EnrolledDayChange.change))
        .join(Course, Course.id == EnrolledDayChange.course_id)
        .where(*course_conditions(q, term_id, department_id))
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


def student_links(student_id: int) -> list[Enrollment]:
    """The student's enrollments with course, term and department (one query), newest term
    first, then by status (enrolled, offered, waitlisted, completed) and course code."""
    status_rank = case(
        (Enrollment.status == Status.ENROLLED, 0),
        (Enrollment.status == Status.OFFERED, 1),
        (Enrollment.status == Status.WAITLISTED, 2),
        else_=3,
    )
    return list(db.session.scalars(
        select(Enrollment)
        .join(Course, Course.id == Enrollment.course_id)
        .join(Term, Term.id == Course.term_id)
        .where(Enrollment.student_id == student_id)
        .options(joinedload(Enrollment.course).joinedload(Course.term),
                 joinedload(Enrollment.course).joinedload(Course.department))
        .order_by(*Term.display_order(), status_rank, Course.code)
    ))
