"""The student's own schedule: a page with a weekly grid, and an iCalendar download."""
from flask import Blueprint, Response, render_template
from flask_login import current_user
from werkzeug.utils import secure_filename

from .. import clock, services
from ..auth.access import student_required
from ..services import appointments
from .calendar import schedule_calendar
from .grid import week_grid
from .queries import student_schedule

bp = Blueprint("schedule", __name__, url_prefix="/me")


@bp.get("/schedule")
@student_required
def schedule():
    """The student's courses by term, with credits, waitlist positions and a weekly grid."""
    student = current_user.student
    data = student_schedule(student)
    grids = {t.term.id: week_grid(t.enrolled) for t in data.terms}
    holds = services.blocking_holds([student.id])[student.id]
    return render_template("schedule/schedule.html", student=student, schedule=data,
                           grids=grids, holds=holds,
                           appointments=appointments.upcoming(student, clock.now()))


@bp.get("/schedule.ics")
@student_required
def schedule_ics():
    """The enrolled courses as an iCalendar file, one weekly event per course."""
    student = current_user.student
    data = student_schedule(student)
    body = schedule_calendar(student, data.enrolled_courses, tz=clock.school_zone(), now=clock.now())
    filename = secure_filename(f"schedule-{student.student_number}.ics") or "schedule.ics"
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
