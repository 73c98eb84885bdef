"""The student's own schedule: a page with a weekly grid, an iCalendar download, and a
private calendar address that calendar apps subscribe to (they cannot log in)."""
import re
import secrets

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.utils import secure_filename

from .. import clock, services
from ..auth.access import student_required
from ..catalog.forms import CourseActionForm
from ..database import write_transaction
from ..extensions import db
from ..models import Student
from ..services import appointments
from .calendar import schedule_calendar
from .grid import week_grid
from .queries import student_schedule

bp = Blueprint("schedule", __name__, url_prefix="/me")
feeds = Blueprint("feeds", __name__)
# A calendar address's secret: 32 random bytes, URL-safe base64 (43 characters).
FEED_TOKEN = r"[A-Za-z0-9_-]{43}"


@bp.get("/schedule")
@student_required
def schedule():
    """The student's courses by term, with credits, waitlist positions and a weekly grid."""
    student = current_user.student
    data = student_schedule(student)
    grids = {t.term.id: week_grid(t.enrolled) for t in data.terms}
    holds = services.blocking_holds([student.id])[student.id]
    return render_template("schedule/schedule.html", student=student, schedule=data,
                           grids=grids, holds=holds, feed_form=CourseActionForm(),
                           appointments=appointments.upcoming(student, clock.now()))


def _calendar(student: Student, *, attachment: bool) -> Response:
    """The student's enrolled courses as iCalendar, times in the school's zone (VTIMEZONE)."""
    data = student_schedule(student)
    body = schedule_calendar(student, data.enrolled_courses, tz=clock.school_zone(),
                             now=clock.now())
    headers = {}
    if attachment:
        filename = secure_filename(f"schedule-{student.student_number}.ics") or "schedule.ics"
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(body, mimetype="text/calendar", headers=headers)


@bp.get("/schedule.ics")
@student_required
def schedule_ics():
    """The enrolled courses as an iCalendar file, one weekly event per course."""
    return _calendar(current_user.student, attachment=True)


@bp.post("/calendar-feed")
@student_required
def calendar_feed_on():
    """Turn the private calendar address on, or replace it with a new one (the old one stops
    working at once)."""
    if not CourseActionForm().validate_on_submit():
        abort(400)
    with write_transaction(db.session):
        student = db.session.get(Student, current_user.student.id)
        renewed = student.calendar_token is not None
        student.calendar_token = secrets.token_urlsafe(32)
    flash("A new private calendar address replaces the old one, which no longer works."
          if renewed else "Your private calendar address is on: add it to your calendar app.",
          "success")
    return redirect(url_for("schedule.schedule") + "#calendar-feed", code=303)


@bp.post("/calendar-feed/off")
@student_required
def calendar_feed_off():
    """Turn the private calendar address off: calendar apps get nothing more from it."""
    if not CourseActionForm().validate_on_submit():
        abort(400)
    with write_transaction(db.session):
        db.session.get(Student, current_user.student.id).calendar_token = None
    flash("Your private calendar address is off; calendars subscribed to it stop updating.",
          "success")
    return redirect(url_for("schedule.schedule") + "#calendar-feed", code=303)


@feeds.get("/calendar/<token>.ics")
def calendar_feed(token: str):
    """A student's schedule for calendar apps, by the secret in the address (no login)."""
    if not re.fullmatch(FEED_TOKEN, token):
        abort(404)
    student = db.session.scalar(select(Student).where(Student.calendar_token == token))
    if student is None:
        abort(404)
    return _calendar(student, attachment=False)
