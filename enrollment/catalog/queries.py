"""What the catalog and course pages read, each in a fixed number of queries.

The reports read through here too: one course for a page (`course_or_404`), the filter
choices and the filter conditions are the same for both.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import abort
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import and_, bindparam, case, func, or_, select
from sqlalchemy.orm import aliased, contains_eager, joinedload, selectinload

from .. import clock, services
from ..extensions import db
from ..models import (
    DAY_LETTERS,
    SEAT_STATUSES,
    Course,
    Crosslist,
    Department,
    Enrollment,
    Reservation,
    Status,
    Student,
    Term,
    crosslist_sections,
    parse_id,
    program_key,
)
from ..services import grades
from ..services.counts import same_line
from .availability import Availability
from .forms import CREDITS_OR_MORE, TIMES_OF_DAY, CourseFilter

# What a page about one course shows with it, for `course_or_404`: every such page its term
# and department (the rosters, say), the course page its prerequisites and co-requisites
# as well.
COURSE_PAGE = (joinedload(Course.term), joinedload(Course.department))
COURSE_DETAILS = (*COURSE_PAGE, selectinload(Course.prerequisites),
                  selectinload(Course.corequisites))


def course_or_404(course_id: int, *options) -> Course:
    """The course a page or an action is about, loaded with the eager-load `options` the page
    needs (`COURSE_PAGE`, say) in one query (plus one per `selectinload`), or a 404.

    An id beyond the INTEGER range cannot exist, and PostgreSQL would refuse the query: 404
    without asking. The routes' converters stop such ids already; this keeps any caller safe.
    """
    if parse_id(course_id) is None:
        abort(404)
    # A statement, not `db.get_or_404`: `session.get` of a course already in the session
    # would skip the eager loads and lazy-load the term and department one by one.
    return db.one_or_404(select(Course).where(Course.id == course_id).options(*options))


def all_terms() -> list[Term]:
    """Every term, in `Term.display_order` (the newest first): one query."""
    return list(db.session.scalars(select(Term).order_by(*Term.display_order())))


def all_departments() -> list[Department]:
    """Every department, by code: one query."""
    return list(db.session.scalars(select(Department).order_by(Department.code)))


def filter_choices() -> tuple[list[Term], list[Department]]:
    """Terms and departments for the filter selects: two queries."""
    return all_terms(), all_departments()


SEARCH_WORDS = 8  # words of a search that are matched; more say nothing new


def search_condition(q: str):
    """A search as people type it, any case (wildcards taken literally): the code with the
    spaces left out ("math 151" and "cs 1" find MATH151 and CS101), or every word in the
    title, in any order ("intro programming")."""
    words = q.split()[:SEARCH_WORDS]
    return or_(
        func.replace(Course.code, " ", "").icontains("".join(words), autoescape=True),
        and_(*(Course.title.icontains(word, autoescape=True) for word in words)))


def course_conditions(q: str = "", term_id: int | None = None,
                      department_id: int | None = None) -> list:
    """WHERE conditions on Course: matching the search `q` (see `search_condition`), in the
    term, in the department; an empty value leaves that condition out."""
    conditions = []
    if q:
        conditions.append(search_condition(q))
    if term_id is not None:
        conditions.append(Course.term_id == term_id)
    if department_id is not None:
        conditions.append(Course.department_id == department_id)
    return conditions


def _program_sql(column):
    """`program_key` in SQL: programs match ignoring case and surrounding spaces."""
    return func.lower(func.trim(func.coalesce(column, "")))


def has_free_seat(*, now: datetime, program: str | None):
    """SQL condition: the course has a seat that a student of `program` may take now (None:
    anyone), as `SeatCount.free_seats` counts it: capacity less the enrolled and the unused
    seats reserved for other programs until a time still ahead."""
    enrolled = (select(func.count()).select_from(Enrollment)
                .where(Enrollment.course_id == Course.id,
                       Enrollment.status.in_(SEAT_STATUSES))  # offered seats are taken too
                .scalar_subquery())
    members = (select(func.count()).select_from(Enrollment)
               .join(Student, Student.id == Enrollment.student_id)
               .where(Enrollment.course_id == Reservation.course_id,
                      Enrollment.status.in_(SEAT_STATUSES),
                      _program_sql(Student.program) == _program_sql(Reservation.program))
               .scalar_subquery())
    others = [Reservation.course_id == Course.id, Reservation.released_at.is_(None),
              Reservation.release_at > now]
    if program is not None:
        others.append(_program_sql(Reservation.program) != program_key(program))
    held = (select(func.coalesce(func.sum(
                case((Reservation.seats > members, Reservation.seats - members), else_=0)), 0))
            .where(*others).scalar_subquery())
    # A cross-listed section also needs a seat in its group's pool.
    peers = crosslist_sections.alias("peers")
    pooled = (select(func.count()).select_from(peers)
              .join(Enrollment, Enrollment.course_id == peers.c.course_id)
              .where(peers.c.crosslist_id == Crosslist.id,
                     Enrollment.status.in_(SEAT_STATUSES))
              .scalar_subquery())
    pool_full = (select(crosslist_sections.c.course_id)
                 .join(Crosslist, Crosslist.id == crosslist_sections.c.crosslist_id)
                 .where(crosslist_sections.c.course_id == Course.id,
                        Crosslist.capacity <= pooled)
                 .exists())
    return and_(Course.capacity > enrolled + held, ~pool_full)


def planning_conditions(chosen: CourseFilter, *, now: datetime, program: str | None) -> list:
    """WHERE conditions of the catalog's own filters: a free seat, meeting days, the time of
    day a course starts, its credits."""
    conditions = []
    if chosen.open_seats:  # a seat that can still be taken: not in a term already closed
        conditions.append(has_free_seat(now=now, program=program))
        conditions.append(Term.enrollment_closes >= now)
    if chosen.days:
        conditions.append(Course.days != "")
        conditions.extend(~Course.days.contains(d) for d in DAY_LETTERS if d not in chosen.days)
    if chosen.time_of_day:
        _, since, until = TIMES_OF_DAY[chosen.time_of_day]
        conditions.append(Course.start_time >= since)
        if until is not None:
            conditions.append(Course.start_time < until)
    if chosen.credits is not None:
        conditions.append(Course.credits >= chosen.credits if chosen.credits == CREDITS_OR_MORE
                          else Course.credits == chosen.credits)
    return conditions


def search_courses(chosen: CourseFilter, *, page: int, per_page: int,
                   now: datetime | None = None, program: str | None = None) -> Pagination:
    """One page of matching courses with their term and department (a count and a select).

    `now` and `program` (the viewer's) say which seats are free for `open_seats`."""
    stmt = course_search(chosen, now=now or clock.now(), program=program)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def course_search(chosen: CourseFilter, *, now: datetime, program: str | None):
    """The matching courses with their term and department, in catalog order: the statement
    behind the catalog's pages and the API's `/courses`."""
    return (
        select(Course)
        .join(Course.term)
        .join(Course.department)
        .options(contains_eager(Course.term), contains_eager(Course.department))
        .where(*course_conditions(chosen.q, chosen.term_id, chosen.department_id),
               *planning_conditions(chosen, now=now, program=program))
        .order_by(*Term.display_order(), Course.code, Course.id)
    )


def availabilities(courses: list[Course], *, now: datetime, viewer: Student | None = None
                   ) -> dict[int, Availability]:
    """Seats and waitlist per course id as the viewer may take them, in one aggregate query."""
    counts = services.seat_counts((c.id for c in courses), now=now)
    program = viewer.program if viewer is not None else None
    return {c.id: Availability(c, counts[c.id], program) for c in courses}


@dataclass(frozen=True)
class ViewerStatus:
    """The logged-in student's link to a course, as the course page shows it."""

    status: Status | None = None
    grade: str | None = None
    waitlist_position: int | None = None
    offer_expires_at: datetime | None = None  # when the seat offered to the student goes on
    offer_expired: bool = False  # the offer ran out (it is settled by the next change)


def viewer_statuses(student: Student | None, courses: list[Course]) -> dict[int, ViewerStatus]:
    """The viewer's status in each listed course that they are linked to (the catalog's
    rows): one query, and one more for the positions when some are waitlisted."""
    if student is None or not courses:
        return {}
    links = list(db.session.execute(
        select(Enrollment.course_id, Enrollment.status, Enrollment.grade,
               Enrollment.offer_expires_at)
        .where(Enrollment.student_id == student.id,
               Enrollment.course_id.in_([c.id for c in courses]))))
    waiting = [course_id for course_id, status, _, _ in links if status == Status.WAITLISTED]
    positions = services.waitlist_positions(waiting) if waiting else {}
    now = clock.now()
    return {course_id: ViewerStatus(status, grade, positions.get((student.id, course_id)),
                                    expires, expires is not None and expires <= now)
            for course_id, status, grade, expires in links}


def viewer_status(student: Student, course: Course) -> ViewerStatus:
    """The student's status in the course, with the waitlist position (one or two queries)."""
    link = db.session.get(Enrollment, (student.id, course.id))
    if link is None:
        return ViewerStatus()
    position = services.waitlist_position(link) if link.status == Status.WAITLISTED else None
    expires = link.offer_expires_at
    return ViewerStatus(link.status, link.grade, position, expires,
                        expires is not None and expires <= clock.now())


# A student's link to a course, and the label of the course: built once (a statement made
# per request costs more to build than to run), run with the ids as parameters.
_VIEWER_LINK = aliased(Enrollment, name="viewer_link")
_AHEAD = (select(func.count()).select_from(Enrollment)
          .where(same_line(bindparam("course_id")), Enrollment.status == Status.WAITLISTED,
                 Enrollment.waitlist_seq <= _VIEWER_LINK.waitlist_seq)
          .correlate(_VIEWER_LINK).scalar_subquery())
_COURSE_AND_LINK = (
    select(Course.code, Course.title, _VIEWER_LINK.status, _VIEWER_LINK.grade,
           case((_VIEWER_LINK.status == Status.WAITLISTED, _AHEAD)))
    .outerjoin(_VIEWER_LINK, and_(_VIEWER_LINK.course_id == Course.id,
                                  _VIEWER_LINK.student_id == bindparam("student_id")))
    .where(Course.id == bindparam("course_id")))


def course_and_link(student_id: int, course_id: int) -> tuple[str, ViewerStatus] | None:
    """A course's label and the student's link to it, read without a lock in one query (None:
    no such course): a repeated enroll is answered from it, without queueing for the lock."""
    row = db.session.execute(_COURSE_AND_LINK, {"student_id": student_id,
                                                "course_id": course_id}).first()
    if row is None:
        return None
    code, title, status, grade, position = row
    return f"{code} {title}", ViewerStatus(status, grade, position)


def crosslisted_with(course: Course) -> list[Course]:
    """The other sections of the course's cross-listed group, by code (one query)."""
    mine, peers = crosslist_sections.alias("mine"), crosslist_sections.alias("peers")
    return list(db.session.scalars(
        select(Course).join(peers, peers.c.course_id == Course.id)
        .join(mine, mine.c.crosslist_id == peers.c.crosslist_id)
        .where(mine.c.course_id == course.id, Course.id != course.id).order_by(Course.code)))


def term_links(student: Student, course: Course) -> dict[int, tuple[Course, Status]]:
    """The student's other enrolled and waitlisted courses of the course's term, by id, in
    code order (one query): the course page reads co-requisites and swaps from them."""
    return {c.id: (c, status) for c, status in db.session.execute(
        select(Course, Enrollment.status).join(Enrollment, Enrollment.course_id == Course.id)
        .where(Enrollment.student_id == student.id, Course.term_id == course.term_id,
               Course.id != course.id,
               Enrollment.status.in_((Status.ENROLLED, Status.WAITLISTED)))
        .order_by(Course.code))}


def swappable_for(course: Course, held: dict[int, tuple[Course, Status]], *,
                  crosslisted=()) -> list[Course]:
    """Of the student's courses of the term (`term_links`), those the course page offers to
    swap for `course`: meeting at the same time, of the same code, or cross-listed with it
    (the ids `crosslisted`)."""
    return [c for c, _ in held.values()
            if c.code == course.code or c.id in crosslisted or course.overlaps(c)]


def completed_codes(student: Student, codes: list[str]) -> set[str]:
    """Which of these course codes the student has passed (in any term), in one query."""
    if not codes:
        return set()
    return {code for code, grade in db.session.execute(
        select(Course.code, Enrollment.grade).join(Enrollment, Enrollment.course_id == Course.id)
        .where(Enrollment.student_id == student.id, Enrollment.status == Status.COMPLETED,
               Course.code.in_(codes))
    ) if grades.passed(grade)}
