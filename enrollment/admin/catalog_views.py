"""Terms and departments in the admin."""
from __future__ import annotations

from sqlalchemy import func, select
from wtforms.validators import InputRequired, Length

from ..extensions import db
from ..fields import strip
from ..models import Course
from .base import StaffModelView

CODE_ARGS = {"validators": [InputRequired(), Length(max=16)], "filters": [strip]}
NAME_ARGS = {"validators": [InputRequired(), Length(max=120)], "filters": [strip]}


def _courses_in(column, model_id) -> int:
    return db.session.scalar(select(func.count()).select_from(Course).where(column == model_id))


class TermView(StaffModelView):
    column_list = ["code", "name", "enrollment_opens", "enrollment_closes", "drop_deadline",
                   "classes_start", "classes_end"]
    column_default_sort = [("enrollment_opens", True)]
    column_searchable_list = ["code", "name"]
    form_columns = ["code", "name", "enrollment_opens", "enrollment_closes", "drop_deadline",
                    "classes_start", "classes_end"]
    form_args = {"code": CODE_ARGS, "name": NAME_ARGS,
                 "enrollment_opens": {"description": "UTC"},
                 "enrollment_closes": {"description": "UTC"},
                 "drop_deadline": {"description": "UTC"}}
    delete_refused_message = "This term still has courses; delete or move them first."

    def validate_form(self, form):
        ok = super().validate_form(form)
        pairs = [("enrollment_opens", "enrollment_closes",
                  "Enrollment must close after it opens."),
                 ("classes_start", "classes_end", "Classes must end after they start.")]
        for first, last, message in pairs:
            a, b = getattr(form, first, None), getattr(form, last, None)
            if a is not None and b is not None and a.data and b.data and b.data < a.data:
                b.errors = [*b.errors, message]
                ok = False
        return ok

    def delete_blocker(self, model):
        n = _courses_in(Course.term_id, model.id)
        return f"{model.code} has {n} courses; delete or move them first." if n else None


class DepartmentView(StaffModelView):
    column_list = ["code", "name"]
    column_default_sort = [("code", False)]
    column_searchable_list = ["code", "name"]
    form_columns = ["code", "name"]
    form_args = {"code": CODE_ARGS, "name": NAME_ARGS}
    delete_refused_message = "This department still has courses; move them first."

    def delete_blocker(self, model):
        n = _courses_in(Course.department_id, model.id)
        return f"{model.code} has {n} courses; move them first." if n else None
