"""`/teach/`: an instructor's courses (staff: every course), each with its roster, waitlist and
the permissions granted to enroll past named rules.

An instructor sees only the courses whose `instructor_id` is theirs; any other course is 403
(`auth.access.require_teaching`), here and on the course's roster reports.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import clock, services
from ..auth.access import require_teaching, teaching_required
from ..catalog.forms import page_number
from ..catalog.queries import COURSE_PAGE, all_terms, availabilities, course_or_404
from ..database import locks_itself, write_transaction
from ..extensions import db
from ..models import MAX_ID, Course, Permission, Status, Student
from ..reports import queries as report_queries
from ..reports.forms import ReportFilterForm
from ..services.permissions import PERMISSION_OVERRIDES, UNAVAILABLE
from .forms import PermissionForm, RevokeForm

bp = Blueprint("teach", __name__, url_prefix="/teach")

PAGE_SIZE = 50
ID = f"int(max={MAX_ID})"


@bp.get("/")
@teaching_required
def index():
    """The instructor's courses (staff: every course), by term, paginated."""
    form = ReportFilterForm(request.args, all_terms(), [], now=clock.now())
    chosen = form.cleaned()
    stmt = report_queries.course_stats_statement(chosen, fullest_first=False)
    if not current_user.is_staff:
        stmt = stmt.where(Course.instructor_id == current_user.id)
    pagination = db.paginate(stmt, page=page_number(request.args), per_page=PAGE_SIZE,
                             error_out=False)
    if not pagination.items and pagination.page > 1 and pagination.total:
        pagination = db.paginate(stmt, page=pagination.pages, per_page=PAGE_SIZE,
                                 error_out=False)
    return render_template("teach/index.html", form=form, chosen=chosen,
                           pagination=pagination)


def _course(course_id: int) -> Course:
    course = course_or_404(course_id, *COURSE_PAGE)
    require_teaching(course)
    return course


def _permissions(course_id: int) -> list[Permission]:
    """The course's permissions, the newest first, with their student and who granted or
    revoked them (one query)."""
    return list(db.session.scalars(
        select(Permission).where(Permission.course_id == course_id)
        .options(joinedload(Permission.student).joinedload(Student.user),
                 joinedload(Permission.granted_by), joinedload(Permission.revoked_by))
        .order_by(Permission.granted_at.desc(), Permission.id.desc())))


@bp.get(f"/courses/<{ID}:course_id>")
@teaching_required
def course(course_id: int):
    """One course: roster (with the date of each status), waitlist (in order), permissions
    and the form that grants one."""
    course = _course(course_id)
    now = clock.now()
    rows = report_queries.roster_rows(course.id)
    enrolled = [r for r in rows if r.status == Status.ENROLLED]
    waitlisted = [r for r in rows if r.status == Status.WAITLISTED]
    offered = [r for r in rows if r.status == Status.OFFERED]
    return render_template(
        "teach/course.html", course=course, enrolled=enrolled, waitlisted=waitlisted,
        offered=offered,
        completed=sum(1 for r in rows if r.status == Status.COMPLETED),
        seats=availabilities([course], now=now)[course.id], permissions=_permissions(course.id),
        form=PermissionForm(), revoke_form=RevokeForm(), rules=PERMISSION_OVERRIDES,
        unavailable=UNAVAILABLE)


def _back(course_id: int):
    return redirect(url_for("teach.course", course_id=course_id), code=303)


@bp.post(f"/courses/<{ID}:course_id>/permissions")
@locks_itself
@teaching_required
def grant(course_id: int):
    """Grant a student permission to enroll past the chosen rules, once; 303 back with a
    message (a refusal changes nothing)."""
    course = _course(course_id)
    form = PermissionForm()
    if not form.validate():
        flash("No permission granted. " + " ".join(form.problems()), "danger")
        return _back(course_id)
    student = db.session.scalar(select(Student).options(joinedload(Student.user))
                                .where(Student.student_number == form.student_number.data))
    if student is None:
        flash(f"No permission granted: there is no student with number "
              f"{form.student_number.data}.", "danger")
        return _back(course_id)
    who, label = f"{student.name} ({student.student_number})", course.code
    try:
        with write_transaction(db.session):
            permission = services.grant_permission(
                course, student, form.rules.data or [], reason=form.reason.data,
                actor=current_user, now=clock.now())
            rules = ", ".join(permission.rule_names)
    except services.EnrollmentRefused as exc:
        flash(f"No permission granted: {exc.message}", "danger")
    else:
        flash(f"{who} may now enroll in {label} past: {rules} (once). They enroll "
              "themselves on the course page.", "success")
    return _back(course_id)


@bp.post(f"/courses/<{ID}:course_id>/permissions/<{ID}:permission_id>/revoke")
@locks_itself
@teaching_required
def revoke(course_id: int, permission_id: int):
    """Revoke a permission that has not been used; 303 back with a message."""
    _course(course_id)
    permission = db.one_or_404(
        select(Permission).where(Permission.id == permission_id,
                                 Permission.course_id == course_id)
        .options(joinedload(Permission.student).joinedload(Student.user)))
    who = f"{permission.student.name} ({permission.student.student_number})"
    try:
        with write_transaction(db.session):
            services.revoke_permission(permission, actor=current_user, now=clock.now())
    except services.EnrollmentRefused as exc:
        flash(f"Not revoked: {exc.message}", "danger")
    else:
        flash(f"The permission of {who} is revoked.", "success")
    return _back(course_id)
