"""The catalog's filter form (GET, no CSRF), which the reports share, the page argument, and
the token-only form behind enroll / drop."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import time

from flask_wtf import FlaskForm
from wtforms import BooleanField, Form, SearchField, SelectField, SelectMultipleField
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..fields import strip
from ..models import DAY_LETTERS, Department, Term
from ..models.catalog import DAY_NAMES

ALL = ""
# A huge page number would overflow the database's integer in OFFSET; no list is this long.
MAX_PAGE = 100_000


def page_number(args) -> int:
    """The `page` query argument as a number from 1 to MAX_PAGE (1 when it is not a number)."""
    return min(max(args.get("page", 1, type=int), 1), MAX_PAGE)


@dataclass(frozen=True)
class CourseFilter:
    """What the filter form chose: search text, a term and a department (None: every one)."""

    q: str = ""
    term: Term | None = None
    department: Department | None = None
    notes: tuple[str, ...] = ()  # each value that was asked for and ignored, and why

    @property
    def term_id(self) -> int | None:
        return self.term.id if self.term else None

    @property
    def department_id(self) -> int | None:
        return self.department.id if self.department else None

    # The catalog's own filters (see `CatalogSearchForm`); the reports leave them unset.
    open_seats: bool = False
    days: str = ""                     # letters of DAY_LETTERS: meets only on these days
    time_of_day: str = ""              # a key of TIMES_OF_DAY
    credits: int | None = None         # exactly this many; CREDITS_OR_MORE and up for the last

    @property
    def narrowed(self) -> bool:
        """True when the search or a filter leaves courses out."""
        return bool(self.q or self.term or self.department or self.open_seats or self.days
                    or self.time_of_day or self.credits)


class CatalogFilterForm(Form):
    """Search and filters read from the query string; unknown values are reported, not used.

    The catalog and the reports share it. In the catalog no term means every term; a subclass
    may choose another term for that (`fallback_term`) and word its notes its own way.
    """

    class Meta:
        csrf = False

    ALL_TERMS = ALL  # the term select's value for every term
    UNKNOWN_TERM = "There is no term “{}”; showing all terms."
    UNKNOWN_DEPARTMENT = "There is no department “{}”; showing all departments."

    q = SearchField("Search", filters=[strip], validators=[Optional(), Length(max=100)],
                    render_kw={"placeholder": "Course code or title"})
    term = SelectField("Term", default=ALL, filters=[strip])
    department = SelectField("Department", default=ALL, filters=[strip])

    def __init__(self, formdata, terms: list[Term], departments: list[Department]):
        super().__init__(formdata)
        self.terms, self.departments = terms, departments
        self.term.choices = [(self.ALL_TERMS, "All terms")] + [
            (t.code, self.term_label(t)) for t in terms
        ]
        self.department.choices = [(ALL, "All departments")] + [
            (d.code, f"{d.code} — {d.name}") for d in departments
        ]

    @staticmethod
    def term_label(term: Term) -> str:
        return term.name or term.code

    def fallback_term(self) -> str:
        """The term value used when no term, or one that does not exist, is asked for."""
        return self.ALL_TERMS

    def cleaned(self) -> CourseFilter:
        """The chosen search and filters; each invalid value is dropped with a note."""
        if not self.term.data:
            self.term.data = self.fallback_term()
        self.validate()
        notes = []
        q = self.q.data or ""
        if self.q.errors:
            notes.append("The search text is too long (at most 100 characters); it was ignored.")
            q = ""
        if self.term.errors:
            notes.append(self.UNKNOWN_TERM.format(self.term.data[:40]))
            self.term.data = self.fallback_term()
        if self.department.errors:
            notes.append(self.UNKNOWN_DEPARTMENT.format(self.department.data[:40]))
            self.department.data = ALL
        term = None if self.term.data == self.ALL_TERMS else _by_code(self.terms, self.term.data)
        return CourseFilter(q, term, _by_code(self.departments, self.department.data),
                            tuple(notes))

    def args(self, **extra) -> dict:
        """Query-string arguments that keep the chosen filters, for links (pages, downloads)."""
        values = {name: self[name].data for name in ("q", "term", "department")}
        values.update(extra)
        return {name: value for name, value in values.items() if value}


# When a course starts, by the school's wall clock: [from, until).
TIMES_OF_DAY = {
    "morning": ("Morning (before 12:00)", time(0, 0), time(12, 0)),
    "afternoon": ("Afternoon (12:00–17:00)", time(12, 0), time(17, 0)),
    "evening": ("Evening (from 17:00)", time(17, 0), None),
}
CREDITS_OR_MORE = 5  # the last credits choice: this many or more


class CatalogSearchForm(CatalogFilterForm):
    """The catalog's form: the shared search and filters, and the ones a student plans a
    week with (a free seat, the days and time of day it meets, its credits)."""

    open_seats = BooleanField("Free seats only")
    days = SelectMultipleField(
        "Meets only on", choices=[(d, DAY_NAMES[d]) for d in DAY_LETTERS],
        option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False))
    time_of_day = SelectField("Time of day", default=ALL, filters=[strip], choices=[
        (ALL, "Any time"), *((key, label) for key, (label, _, _) in TIMES_OF_DAY.items())])
    credits = SelectField("Credits", default=ALL, filters=[strip], choices=[
        (ALL, "Any credits"), *((str(n), str(n)) for n in range(1, CREDITS_OR_MORE)),
        (str(CREDITS_OR_MORE), f"{CREDITS_OR_MORE} or more")])

    FILTERS = ("open_seats", "days", "time_of_day", "credits")

    def cleaned(self) -> CourseFilter:
        chosen = super().cleaned()
        notes = list(chosen.notes)
        if self.days.errors:
            notes.append("Days are chosen among Mon–Sun; the others were ignored.")
            self.days.data = [d for d in self.days.data or [] if d in DAY_LETTERS]
        for field in (self.time_of_day, self.credits):
            if field.errors:
                notes.append(f"“{field.data[:40]}” is not a choice of {field.label.text.lower()}"
                             "; it was ignored.")
                field.data = ALL
        days = "".join(d for d in DAY_LETTERS if d in (self.days.data or []))
        return replace(chosen, notes=tuple(notes), open_seats=bool(self.open_seats.data),
                       days=days, time_of_day=self.time_of_day.data or "",
                       credits=int(self.credits.data) if self.credits.data else None)

    def args(self, **extra) -> dict:
        values = {"open_seats": "y" if self.open_seats.data else None,
                  "days": [d for d in DAY_LETTERS if d in (self.days.data or [])] or None,
                  "time_of_day": self.time_of_day.data, "credits": self.credits.data}
        return super().args(**values, **extra)


def _by_code(items, code: str):
    return next((item for item in items if item.code == code), None)


class CourseActionForm(FlaskForm):
    """Enroll, join the waitlist, drop or leave it: only the CSRF token travels."""
