"""Roster reports and enrollment statistics (staff only; a course's instructor may read that
course's roster pages and files too).

Every page runs a fixed number of queries (see `queries`); the CSV files are streamed from a
server-side cursor so that a roster of any length is sent in constant memory.
"""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    render_template,
    request,
    send_file,
    stream_with_context,
)
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from .. import clock, services
from ..auth.access import require_teaching, staff_required, teaching_required
from ..catalog.forms import page_number
from ..catalog.queries import (
    COURSE_PAGE,
    all_terms,
    availabilities,
    course_or_404,
    filter_choices,
)
from ..extensions import db
from ..models import MAX_ID, Status, Student
from ..oneroster import csv_format
from ..oneroster.csv_export import spooled_bundle
from ..replica import use_replica
from . import charts, exports, queries
from .forms import ReportFilterForm

bp = Blueprint("reports", __name__, url_prefix="/reports")
bp.before_request(use_replica)  # GETs may read a replica (DATABASE_REPLICA_URL)

PAGE_SIZE = 50
CHART_COURSES = 25
# Ids beyond a 32-bit integer cannot exist (SQLite overflows on them): 404 by routing.
ID = f"int(max={MAX_ID})"


def _flag(name: str) -> bool:
    return request.args.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _attachment(filename: str) -> dict:
    return {"Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store"}


def _filters(terms, departments) -> ReportFilterForm:
    return ReportFilterForm(request.args, terms, departments, now=clock.now())


def _paginate(stmt: Select, *, total: int | None = None) -> Pagination:
    """The requested page of `stmt`; a page past the end shows the last one.

    A page that has counted the rows already passes `total`, which saves db.paginate's count.
    """
    def one(page: int) -> Pagination:
        pagination = db.paginate(stmt, page=page, per_page=PAGE_SIZE, error_out=False,
                                 count=total is None)
        if total is not None:
            pagination.total = total
        return pagination

    pagination = one(page_number(request.args))
    if not pagination.items and pagination.page > 1 and pagination.total:
        pagination = one(pagination.pages)
    return pagination


@bp.get("/")
@staff_required
def index():
    """Terms and their courses, with links to each roster (paginated)."""
    form = _filters(all_terms(), [])
    chosen = form.cleaned()
    pagination = _paginate(queries.course_stats_statement(chosen, fullest_first=False))
    return render_template("reports/index.html", form=form, chosen=chosen,
                           pagination=pagination)


@bp.get(f"/courses/<{ID}:course_id>/roster")
@teaching_required
def roster(course_id: int):
    """The printable roster of one course."""
    course = course_or_404(course_id, *COURSE_PAGE)
    require_teaching(course)
    rows = queries.roster_rows(course.id)
    counts = {status.value: 0 for status in Status}
    for row in rows:
        counts[row.status] += 1
    now = clock.now()
    seats = availabilities([course], now=now)[course.id]
    return render_template("reports/roster.html", course=course, rows=rows, counts=counts,
                           seats=seats, generated_at=now, iso_utc=exports.iso_utc)


@bp.get(f"/courses/<{ID}:course_id>/roster.csv")
@teaching_required
def roster_csv(course_id: int):
    """The roster as CSV, streamed; `?bom=1` adds a byte-order mark for Excel."""
    course = course_or_404(course_id, *COURSE_PAGE)
    require_teaching(course)
    filename = exports.export_filename("roster", course.term.code, course.code, ext="csv")
    body = exports.roster_csv(queries.iter_roster_chunks(course.id), bom=_flag("bom"))
    return Response(stream_with_context(body), content_type=exports.CSV_MIMETYPE,
                    headers=_attachment(filename))


@bp.get(f"/courses/<{ID}:course_id>/roster.xlsx")
@teaching_required
def roster_xlsx(course_id: int):
    """The roster as an XLSX workbook."""
    course = course_or_404(course_id, *COURSE_PAGE)
    require_teaching(course)
    filename = exports.export_filename("roster", course.term.code, course.code, ext="xlsx")
    data = exports.course_roster_xlsx(course, now=clock.now(), zone=clock.school_zone())
    return Response(data, content_type=exports.XLSX_MIMETYPE, headers=_attachment(filename))


