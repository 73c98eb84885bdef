"""Holds in the admin: placed and edited by staff, cleared with a reason, never deleted."""
from __future__ import annotations

from flask_admin.actions import action
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from .. import clock, services
from ..database import write_transaction
from ..extensions import db
from ..fields import strip_text
from ..models import Hold, Student
from ..records import HoldFields
from .base import StaffModelView, flash_outcome, time_filters
from .bulk import BulkActionsMixin, BulkOp, int_ids
from .forms import _BulkForm
from .loaders import StudentLoader
from .records import RecordFormMixin


class ClearHoldForm(_BulkForm):
    reason = TextAreaField("Reason", validators=[InputRequired("A reason is required to clear "
                                                               "a hold."), Length(max=500)],
                           filters=[strip_text], description="Kept with the hold.")


def _clear_one(view, hold, form, context) -> str:
    services.clear_hold(hold, reason=form.reason.data, actor=context["actor"],
                        now=context["now"])
    return "cleared"


def _student(view, context, model, name):
    return f"{model.student.user.name} ({model.student.student_number})"


class HoldView(BulkActionsMixin, RecordFormMixin, StaffModelView):
    can_delete = False  # cleared, not deleted: the holds are their own record
    column_list = ["student", "office", "reason", "contact", "blocks_registration",
                   "added_at", "added_by.name", "cleared_at", "cleared_by.name",
                   "cleared_reason"]
    column_labels = {"blocks_registration": "Blocks", "added_at": "Added (UTC)",
                     "added_by.name": "By", "cleared_at": "Cleared (UTC)",
                     "cleared_by.name": "Cleared by", "cleared_reason": "Why cleared"}
    column_formatters = {"student": _student}
    column_formatters_export = {"student": _student}
    column_sortable_list = ["office", "blocks_registration", "added_at", "cleared_at"]
    column_default_sort = [("added_at", True)]
    column_searchable_list = ["office", "reason", "student.student_number"]
    column_filters = ["office", "blocks_registration", *time_filters(Hold.cleared_at, "Cleared")]

    record_fields = HoldFields
    form_columns = ["student"]
    form_create_rules = form_edit_rules = ("student", "office", "reason", "contact",
                                           "blocks_registration")
    form_ajax_refs = {"student": StudentLoader("student")}
    form_args = {"student": {"validators": [InputRequired("Choose a student.")]}}

    def get_query(self):
        return super().get_query().options(
            joinedload(Hold.student).joinedload(Student.user), joinedload(Hold.added_by),
            joinedload(Hold.cleared_by))

    def create_model(self, form):
        # Through the service: the office's earlier hold on the student is reopened, not doubled.
        with write_transaction(db.session):
            hold = services.place_hold(
                form.student.data, form.office.data, reason=form.reason.data,
                contact=form.contact.data or "", blocks_registration=form.blocks_registration.data,
                actor=current_user._get_current_object(), now=clock.now())
        flash_outcome(f"{hold.office} hold placed on {hold.student.user.name}.", "success")
        return hold

    bulk_ops = {"clear": BulkOp("Clear holds", ClearHoldForm, _clear_one, button="Clear")}

    def bulk_items(self, ids):
        return list(db.session.scalars(
            select(Hold).options(joinedload(Hold.student).joinedload(Student.user))
            .where(Hold.id.in_(int_ids(ids))).order_by(Hold.id)))

    def bulk_label(self, hold):
        return f"{hold.office} hold of {hold.student.user.name} ({hold.student.student_number})"

    @action("clear", "Clear…")
    def action_clear(self, ids):
        return self.bulk_page("clear", ids)
