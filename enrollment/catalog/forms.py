"""The catalog's filter form (GET, no CSRF) and the token-only form behind enroll / drop."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Form, SearchField, SelectField
from wtforms.validators import Length, Optional

from ..fields import strip

ALL = ""


class CatalogFilterForm(Form):
    """Search and filters read from the query string; unknown values are reported, not used."""

    class Meta:
        csrf = False

    q = SearchField("Search", filters=[strip], validators=[Optional(), Length(max=100)],
                    render_kw={"placeholder": "Course code or title"})
    term = SelectField("Term", default=ALL, filters=[strip])
    department = SelectField("Department", default=ALL, filters=[strip])

    def __init__(self, formdata, terms, departments):
        super().__init__(formdata)
        self.term.choices = [(ALL, "All terms")] + [(t.code, t.name or t.code) for t in terms]
        self.department.choices = [(ALL, "All departments")] + [
            (d.code, f"{d.code} — {d.name}") for d in departments
        ]

    def cleaned(self) -> tuple[str, str, str, list[str]]:
        """(q, term code, department code, notes): each invalid value is dropped with a note."""
        self.validate()
        notes = []
        q = self.q.data or ""
        if self.q.errors:
            notes.append("The search text is too long (at most 100 characters); it was ignored.")
            q = ""
        term = self.term.data or ALL
        if self.term.errors:
            notes.append(f"There is no term “{term[:40]}”; showing all terms.")
            term = self.term.data = ALL
        department = self.department.data or ALL
        if self.department.errors:
            notes.append(f"There is no department “{department[:40]}”; showing all "
                         "departments.")
            department = self.department.data = ALL
        return q, term, department, notes


class CourseActionForm(FlaskForm):
    """Enroll, join the waitlist, drop or leave it: only the CSRF token travels."""
