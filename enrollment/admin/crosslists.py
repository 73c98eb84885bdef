"""Cross-listed groups in the admin: sections of a term sharing one seat pool and one waitlist.

Saves go through `services.crosslists` under the sections' locks (the same checks as the CSV
import: two sections or more, one term), so a refused save writes nothing, and seats that
open (a larger pool, a section leaving) go to the waitlist at once.
"""
from __future__ import annotations

from flask_login import current_user
from sqlalchemy.orm import joinedload
from wtforms.validators import InputRequired

from .. import clock
from ..database import write_transaction
from ..extensions import db
from ..models import Crosslist, crosslist_key
from ..records import CrosslistFields
from ..services import EnrollmentRefused
from ..services.crosslists import remove_group, set_group
from .base import StaffModelView, flash_outcome
from .loaders import CourseLoader
from .records import RecordFormMixin


def _sections(view, context, model, name):
    return ", ".join(c.code for c in model.sections)


class CrosslistView(RecordFormMixin, StaffModelView):
    column_list = ["term.code", "key", "capacity", "sections"]
    column_labels = {"term.code": "Term", "key": "Key", "capacity": "Pool (seats)",
                     "sections": "Sections"}
    column_formatters = {"sections": _sections}
    column_formatters_export = {"sections": _sections}
    column_sortable_list = ["term.code", "key", "capacity"]
    column_default_sort = [("key", False)]
    column_searchable_list = ["key"]

    # The key and pool are `records.CrosslistFields` (as in the courses CSV); the term and
    # the sections are the admin's own selects.
    record_fields = CrosslistFields
    form_columns = ["term", "sections"]
    form_create_rules = form_edit_rules = ("term", "key", "capacity", "sections")
    form_ajax_refs = {"sections": CourseLoader("sections")}
    form_args = {"term": {"validators": [InputRequired("Choose a term.")]},
                 "sections": {"description": "Two sections or more of the term. Each keeps "
                                             "its own capacity and waitlist capacity; the "
                                             "group's seated total stays within the pool."}}

    def get_query(self):
        # The sections column is loaded with the page by Flask-Admin (a join on the list).
        return super().get_query().options(joinedload(Crosslist.term))

    # --- saving through the service ---------------------------------------------------------
    def create_model(self, form):
        return self._save(form, None)

    def update_model(self, form, model):
        return bool(self._save(form, model))

    def _save(self, form, model):
        key = crosslist_key(form.key.data)
        try:
            with write_transaction(db.session):
                if model is not None and model.key != key:
                    model.key = key  # a renamed group: the same pool and sections
                    db.session.flush()
                model, promotions = set_group(
                    form.term.data, key, form.capacity.data, form.sections.data or [],
                    actor=current_user._get_current_object(), now=clock.now())
        except EnrollmentRefused as exc:
            form.sections.errors = [*form.sections.errors, exc.message]
            flash_outcome(f"Nothing was saved. {exc.message}", "danger")
            return False
        moved = f" Promoted from the waitlist: {len(promotions.promoted)}." \
            if promotions.promoted else ""
        flash_outcome(f"Cross-listed group {model.key}: {model.capacity} seats shared by "
                      f"{', '.join(c.code for c in model.sections)}.{moved}", "success")
        return model

    def delete_model(self, model) -> bool:
        with write_transaction(db.session):
            remove_group(model, actor=current_user._get_current_object(), now=clock.now())
        return True
