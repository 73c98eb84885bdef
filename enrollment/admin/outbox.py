"""The mail outbox in the admin: every notification with its delivery state, read-only; the
details page shows the words that were (or will be) sent."""
from __future__ import annotations

from flask_admin.contrib.sqla import filters
from markupsafe import Markup
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Course, Notification, Student, parse_id
from ..services import mail
from .base import ReadOnlyModelView, time_filters


class DeliveryStateFilter(filters.BaseSQLAFilter):
    """pending / sent / failed, for any delivery (a mail, a webhook call)."""

    def __init__(self, model, name: str = "State"):
        super().__init__(model.sent_at, name, options=[(s, s) for s in model.STATES])
        self.model = model

    def apply(self, query, value, alias=None):
        return query.filter(self.model.in_state(value))

    def operation(self):
        return "is"

    def validate(self, value):
        return value in self.model.STATES

    def clean(self, value):
        return value


class _KindFilter(filters.BaseSQLAFilter):
    def apply(self, query, value, alias=None):
        return query.filter(Notification.kind == value)

    def operation(self):
        return "is"

    def validate(self, value):
        return value in mail.WORDING

    def clean(self, value):
        return value


def _student(view, context, model, name):
    student = model.student
    return f"{student.name} ({student.student_number})" if student is not None else model.email


def _course(view, context, model, name):
    course = model.course
    return f"{course.term.code} {course.code}" if course is not None else ""


def _pre(view, context, model, name):
    return Markup('<pre class="mail-text">{}</pre>').format(getattr(model, name))


class OutboxView(ReadOnlyModelView):
    can_view_details = True
    column_display_actions = True  # the details link: the words are shown there
    column_list = ["kind", "student", "course", "subject", "state", "attempts", "last_error",
                   "due_at", "sent_at"]
    column_details_list = ["kind", "student", "email", "course", "subject", "state", "key",
                           "attempts", "last_error", "created_at", "due_at", "sent_at",
                           "failed_at", "text", "html"]
    column_export_list = ["kind", "student", "email", "course", "subject", "state", "attempts",
                          "last_error", "created_at", "due_at", "sent_at", "failed_at"]
    column_labels = {"last_error": "Last error", "due_at": "Due (UTC)",
                     "sent_at": "Sent (UTC)", "failed_at": "Failed (UTC)",
                     "created_at": "Written (UTC)", "key": "Message-ID",
                     "text": "Text part", "html": "HTML part (source)", "email": "To",
                     "student.student_number": "Student number", "course.code": "Course code"}
    column_formatters = {"student": _student, "course": _course,
                         "kind": lambda v, c, m, n: mail.kind_label(m.kind),
                         "state": lambda v, c, m, n: mail.delivery_state(m)}
    column_formatters_export = column_formatters
    column_formatters_detail = {**column_formatters, "text": _pre, "html": _pre,
                                "key": lambda v, c, m, n: mail.message_id(m)}
    column_sortable_list = ["kind", "attempts", "due_at", "sent_at"]
    column_default_sort = [("id", True)]
    column_searchable_list = ["subject", "email", "last_error"]
    column_filters = [
        _KindFilter(Notification.kind, "Kind",
                    options=[(k, mail.kind_label(k)) for k in mail.WORDING]),
        DeliveryStateFilter(Notification),
        "email", "student.student_number", "course.code",
        *time_filters(Notification.created_at, "Written"),
        *time_filters(Notification.due_at, "Due"),
    ]

    def get_query(self):
        return super().get_query().options(
            joinedload(Notification.student).joinedload(Student.user),
            joinedload(Notification.course).joinedload(Course.term))

    def get_one(self, id):
        key = parse_id(id)
        if key is None:
            return None
        return db.session.get(Notification, key, options=[
            joinedload(Notification.student).joinedload(Student.user),
            joinedload(Notification.course).joinedload(Course.term)])
