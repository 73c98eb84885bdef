"""The API's endpoints: terms, courses, rosters, enrollments and schedules.

Reads go through the catalog's, the reports' and the schedule's queries; writes through the
rules engine (`services.enroll`, `services.drop`) inside `write_transaction`, like the student
site and the admin: the same locks, the same audit trail, the same refusal codes (409).
"""
from __future__ import annotations

from flask import current_app
from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from .. import clock, services
from ..auth.access import may_teach
from ..auth.throttle import limiter
from ..catalog import queries
from ..catalog.forms import CourseFilter
from ..database import locks_itself, write_transaction
from ..extensions import db
from ..models import MAX_ID, Course, Department, Enrollment, Role, Scope, Source, Status, Term
from ..reports.queries import roster_statement
from ..schedule.queries import student_schedule
from . import auth, schemas
from .errors import ApiError, ErrorSchema, from_api_error, from_http_error
from .pagination import PAGE_HEADERS, page

bp = Blueprint("api", __name__, url_prefix="/api/v1",
               description="Terms, courses, rosters, enrollments and schedules.")
COURSE_ID = f"<int(max={MAX_ID}):course_id>"
# Every request is authenticated by its token before the view runs; errors answer in the
# API's shape (the blueprint's own handlers: flask-smorest's are not installed).
bp.before_request(auth.authenticate)
limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=auth.rate_key)(bp)
bp.register_error_handler(ApiError, from_api_error)
bp.register_error_handler(HTTPException, from_http_error)
REFUSED = "Refused by the rules: `reasons` lists every refusal code."


def _hhmm(value) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


def course_item(course: Course, seats) -> dict:
    return {"id": course.id, "code": course.code, "title": course.title,
            "term": course.term.code, "department": course.department.code,
            "credits": course.credits, "capacity": course.capacity,
            "enrolled": seats.enrolled, "waitlisted": seats.waitlisted,
            "seats_left": seats.seats_left, "days": course.days,
            "start_time": _hhmm(course.start_time), "end_time": _hhmm(course.end_time),
            "location": course.location, "instructor": course.instructor}


def _viewer():
    """The token's student, whose program decides which reserved seats are free to them."""
    return current_user.student if current_user.role == Role.STUDENT else None


def _by_code(model, code: str | None, field: str):
    if not code:
        return None
    found = db.session.scalar(select(model).where(model.code == code))
    if found is None:
        message = f"{field}: There is no {field} {code[:40]!r}."
        raise ApiError(422, message, reasons=[("invalid", message)])
    return found


def _counted(stmt, *, limit: int, offset: int) -> tuple[list, int]:
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    return list(db.session.scalars(stmt.limit(limit).offset(offset))), total


@bp.get("/terms")
@auth.require_scope(Scope.READ)
@bp.arguments(schemas.PageArgs, location="query")
@bp.response(200, schemas.TermPage, headers=PAGE_HEADERS)
def terms(args):
    """Terms, the newest first."""
    stmt = select(Term).order_by(*Term.display_order())
    found, total = _counted(stmt, limit=args["limit"], offset=args["offset"])
    return page(found, total=total, limit=args["limit"], offset=args["offset"])


@bp.get("/courses")
@auth.require_scope(Scope.READ)
@bp.arguments(schemas.CourseArgs, location="query")
@bp.response(200, schemas.CoursePage, headers=PAGE_HEADERS)
def courses(args):
    """Courses in catalog order, with seat counts: the catalog's search and filters."""
    chosen = CourseFilter(q=(args.get("q") or "").strip(),
                          term=_by_code(Term, args.get("term"), "term"),
                          department=_by_code(Department, args.get("department"), "department"),
                          open_seats=bool(args.get("open")))
    viewer, now = _viewer(), clock.now()
    stmt = queries.course_search(chosen, now=now,
                                 program=viewer.program if viewer is not None else None)
    found, total = _counted(stmt, limit=args["limit"], offset=args["offset"])
    seats = queries.availabilities(found, now=now, viewer=viewer)
    return page([course_item(c, seats[c.id]) for c in found], total=total,
                limit=args["limit"], offset=args["offset"])


