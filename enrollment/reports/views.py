"""Roster reports and enrollment statistics (staff only).

Every page runs a fixed number of queries (see `queries`); the CSV files are streamed from a
server-side cursor so that a roster of any length is sent in constant memory.
"""
from __future__ import annotations

from math import ceil

from flask import Blueprint, Response, abort, render_template, request, stream_with_context

from .. import clock
from ..auth.access import staff_required
from ..models import MAX_ID, Course, Department, Status, Term
from . import charts, exports, queries

bp = Blueprint("reports", __name__, url_prefix="/reports")

PAGE_SIZE = 50
CHART_COURSES = 25
# Ids beyond a 32-bit integer cannot exist (SQLite overflows on them): 404 by routing.
ID = f"int(max={MAX_ID})"


def _course_or_404(course_id: int) -> Course:
    course = queries.load_course(course_id)
    if course is None:
        abort(404)
    return course


def _flag(name: str) -> bool:
    return request.args.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _page() -> int:
    page = request.args.get("page", 1, type=int)
    return max(page or 1, 1)


def _attachment(filename: str) -> dict:
    return {"Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store"}


class Filters:
    """The term and department chosen in the query string, with a note for unknown codes."""

    def __init__(self, terms: list[Term], departments: list[Department]):
        self.terms, self.departments, self.problems = terms, departments, []
        code = request.args.get("term", "").strip()
        self.all_terms = code == "all"
        self.term = None
        if code and not self.all_terms:
            self.term = next((t for t in terms if t.code == code), None)
            if self.term is None:
                self.problems.append(f"There is no term with code “{code}”; showing the "
                                     "current term instead.")
        if self.term is None and not self.all_terms:
            self.term = queries.default_term(terms, clock.now())
        code = request.args.get("department", "").strip()
        self.department = None
        if code:
            self.department = next((d for d in departments if d.code == code), None)
            if self.department is None:
                self.problems.append(f"There is no department with code “{code}”; showing "
                                     "every department instead.")

    @property
    def term_id(self) -> int | None:
        return self.term.id if self.term else None

    @property
    def department_id(self) -> int | None:
        return self.department.id if self.department else None

    def args(self, **extra) -> dict:
        """Query-string arguments that keep these filters (for links)."""
        values = {"term": "all" if self.all_terms else (self.term.code if self.term else None),
                  "department": self.department.code if self.department else None}
        values.update(extra)
        return {k: v for k, v in values.items() if v not in (None, "")}


@bp.get("/")
@staff_required
def index():
    """Terms and their courses, with links to each roster (paginated)."""
    filters = Filters(queries.all_terms(), [])
    page = _page()
    totals = queries.department_totals(filters.term_id)
    count = sum(t.courses for t in totals)
    pages = max(ceil(count / PAGE_SIZE), 1)
    page = min(page, pages)
    courses = queries.course_stats(filters.term_id, order="code", limit=PAGE_SIZE,
                                   offset=(page - 1) * PAGE_SIZE)
    return render_template("reports/index.html", filters=filters, courses=courses,
                           page=page, pages=pages, count=count)


@bp.get(f"/courses/<{ID}:course_id>/roster")
@staff_required
def roster(course_id: int):
    """The printable roster of one course."""
    course = _course_or_404(course_id)
    rows = queries.roster_rows(course.id)
    counts = {status.value: 0 for status in Status}
    for row in rows:
        counts[row.status] += 1
    return render_template("reports/roster.html", course=course, rows=rows, counts=counts,
                           generated_at=clock.now(), iso_utc=exports.iso_utc)


@bp.get(f"/courses/<{ID}:course_id>/roster.csv")
@staff_required
def roster_csv(course_id: int):
    """The roster as CSV, streamed; `?bom=1` adds a byte-order mark for Excel."""
    course = _course_or_404(course_id)
    filename = exports.export_filename("roster", course.term.code, course.code, ext="csv")
    body = exports.roster_csv(queries.iter_roster_chunks(course.id), bom=_flag("bom"))
    return Response(stream_with_context(body), content_type=exports.CSV_MIMETYPE,
                    headers=_attachment(filename))


@bp.get(f"/courses/<{ID}:course_id>/roster.xlsx")
@staff_required
def roster_xlsx(course_id: int):
    """The roster as an XLSX workbook."""
    course = _course_or_404(course_id)
    filename = exports.export_filename("roster", course.term.code, course.code, ext="xlsx")
    data = exports.roster_xlsx(queries.iter_roster_chunks(course.id),
                               title=f"{course.term.code} {course.code}")
    return Response(data, content_type=exports.XLSX_MIMETYPE, headers=_attachment(filename))


@bp.get("/enrollment")
@staff_required
def enrollment():
    """Capacity, enrolled, waitlisted and fill rate per course, with charts."""
    filters = Filters(queries.all_terms(), queries.all_departments())
    totals = queries.department_totals(filters.term_id, filters.department_id)
    total = queries.grand_total(totals)
    pages = max(ceil(total.courses / PAGE_SIZE), 1)
    page = min(_page(), pages)
    stats = queries.course_stats(filters.term_id, filters.department_id, limit=PAGE_SIZE,
                                 offset=(page - 1) * PAGE_SIZE)
    department_chart = course_chart = timeline_chart = None
    if len(totals) > 1:
        department_chart = charts.fill_rate_bars(
            [(t.label, t.fill_rate, f"({t.enrolled}/{t.capacity})") for t in totals],
            title="Fill rate by department")
    if stats:
        course_chart = charts.fill_rate_bars(
            [(s.code, s.fill_rate, f"({s.enrolled}/{s.capacity})")
             for s in stats[:CHART_COURSES]],
            title="Fill rate by course, fullest first")
    series = []
    if filters.term is not None:
        series = queries.enrolled_over_time(filters.term.id, filters.department_id)
        if series:
            timeline_chart = charts.timeline(
                [(d.day, d.total) for d in series],
                title=f"Enrolled students over time, {filters.term.name}")
    return render_template(
        "reports/enrollment.html", filters=filters, totals=totals, total=total, stats=stats,
        page=page, pages=pages, department_chart=department_chart, course_chart=course_chart,
        timeline_chart=timeline_chart, series=series, chart_courses=CHART_COURSES,
    )


@bp.get("/enrollment.csv")
@staff_required
def enrollment_csv():
    """The statistics of every course matching the filters, as CSV."""
    filters = Filters(queries.all_terms(), queries.all_departments())
    stats = queries.course_stats(filters.term_id, filters.department_id)
    parts = ["enrollment", "all-terms" if filters.all_terms else
             (filters.term.code if filters.term else "none")]
    if filters.department:
        parts.append(filters.department.code)
    filename = exports.export_filename(*parts, ext="csv")
    return Response(exports.stats_csv(stats, bom=_flag("bom")),
                    content_type=exports.CSV_MIMETYPE, headers=_attachment(filename))


@bp.get(f"/students/<{ID}:student_id>")
@staff_required
def student(student_id: int):
    """One student's courses, waitlists (with positions) and history."""
    from ..services import waitlist_positions

    student = queries.load_student(student_id)
    if student is None:
        abort(404)
    links = queries.student_links(student.id)
    positions = waitlist_positions(
        [link.course_id for link in links if link.status == Status.WAITLISTED])
    history = queries.student_history(student.id)
    return render_template("reports/student.html", student=student, links=links,
                           positions=positions, history=history)
