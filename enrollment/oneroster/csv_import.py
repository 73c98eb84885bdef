"""Importing a OneRoster CSV bundle through the same checks as `flask import-csv`.

Each OneRoster row is turned into the row of the import-csv kind it feeds (an academic
session of type `term` or `semester` into a terms row, a class into a courses row, a student
user into a students row, a student enrollment into an enrollments row), and those importers
check and write it: their rules, messages and audit trail hold. Their problems are reported on
the OneRoster file, line and column the value came from (`classes.csv line 4: classCode: …`).

Everything runs in one write transaction: every file is checked, and each importer's valid rows
are written so that the next file's references can be checked against them; when any row of
any file has a problem (or for a dry run) the transaction is rolled back and nothing is
written. The bundle's sourcedIds are kept on the rows it creates, and a row is matched to an
existing one by its sourcedId first (then by code, student number or e-mail).

What is not stored here is skipped and counted: school years and grading periods, orgs other
than departments, users other than students and teachers, enrollments other than student and
teacher ones. `tobedeleted` (or `inactive`) enrollments remove the link; other `tobedeleted`
rows are skipped (an import never deletes terms, classes, departments or accounts). A teacher
enrollment makes its user the class's instructor when the user is an instructor account.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..database import scalars_in, write_transaction
from ..extensions import db
from ..imports import courses as course_import
from ..imports import terms as term_import
from ..imports.plan import ApplyContext, ImportPlan, ImportRefused, RowError
from ..imports.reading import Cells, Table
from ..imports.reading import Row as ImportRow
from ..models import Course, Department, Term
from ..records import DepartmentFields
from . import csv_format as fmt
from .csv_enrollments import enrollments_stage
from .csv_people import people_stage
from .csv_read import Bundle, BundleError, Row, read_bundle

# The department of a class whose OneRoster course names no department org.
FALLBACK_DEPARTMENT = "GENERAL"
# The enrollment window of a term the bundle gives no window for (a SIS's own bundle).
OPENS_BEFORE_CLASSES = timedelta(days=60)
DROP_AFTER_START = timedelta(days=13)


def derived_code(text: str, length: int) -> str:
    """A code made of a title or identifier: upper case, letters, digits and `_ . -`."""
    code = re.sub(r"[^A-Z0-9_.-]", "", (text or "").upper())
    return code.lstrip("_.-")[:length]


@dataclass
class ImportOutcome:
    version: str
    errors: list[BundleError] = field(default_factory=list)
    counts: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    skipped: list[BundleError] = field(default_factory=list)  # why rows were skipped
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


class _Undo(Exception):
    """Raised inside the transaction to roll back a dry run or a bundle with problems."""


def import_bundle(source, *, now: datetime, dry_run: bool = False) -> ImportOutcome:
    """Check a bundle (a zip path or binary file) and import it unless `dry_run` or a row has
    a problem. Raises `csv_read.BundleRefused` when the bundle itself cannot be read."""
    bundle = read_bundle(source)
    run = Run(bundle, now)
    try:
        with write_transaction(db.session):
            run.all()
            if run.outcome.errors or dry_run:
                raise _Undo
    except _Undo:
        pass
    else:
        run.outcome.written = True
    run.outcome.errors.sort(key=lambda e: (fmt.IMPORT_ORDER.index(e.file[:-4])
                                           if e.file[:-4] in fmt.IMPORT_ORDER else -1, e.line))
    return run.outcome


class Run:
    """One import: the stages in order, and what each learnt that the next refers to (the
    records it writes carry the bundle's sourcedIds, by which the later stages find them)."""

    def __init__(self, bundle: Bundle, now: datetime):
        self.bundle, self.now = bundle, now
        self.outcome = ImportOutcome(bundle.version)
        self.context = ApplyContext(actor=None, now=now, reason="Imported from OneRoster.")
        self.failed: set[str] = set()  # sourcedIds of rows with a problem: not reported twice
        self.skipped: set[str] = set()  # sourcedIds of rows skipped (not stored here)
        self.departments: dict[str, str] = {}  # org sourcedId -> department code
        self.terms: dict[str, str] = {}  # session sourcedId -> term code
        self.course_rows: dict[str, Row] = {}  # OneRoster course sourcedId -> its row

    def all(self) -> None:
        self.orgs()
        self.sessions()
        self.courses()
        people_stage(self)
        self.class_rows()
        enrollments_stage(self)

    # --- shared -------------------------------------------------------------------------
    def error(self, kind: str, row: Row | int, column: str, reason: str) -> None:
        line = row if isinstance(row, int) else row.line
        self.outcome.errors.append(BundleError(fmt.file_name(kind), line, column, reason))
        if not isinstance(row, int):
            self.failed.add(row.sourced_id)

    def skip(self, kind: str, row: Row, reason: str) -> None:
        self.skipped.add(row.sourced_id)
        self.outcome.counts[fmt.file_name(kind)]["skipped"] += 1
        self.outcome.skipped.append(BundleError(fmt.file_name(kind), row.line, "skipped",
                                                reason))

    def count(self, kind: str, action: str, n: int = 1) -> None:
        self.outcome.counts[fmt.file_name(kind)][action] += n

    def enum(self, kind: str, row: Row, column: str, allowed: tuple[str, ...]) -> str | None:
        """The row's value of an enumeration, canonical; `ext:` values give "ext"; an unknown
        value is reported and gives None."""
        value = row.get(column)
        word = fmt.canonical(value, allowed)
        if word is None and value.lower().startswith("ext:"):
            return "ext"
        if word is None:
            self.error(kind, row, column, f"{value!r} is not one of {', '.join(allowed)}"
                       if value else "is required")
        return word

    def run_importer(self, kind: str, module, rows: list[ImportRow], columns: dict[str, str]
                     ) -> ImportPlan:
        """Check `rows` (with the OneRoster lines) with an import-csv kind and write the valid
        ones; its problems are reported on the OneRoster columns (`columns` maps them)."""
        plan = ImportPlan(module.__name__.rsplit(".", 1)[-1])
        by_line = {r.line: r for r in self.bundle.of(kind)}
        if rows:
            module.plan_rows(Table(list(columns), rows), plan, now=self.now)
        problems = list(plan.errors)
        if plan.rows:
            try:
                module.apply_rows(plan, self.context)
            except ImportRefused as exc:
                problems += exc.errors
                plan.rows = []
        for problem in problems:
            self._importer_error(kind, problem, columns, by_line)
        for action, n in plan.counts.items():
            self.count(kind, action, n)
        return plan

    def _importer_error(self, kind: str, problem: RowError, columns, by_line) -> None:
        row = by_line.get(problem.line)
        column = columns.get(problem.column, problem.column)
        if row is None:
            self.error(kind, problem.line, column, problem.reason)
        else:
            self.error(kind, row, column, problem.reason)

    def existing(self, model, kind: str, *options):
        """The rows of `model` whose sourced_id one of the file's rows has, by sourced_id."""
        ids = [r.sourced_id for r in self.bundle.of(kind)]
        return {obj.sourced_id: obj for obj in scalars_in(
            db.session, lambda batch: select(model).where(model.sourced_id.in_(batch))
            .options(*options), ids)}

    def adopt(self, obj, sourced_id: str, kind: str, row: Row, owners: dict) -> None:
        """Keep the bundle's sourcedId on a row it created or matched by its key; `owners` are
        the rows that had the file's sourcedIds before the import (`existing`)."""
        if obj.sourced_id == sourced_id:
            return
        owner = owners.get(sourced_id)
        if owner is not None and owner is not obj:
            self.error(kind, row, "sourcedId", f"{sourced_id} already names another record "
                                               f"({owner})")
            return
        obj.sourced_id = sourced_id

    # --- orgs: departments --------------------------------------------------------------
    def orgs(self) -> None:
        kind = "orgs"
        by_sid = self.existing(Department, kind)
        by_code = {d.code: d for d in db.session.scalars(select(Department))}
        seen: dict[str, int] = {}
        for row in self.bundle.of(kind):
            if row.status == "tobedeleted":
                self.skip(kind, row, "tobedeleted: an import does not delete departments")
                continue
            org_type = self.enum(kind, row, "type", fmt.ORG_TYPES)
            if org_type is None:
                continue
            if org_type != "department":
                self.skip(kind, row, f"an org of type {org_type} is not stored (the school is "
                                     "the SCHOOL_NAME setting)")
                continue
            department = by_sid.get(row.sourced_id)
            source = "identifier" if row.get("identifier") else "name"
            code = department.code if department else derived_code(row.get(source), 16)
            problems: list[RowError] = []
            cells = Cells(ImportRow(row.line, {"code": code, "name": row.get("name")}),
                          problems)
            values = cells.read(DepartmentFields)
            for problem in problems:
                self.error(kind, row, source if problem.column == "code" else "name",
                           problem.reason)
            if problems:
                continue
            if values["code"] in seen:
                self.error(kind, row, source, f"department {values['code']} already appears "
                                              f"on line {seen[values['code']]}")
                continue
            seen[values["code"]] = row.line
            department = department or by_code.get(values["code"])
            if department is None:
                department = Department(code=values["code"], name=values["name"],
                                        sourced_id=row.sourced_id)
                db.session.add(department)
                by_code[department.code] = department
                self.count(kind, "create")
            else:
                changed = department.name != values["name"]
                department.name = values["name"]
                self.adopt(department, row.sourced_id, kind, row, by_sid)
                self.count(kind, "update" if changed else "unchanged")
            self.departments[row.sourced_id] = department.code
        db.session.flush()

    # --- academicSessions: terms ----------------------------------------------------------
    TERM_COLUMNS = {"code": "metadata.code", "name": "title", "classes_start": "startDate",
                    "classes_end": "endDate", "enrollment_opens": "metadata.enrollmentOpens",
                    "enrollment_closes": "metadata.enrollmentCloses",
                    "drop_deadline": "metadata.dropDeadline"}

    def sessions(self) -> None:
        kind = "academicSessions"
        by_sid = self.existing(Term, kind)
        rows, keys = [], {}
        columns = dict(self.TERM_COLUMNS)
        for row in self.bundle.of(kind):
            if row.status == "tobedeleted":
                self.skip(kind, row, "tobedeleted: an import does not delete terms")
                continue
            session_type = self.enum(kind, row, "type", fmt.SESSION_TYPES)
            if session_type is None:
                continue
            if session_type not in ("term", "semester"):
                self.skip(kind, row, f"a session of type {session_type} is not stored (a "
                                     "term's school year is derived from its dates)")
                continue
            cells = self._term_cells(kind, row, by_sid.get(row.sourced_id))
            if cells is None:
                continue
            if not row.get("metadata.code"):
                columns["code"] = "title"
            rows.append(ImportRow(row.line, cells))
            keys[row.line] = (row, cells["code"].upper())
        plan = self.run_importer(kind, term_import, rows, columns)
        applied = {p.line for p in plan.rows}
        found = {t.code: t for t in scalars_in(
            db.session, lambda batch: select(Term).where(Term.code.in_(batch)),
            [code for _, code in keys.values()])}
        for line, (row, code) in keys.items():
            if line in applied and code in found:
                self.adopt(found[code], row.sourced_id, kind, row, by_sid)
                self.terms[row.sourced_id] = code
        db.session.flush()

    def _term_cells(self, kind: str, row: Row, term: Term | None) -> dict | None:
        code = row.get("metadata.code")
        if term is not None and code and code.upper() != term.code:
            self.error(kind, row, "metadata.code", f"{code} differs from the code of the term "
                                                   f"this sourcedId names ({term.code}); a "
                                                   "term's code is its key")
            return None
        if term is not None:
            code = term.code
        elif not code:
            code = derived_code(row.get("title"), 16)
        cells = {"code": code, "name": row.get("title")}
        for column, name in (("startDate", "classes_start"), ("endDate", "classes_end")):
            try:
                cells[name] = fmt.parse_day(row.get(column)).isoformat()
            except ValueError:
                self.error(kind, row, column, f"{row.get(column)!r} is not a date (YYYY-MM-DD)"
                           if row.get(column) else "is required")
                return None
        start = fmt.parse_day(row.get("startDate"))
        defaults = {
            "enrollment_opens": (term.enrollment_opens.isoformat() if term else
                                 (start - OPENS_BEFORE_CLASSES).isoformat()),
            "enrollment_closes": (term.enrollment_closes.isoformat() if term else
                                  (start - timedelta(days=1)).isoformat()),
            "drop_deadline": (term.drop_deadline.isoformat() if term else
                              (start + DROP_AFTER_START).isoformat()),
        }
        for name, value in defaults.items():
            cells[name] = row.get(self.TERM_COLUMNS[name]) or value
        return cells

    # --- courses: the codes, titles and departments classes refer to ---------------------
    def courses(self) -> None:
        kind = "courses"
        for row in self.bundle.of(kind):
            if row.status == "tobedeleted":
                self.skip(kind, row, "tobedeleted: a OneRoster course is a course code; its "
                                     "classes are what an import changes")
                continue
            self.course_rows[row.sourced_id] = row
            self.count(kind, "read")

    # --- classes: courses (sections) --------------------------------------------------------
    CLASS_COLUMNS = {"term": "termSourcedIds", "code": "classCode", "title": "title",
                     "department": "metadata.department", "credits": "metadata.credits",
                     "capacity": "metadata.capacity",
                     "waitlist_capacity": "metadata.waitlistCapacity", "days": "metadata.days",
                     "start_time": "metadata.startTime", "end_time": "metadata.endTime",
                     "location": "location", "instructor": "metadata.instructor",
                     "repeatable": "metadata.repeatable",
                     "prerequisites": "metadata.prerequisites"}

    def class_rows(self) -> None:
        kind = "classes"
        by_sid = self.existing(Course, kind, selectinload(Course.term),
                               selectinload(Course.department))
        session_ids = {sid for r in self.bundle.of(kind)
                       for sid in fmt.split_list(r.get("termSourcedIds"))}
        terms = dict(self.terms)
        for term in scalars_in(db.session, lambda batch: select(Term).where(
                Term.sourced_id.in_(batch)), session_ids):
            terms.setdefault(term.sourced_id, term.code)
        departments = dict(self.departments)
        org_ids = {r.get("orgSourcedId") for r in self.course_rows.values()}
        for dept in scalars_in(db.session, lambda batch: select(Department).where(
                Department.sourced_id.in_(batch)), org_ids):
            departments.setdefault(dept.sourced_id, dept.code)
        rows, keys = [], {}
        for row in self.bundle.of(kind):
            if row.status == "tobedeleted":
                self.skip(kind, row, "tobedeleted: an import does not delete classes (drop "
                                     "their enrollments instead)")
                continue
            cells = self._class_cells(kind, row, by_sid.get(row.sourced_id), terms,
                                      departments)
            if cells is not None:
                rows.append(ImportRow(row.line, cells))
                keys[row.line] = (row, cells["term"], cells["code"].upper())
        plan = self.run_importer(kind, course_import, rows, self.CLASS_COLUMNS)
        applied = {p.line for p in plan.rows}
        found = {(course.term.code, course.code): course for course in scalars_in(
            db.session, lambda batch: select(Course).where(Course.code.in_(batch))
            .options(selectinload(Course.term)), {c for _, _, c in keys.values()})}
        for line, (row, term_code, code) in keys.items():
            course = found.get((term_code, code))
            if line in applied and course is not None:
                self.adopt(course, row.sourced_id, kind, row, by_sid)
        db.session.flush()

    def _class_cells(self, kind: str, row: Row, course: Course | None, terms: dict,
                     departments: dict) -> dict | None:
        session_ids = fmt.split_list(row.get("termSourcedIds"))
        term_code = next((terms[sid] for sid in session_ids if sid in terms), None)
        if term_code is None:
            if not set(session_ids) & self.failed:
                self.error(kind, row, "termSourcedIds",
                           f"no term among {', '.join(session_ids) or '(none)'}: an academic "
                           "session of type term in academicSessions.csv, or imported before"
                           if session_ids else "is required")
            else:
                self.failed.add(row.sourced_id)
            return None
        if course is not None and course.term.code != term_code:
            self.error(kind, row, "termSourcedIds", f"this sourcedId names {course.code} of "
                                                    f"{course.term.code}; a class cannot move "
                                                    "to another term")
            return None
        oneroster_course = self.course_rows.get(row.get("courseSourcedId"))
        code = (oneroster_course.get("courseCode") if oneroster_course else "") or \
            row.get("classCode")
        if course is not None and code and code.upper() != course.code:
            self.error(kind, row, "classCode", f"{code} differs from the code of the class "
                                               f"this sourcedId names ({course.code}); a "
                                               "class's code is its key")
            return None
        code = course.code if course is not None else code
        if not code:
            self.error(kind, row, "classCode", "is required when the class's course has no "
                                               "courseCode")
            return None
        org = oneroster_course.get("orgSourcedId") if oneroster_course else ""
        department = (row.get("metadata.department") or departments.get(org)
                      or (course.department.code if course else FALLBACK_DEPARTMENT))
        title = row.get("title") or (oneroster_course.get("title") if oneroster_course else "")
        cells = {"term": term_code, "code": code, "title": title, "department": department,
                 "location": row.get("location")}
        defaults = {"credits": course.credits if course else 3,
                    "capacity": course.capacity if course else 30,
                    "waitlist_capacity": course.waitlist_capacity if course else 10}
        for name, value in defaults.items():
            cells[name] = row.get(self.CLASS_COLUMNS[name]) or str(value)
        if "metadata.startTime" in row.cells and "metadata.endTime" in row.cells:
            for name in ("days", "start_time", "end_time"):
                cells[name] = row.get(self.CLASS_COLUMNS[name])
        for name in ("instructor", "repeatable", "prerequisites"):
            if self.CLASS_COLUMNS[name] in row.cells:
                cells[name] = row.get(self.CLASS_COLUMNS[name])
        return cells