@bp.get(f"/courses/{COURSE_ID}")
@auth.require_scope(Scope.READ)
@bp.response(200, schemas.CourseDetailSchema)
def course(course_id: int):
    """One course with its description, waitlist capacity and prerequisites."""
    found = queries.course_or_404(course_id, *queries.COURSE_DETAILS)
    seats = queries.availabilities([found], now=clock.now(), viewer=_viewer())[found.id]
    return {**course_item(found, seats), "description": found.description,
            "waitlist_capacity": found.waitlist_capacity,
            "prerequisites": sorted(p.code for p in found.prerequisites),
            "corequisites": sorted(c.code for c in found.corequisites),
            "crosslist": _crosslist(found, seats.count)}


def _crosslist(course: Course, count) -> dict | None:
    """A cross-listed section's group: its key, pool, seats left in it and every section."""
    if count.pool is None:
        return None
    others = queries.crosslisted_with(course)
    return {"key": course.crosslist.key, "capacity": count.pool,
            "seats_left": count.pool_left,
            "sections": sorted([course.code, *(c.code for c in others)])}


@bp.get(f"/courses/{COURSE_ID}/roster")
@auth.require_scope(Scope.ROSTER)
@bp.arguments(schemas.PageArgs, location="query")
@bp.response(200, schemas.RosterPage, headers=PAGE_HEADERS)
def roster(args, course_id: int):
    """The roster: enrolled, offered, waitlisted (in order), completed. Staff, or the
    course's instructor."""
    found = queries.course_or_404(course_id)
    if not may_teach(current_user, found):
        raise ApiError(403, "Only staff and the course's instructor may read its roster.")
    total = db.session.scalar(select(func.count()).select_from(Enrollment)
                              .where(Enrollment.course_id == found.id))
    rows = db.session.execute(roster_statement().limit(args["limit"]).offset(args["offset"]),
                              {"course_id": found.id})
    items = [{"student_number": r.student_number, "name": r.name, "email": r.email,
              "status": r.status, "waitlist_position": r.waitlist_position,
              "enrolled_at": clock.parse_datetime(r.enrolled_at)} for r in rows]
    return page(items, total=total, limit=args["limit"], offset=args["offset"])


def _refused(exc: services.EnrollmentRefused) -> ApiError:
    return ApiError(409, exc.message, code="refused",
                    reasons=[(r.code, r.message) for r in exc.reasons])


def _overrides(args) -> frozenset:
    override = frozenset(services.Override(o) for o in args.get("override") or ())
    if override:
        if not auth.is_staff():
            raise ApiError(403, "Only staff may override rules.")
        auth.check_scope(Scope.ADMIN)
        if not (args.get("reason") or "").strip():
            message = f"reason: {services.REASON_REQUIRED}"
            raise ApiError(422, message, reasons=[("invalid", message)])
    return override


def _locked_course(course_id: int, student_id: int) -> Course:
    try:
        return services.lock_course_for(course_id, student_id)
    except LookupError:
        raise ApiError(404, f"There is no course {course_id}.") from None


def _locked_together(course_id: int, together: list[int]) -> list[Course]:
    """The course and those taken with it (`with`), locked in id order; 404 for no course."""
    try:
        return services.together_courses(course_id, together)
    except LookupError:
        raise ApiError(404, f"There is no course {course_id}.") from None