@bp.get("/enrollment")
@staff_required
def enrollment():
    """Capacity, enrolled, waitlisted and fill rate per course, with charts."""
    form = _filters(*filter_choices())
    chosen = form.cleaned()
    totals = queries.department_totals(chosen)
    total = queries.grand_total(totals)
    pagination = _paginate(queries.course_stats_statement(chosen), total=total.courses)
    stats = pagination.items
    department_chart = course_chart = timeline_chart = None
    if len(totals) > 1:
        department_chart = charts.fill_rate_bars(
            [(t.label, t.fill_rate, f"({t.taken}/{t.capacity})") for t in totals],
            title="Fill rate by department")
    if stats:
        course_chart = charts.fill_rate_bars(
            [(s.code, s.fill_rate, f"({s.taken}/{s.capacity})")
             for s in stats[:CHART_COURSES]],
            title="Fill rate by course, fullest first")
    series = []
    if chosen.term is not None:
        series = queries.enrolled_over_time(chosen.term.id, chosen.department_id, chosen.q)
        if series:
            timeline_chart = charts.timeline(
                [(d.day, d.total) for d in series],
                title=f"Enrolled students over time, {chosen.term.name}")
    return render_template(
        "reports/enrollment.html", form=form, chosen=chosen, totals=totals, total=total,
        stats=stats, pagination=pagination, department_chart=department_chart,
        course_chart=course_chart, timeline_chart=timeline_chart, series=series,
        chart_courses=CHART_COURSES,
    )


@bp.get("/enrollment.csv")
@staff_required
def enrollment_csv():
    """The statistics of every course matching the filters, as CSV."""
    form = _filters(*filter_choices())
    chosen = form.cleaned()
    stats = queries.course_stats(chosen)
    parts = ["enrollment", chosen.term.code if chosen.term else
             ("all-terms" if form.terms else "none")]
    if chosen.department:
        parts.append(chosen.department.code)
    filename = exports.export_filename(*parts, ext="csv")
    return Response(exports.stats_csv(stats, bom=_flag("bom")),
                    content_type=exports.CSV_MIMETYPE, headers=_attachment(filename))


@bp.get(f"/students/<{ID}:student_id>")
@staff_required
def student(student_id: int):
    """One student's courses, waitlists (with positions) and history."""
    student = db.one_or_404(
        select(Student).where(Student.id == student_id).options(joinedload(Student.user)))
    links = queries.student_links(student.id)
    positions = services.waitlist_positions(
        [link.course_id for link in links if link.status == Status.WAITLISTED])
    return render_template("reports/student.html", student=student, links=links,
                           positions=positions, history=services.history_for_student(student))


@bp.get("/oneroster.zip")
@staff_required
def oneroster_zip():
    """A OneRoster CSV bundle: `?version=1.1` (default) or `1.2`; `?since=TIME` for a delta."""
    version = request.args.get("version", "1.1").strip()
    if version not in csv_format.VERSIONS:
        abort(400, description=f"version must be {' or '.join(csv_format.VERSIONS)}.")
    since = None
    if request.args.get("since", "").strip():
        try:
            since = csv_format.parse_moment(request.args["since"])
        except ValueError:
            abort(400, description="since must be an ISO 8601 time (e.g. 2027-01-10T12:00Z).")
    parts = ["oneroster", version.replace(".", "p"), "delta" if since else "bulk"]
    bundle = spooled_bundle(version=version, since=since)
    response = send_file(bundle, mimetype="application/zip", as_attachment=True,
                         download_name=exports.export_filename(*parts, ext="zip"))
    response.call_on_close(bundle.close)
    response.headers["Cache-Control"] = "no-store"
    return response
