"""The permission form of a course's teaching page, and the revoke button's."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from ..fields import TextField
from ..records import StudentFields
from ..services.permissions import PERMISSION_OVERRIDES

REASON_LENGTH = 500


class PermissionForm(FlaskForm):
    """`student_number`, `rules` (repeated override names) and `reason`.

    The rules are checked by `services.grant_permission` (an unknown one is named in its
    message), so the select does not refuse values of its own.
    """

    student_number = StudentFields.student_number
    rules = SelectMultipleField(
        "Rules to lift", choices=[(o.value, o.label) for o in PERMISSION_OVERRIDES],
        validate_choice=False, widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput())
    reason = TextField("Reason", max_length=REASON_LENGTH, required=True,
                       description="Kept with the permission and in the audit trail.")

    def problems(self) -> list[str]:
        """Each field's first error, worded after its label ("Reason: is required")."""
        return [f"{self[name].label.text}: {errors[0]}" for name, errors in self.errors.items()]


class RevokeForm(FlaskForm):
    """A CSRF token only: the permission is in the URL."""
