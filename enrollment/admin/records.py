"""Admin forms built on the record kinds' field rules (`enrollment.records`).

The plain fields of a term, department, course, student or user come from the same form class
the CSV importer checks each row with; the admin adds what only it has (selects of related
records, the roster, overrides) and the checks that need the database (a unique code).
"""
from __future__ import annotations

from flask_admin.form import BaseForm
from sqlalchemy import select
from wtforms import Form

from ..extensions import db
from .base import editing_id


def record_form(fields: type[Form]) -> type[BaseForm]:
    """An admin form class with the record kind's fields (Flask-Admin's form base first)."""
    return type(f"Admin{fields.__name__}", (BaseForm, fields), {})


class RecordFormMixin:
    """For a model view whose form carries a record kind's fields.

    `record_fields` (a form of `enrollment.records`) joins the form Flask-Admin scaffolds for
    the view's `form_columns` (its references); a view without references sets
    `form = record_form(...)` instead. Not `form_base_class`: Flask-Admin builds its delete and
    action forms on that class too, which would then ask for a course's fields.
    `unique_fields` maps a column that must be unique on its own to the message shown when
    another row has the value (checked before the save; the database refuses a race past it).
    """

    record_fields: type[Form] | None = None
    unique_fields: dict[str, str] = {}

    def scaffold_form(self):
        scaffolded = super().scaffold_form()
        if self.record_fields is None:
            return scaffolded
        return type(scaffolded.__name__, (scaffolded, self.record_fields), {})

    def validate_form(self, form) -> bool:
        ok = super().validate_form(form)
        for name, message in self.unique_fields.items():
            field = form._fields.get(name)
            if field is None or field.errors or not field.data:
                continue
            column = getattr(self.model, name)
            owner = db.session.scalar(select(self.model.id).where(column == field.data))
            if owner is not None and owner != editing_id():
                field.errors = [*field.errors, message]
                ok = False
        return ok
