"""Terms and departments in the admin."""
from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db
from ..models import Course
from ..records import DepartmentFields, TermFields
from .base import StaffModelView
from .records import RecordFormMixin, record_form


def _courses_in(column, model_id) -> int:
    return db.session.scalar(select(func.count()).select_from(Course).where(column == model_id))


class TermView(RecordFormMixin, StaffModelView):
    column_list = ["code", "name", "enrollment_opens", "enrollment_closes", "drop_deadline",
                   "classes_start", "classes_end", "waitlist_mode", "offer_hours"]
    column_default_sort = [("enrollment_opens", True)]
    column_searchable_list = ["code", "name"]
    form = record_form(TermFields)
    unique_fields = {"code": "Already exists: another term uses this code."}
    delete_refused_message = "This term still has courses; delete or move them first."

    def delete_blocker(self, model):
        n = _courses_in(Course.term_id, model.id)
        return f"{model.code} has {n} courses; delete or move them first." if n else None


class DepartmentView(RecordFormMixin, StaffModelView):
    column_list = ["code", "name"]
    column_default_sort = [("code", False)]
    column_searchable_list = ["code", "name"]
    form = record_form(DepartmentFields)
    unique_fields = {"code": "Already exists: another department uses this code."}
    delete_refused_message = "This department still has courses; move them first."

    def delete_blocker(self, model):
        n = _courses_in(Course.department_id, model.id)
        return f"{model.code} has {n} courses; move them first." if n else None
