"""/me/notifications: every message to the student with its delivery state, and their choice
of confirmation mails (their own enrolls, waitlist joins and drops)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import BooleanField

from .. import clock
from ..auth.access import student_required
from ..database import write_transaction
from ..extensions import db
from ..models import Course, Notification, Student
from ..services import mail
from .views import bp

PAGE_SIZE = 20
MAX_PAGE = 100_000


class ConfirmationsForm(FlaskForm):
    mail_confirmations = BooleanField(
        "Mail me confirmations of my own changes (enrolled, waitlisted, dropped, offer "
        "accepted or declined)")


def _page_number() -> int:
    """The `page` argument, 1 when missing or not a page number (never past the database's
    integer range: an OFFSET that large is an error on PostgreSQL)."""
    raw = request.args.get("page", "1")
    return min(int(raw), MAX_PAGE) if raw.isdecimal() and int(raw) > 0 else 1


@bp.get("/notifications")
@student_required
def notifications():
    """The student's messages, newest first, a page at a time."""
    student = current_user.student
    page = db.paginate(
        select(Notification).where(Notification.student_id == student.id)
        .options(joinedload(Notification.course).joinedload(Course.term))
        .order_by(Notification.created_at.desc(), Notification.id.desc()),
        page=_page_number(), per_page=PAGE_SIZE, error_out=False)
    form = ConfirmationsForm(mail_confirmations=student.mail_confirmations)
    return render_template("schedule/notifications.html", student=student, page=page,
                           form=form, mail=mail, wall_clock=clock.wall_clock)


@bp.post("/notifications")
@student_required
def save_preferences():
    form = ConfirmationsForm()
    if not form.validate_on_submit():  # CSRFProtect refuses a bad token before this
        flash("Nothing was changed: the form was not complete.", "danger")
        return redirect(url_for("schedule.notifications"), 303)
    wanted = bool(form.mail_confirmations.data)
    student_id = current_user.student.id
    with write_transaction(db.session):
        db.session.get(Student, student_id).mail_confirmations = wanted
    flash("Confirmations of your own changes will be mailed to you." if wanted else
          "Confirmations of your own changes are off. Offers, promotions and changes made by "
          "the registrar or to a course are still mailed.", "success")
    return redirect(url_for("schedule.notifications"), 303)