@bp.post(f"/courses/{COURSE_ID}/enrollments")
@locks_itself
@auth.require_scope(Scope.ENROLL)
@bp.arguments(schemas.EnrollArgs)
@bp.response(201, schemas.EnrollmentSchema)
@bp.alt_response(409, schema=ErrorSchema, description=REFUSED)
def enroll(args, course_id: int):
    """Enroll a student, or put them on the waitlist when the seats are taken.

    A student's token enrolls itself (send `{}`); staff name the student and may override
    rules with a reason (scope `admin`)."""
    student = auth.student_for(args.get("student_number"))
    override = _overrides(args)
    staff = auth.is_staff()
    together = args["together"]
    kwargs = {"actor": current_user, "now": clock.now(), "override": override,
              "source": Source.STAFF if staff else Source.SELF,
              "reason": args.get("reason") or ""}
    try:
        with write_transaction(db.session):
            if together:
                courses = _locked_together(course_id, together)
                link, *others = services.enroll_together(student, courses, **kwargs)
            else:
                link, others = services.enroll(student, _locked_course(course_id, student.id),
                                               **kwargs), []
            result = {"student_number": student.student_number, "course_id": course_id,
                      "status": link.status.value,
                      "waitlist_position": link.joined_position}
            if together:
                result["together"] = [other.course_id for other in others]
    except services.EnrollmentRefused as exc:
        raise _refused(exc) from None
    return result


@bp.delete(f"/courses/{COURSE_ID}/enrollments/<string(maxlength=20):student_number>")
@locks_itself
@auth.require_scope(Scope.ENROLL)
@bp.arguments(schemas.DropArgs, location="query")
@bp.response(200, schemas.DropSchema)
@bp.alt_response(409, schema=ErrorSchema, description=REFUSED)
def drop(args, course_id: int, student_number: str):
    """Drop the course or leave its waitlist (a student's token: `me`); the freed seat goes
    to the waitlist. Staff may drop after the deadline with `override=deadline` and a reason
    (scope `admin`)."""
    student = auth.student_for(student_number)
    override = _overrides(args)
    together = args["together"]
    kwargs = {"actor": current_user, "now": clock.now(), "by_staff": auth.is_staff(),
              "override": override, "reason": args.get("reason") or ""}
    try:
        with write_transaction(db.session):
            if together:
                courses = _locked_together(course_id, together)
                result, *others = services.drop_together(student, courses, **kwargs)
                dropped = [c.id for c in courses[1:]]
            else:
                result = services.drop(student, _locked_course(course_id, student.id),
                                       **kwargs)
                others, dropped = [], []
            body = {"student_number": student.student_number, "course_id": course_id,
                    "previous_status": result.previous_status.value,
                    "promoted": sum(len(r.promoted) for r in (result, *others)),
                    "offered": sum(len(r.offered) for r in (result, *others))}
            if together:
                body["together"] = dropped
    except services.EnrollmentRefused as exc:
        raise _refused(exc) from None
    return body


@bp.get("/students/<string(maxlength=20):student_number>/schedule")
@auth.require_scope(Scope.READ)
@bp.response(200, schemas.ScheduleSchema)
def schedule(student_number: str):
    """A student's schedule by term, with waitlist positions and completed courses (a
    student's token: `me`)."""
    student = auth.student_for(student_number)
    found = student_schedule(student)
    terms = []
    for term in found.terms:
        courses = [_scheduled(c, Status.ENROLLED) for c in term.enrolled]
        courses += [_scheduled(c, Status.OFFERED, expires=at) for c, at in term.offered]
        courses += [_scheduled(c, Status.WAITLISTED, position=p, swap=found.swaps.get(c.id))
                    for c, p in term.waitlisted]
        terms.append({"code": term.term.code, "name": term.term.name,
                      "credits": term.credits, "courses": courses})
    completed = [{"id": c.id, "code": c.code, "title": c.title, "term": c.term.code,
                  "credits": c.credits, "grade": grade} for c, grade in found.completed]
    return {"student_number": student.student_number, "name": student.name, "terms": terms,
            "completed": completed}


def _scheduled(course: Course, status: Status, *, position=None, expires=None,
               swap: Course | None = None) -> dict:
    return {"id": course.id, "code": course.code, "title": course.title,
            "swap_drops": swap.id if swap is not None else None,
            "credits": course.credits, "status": status.value, "waitlist_position": position,
            "offer_expires_at": expires, "days": course.days,
            "start_time": _hhmm(course.start_time), "end_time": _hhmm(course.end_time),
            "location": course.location}

