"""The enrollments table in the admin: filters, search, and bulk work through the rules.

Rows are never edited in place: a delete is a staff drop, and the bulk actions (drop, promote,
move, complete) each call the matching service, one item per transaction.
"""
from __future__ import annotations

from flask import flash, g
from flask_admin.actions import action
from flask_admin.tools import iterdecode
from flask_login import current_user
from sqlalchemy import select, tuple_
from sqlalchemy.orm import joinedload

from .. import clock, services
from ..database import write_transaction
from ..extensions import db
from ..models import Course, Enrollment, Student, parse_id
from .base import StaffModelView, time_filters
from .bulk import MAX_ITEMS, BulkActionsMixin, BulkOp
from .forms import (
    COURSE_LOOKUP,
    BulkCompleteForm,
    BulkDropForm,
    BulkMoveForm,
    BulkPromoteForm,
    overrides_of,
)
from .loaders import CourseLoader


def _drop_one(view, link, form, context) -> str:
    services.drop(link.student, link.course, actor=context["actor"], now=context["now"],
                  reason=form.reason.data or "", by_staff=True,
                  override=overrides_of(form.overrides))
    return "dropped"


def _promote_one(view, link, form, context) -> str:
    services.promote(link.student, link.course, actor=context["actor"], now=context["now"],
                     reason=form.reason.data or "", override=overrides_of(form.overrides))
    return "promoted"


def _move_one(view, link, form, context) -> str:
    moved = services.move(link.student, link.course, form.course.data, actor=context["actor"],
                          now=context["now"], reason=form.reason.data or "",
                          override=overrides_of(form.overrides))
    return f"moved ({moved.status})"


def _complete_one(view, link, form, context) -> str:
    services.complete(link.student, link.course, form.grade.data, actor=context["actor"],
                      now=context["now"], reason=form.reason.data or "")
    return f"completed with {form.grade.data}"


def _position(view, context, model, name):
    return g.get("admin_positions", {}).get((model.student_id, model.course_id), "")


class EnrollmentView(BulkActionsMixin, StaffModelView):
    can_create = False
    can_edit = False
    can_delete = True  # a staff drop through the rules, see delete_model
    name_plural = "Enrollments"

    # Email is searched and exported but not shown: eleven columns overflow a laptop screen.
    column_list = ["student.student_number", "student.user.name", "course.term.code",
                   "course.code", "course.title", "status", "position", "grade", "source",
                   "status_changed_at"]
    column_export_list = ["student.student_number", "student.user.name", "student.user.email",
                          "course.term.code", "course.code", "course.title", "status",
                          "position", "grade", "source", "status_changed_at"]
    column_labels = {"student.student_number": "Student number", "student.user.name": "Name",
                     "student.user.email": "Email", "course.term.code": "Term",
                     "course.code": "Course", "course.title": "Title",
                     "course.department.code": "Department", "position": "Waitlist #",
                     "status_changed_at": "Since (UTC)"}
    column_formatters = {"position": _position}
    column_formatters_export = {"position": _position}
    column_sortable_list = ["student.student_number", "student.user.name", "course.code",
                            "course.term.code", "status", "grade", "source",
                            "status_changed_at"]
    column_default_sort = [("status_changed_at", True)]
    column_searchable_list = ["student.student_number", "student.user.name",
                              "student.user.email"]
    column_filters = ["course.term.code", "course.code", "course.department.code", "status",
                      "source", "grade", *time_filters(Enrollment.status_changed_at, "Since")]
    form_ajax_refs = {COURSE_LOOKUP: CourseLoader(COURSE_LOOKUP)}
    action_disallowed_list = ["delete"]  # the bulk "drop" asks for a reason and an override

    bulk_ops = {
        "drop": BulkOp("Drop", BulkDropForm, _drop_one, button="Drop"),
        "promote": BulkOp("Promote from the waitlist", BulkPromoteForm, _promote_one,
                          button="Promote"),
        "move": BulkOp("Move to another section", BulkMoveForm, _move_one, button="Move"),
        "complete": BulkOp("Mark completed", BulkCompleteForm, _complete_one,
                           button="Mark completed"),
    }

    def get_query(self):
        return super().get_query().options(
            joinedload(Enrollment.student).joinedload(Student.user),
            joinedload(Enrollment.course).joinedload(Course.term))

    def get_list(self, *args, **kwargs):
        count, data = super().get_list(*args, **kwargs)
        # One query for the page's waitlist positions instead of one per waitlisted row.
        g.admin_positions = services.waitlist_positions({e.course_id for e in data})
        return count, data

    def get_one(self, id):
        found = self._load(_keys([id]))
        return found[0] if found else None

    @staticmethod
    def _load(keys):
        if not keys:
            return []
        return list(db.session.scalars(
            select(Enrollment)
            .options(joinedload(Enrollment.student).joinedload(Student.user),
                     joinedload(Enrollment.course).joinedload(Course.term))
            .where(tuple_(Enrollment.student_id, Enrollment.course_id).in_(keys))
            .order_by(Enrollment.course_id, Enrollment.student_id)))

    def bulk_items(self, ids):
        return self._load(_keys(ids))

    def bulk_label(self, link):
        # The term tells apart two sections with one code (a move is often between terms).
        return (f"{link.student.name} ({link.student.student_number}) in {link.course.code} "
                f"· {link.course.term.code}")

    def delete_model(self, model):
        try:
            with write_transaction(db.session):
                services.drop(model.student, model.course, now=clock.now(), by_staff=True,
                              actor=current_user._get_current_object())
        except services.EnrollmentRefused as exc:
            flash(f"{self.bulk_label(model)}: {exc.message} Use With selected → Drop to "
                  "override the deadline with a reason.", "danger")
            return False
        return True

    @action("drop", "Drop…")
    def action_drop(self, ids):
        return self.bulk_page("drop", ids)

    @action("promote", "Promote from the waitlist…")
    def action_promote(self, ids):
        return self.bulk_page("promote", ids)

    @action("move", "Move to another section…")
    def action_move(self, ids):
        return self.bulk_page("move", ids)

    @action("complete", "Mark completed with a grade…")
    def action_complete(self, ids):
        return self.bulk_page("complete", ids)


def _keys(ids) -> list[tuple[int, int]]:
    """(student_id, course_id) pairs from Flask-Admin's encoded composite keys."""
    keys = []
    for raw in ids[:MAX_ITEMS]:
        parts = [parse_id(p) for p in iterdecode(raw or "")]
        if len(parts) == 2 and None not in parts:
            keys.append((parts[0], parts[1]))
    return keys
