"""The OneRoster 1.1 records of this school, read from the database: one interface for the REST
provider (`rest.py`) and the bulk readers (a CSV export).

Interface (kept stable; the CSV export depends on it):

- `KINDS`: the six record types, `academicSessions`, `orgs`, `courses`, `classes`, `users`,
  `enrollments`.
- `iter_records(kind, *, since=None, base_url="")` yields every record of a type as its 1.1 JSON
  record dict, in a stable order (the sourcedId order of `sort=sourcedId`), streaming from the
  database in batches (`yield_per`), never the whole table in memory. With `since` (an aware
  datetime) only the records changed after it, then a `tobedeleted` tombstone for each record
  removed after it (`{"sourcedId", "status", "dateLastModified"}` plus the references the
  binding requires where they are still known: an enrollment's `user`, `class`, `school`,
  `role`).
- `source(kind)`: the `Source` of a type, which the REST provider pages: large types
  (`classes`, `users`, `enrollments`) are a SQL subquery whose columns are named in
  `Source.fields` (OneRoster field name -> column), so filters, sorts and paging run in SQL;
  small types (`academicSessions`, `orgs`, `courses`) are read whole in one statement
  (`Source.read_all`) and filtered in Python.

Record shape: every required field of the 1.1 binding; booleans are the strings `"true"` /
`"false"`; dates ISO 8601 or null (never `""`); `dateLastModified` in UTC with `Z`;
references are GUIDRefs `{"href", "sourcedId", "type"}`, `href` being `base_url` + the path of
the referenced record (`/classes/{id}`).

Where is what: the small types are read here; the large ones in `sql_records`; the
formatting helpers (`moment`, `ref`, `school`…, re-exported here) in `record_format`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from ..extensions import db
from ..models import Course, Deletion, Department, Term
from . import ids, sql_records
from .record_format import (  # noqa: F401 (part of this module's interface)
    ACTIVE,
    EPOCH,
    LINKED,
    TOBEDELETED,
    Field,
    day,
    moment,
    ref,
    school,
    school_identifier,
)
from .sql_records import enrollment_id_condition, enrollment_sourced_id  # noqa: F401

KINDS = ("academicSessions", "orgs", "courses", "classes", "users", "enrollments")
BATCH = 1000


@dataclass
class Source:
    """How one type's records are read.

    SQL sources: `rows(delta, scope)` is a subquery (`scope` adds conditions of a nested read,
    e.g. the students of one class), `fields(rows)` maps OneRoster field names to its columns,
    `order` is its sourcedId order, `record(row, base_url)` makes a record of one row.
    Python sources: `read_all(delta, base_url)` returns every record (one statement).
    """

    kind: str
    record: Callable | None = None
    rows: Callable | None = None
    fields: Callable | None = None
    order: Callable | None = None
    read_all: Callable | None = None

    @property
    def in_sql(self) -> bool:
        return self.rows is not None


# --- academic sessions (small: read whole) ----------------------------------------------------
def _sessions(delta: bool, base_url: str) -> list[dict]:
    terms = db.session.execute(select(Term.sourced_id, Term.name, Term.classes_start,
                                      Term.classes_end, Term.updated_at)).all()
    years: dict[int, datetime] = {}
    records = []
    for sourced_id, name, start, end, modified in terms:
        year = ids.school_year(end)
        years[year] = max(years.get(year, modified), modified)
        records.append({"sourcedId": sourced_id, "status": ACTIVE,
                        "dateLastModified": moment(modified), "title": name, "type": "term",
                        "startDate": day(start), "endDate": day(end),
                        "parent": ref(base_url, "academicSession", ids.school_year_id(year)),
                        "children": [], "schoolYear": str(year)})
    for year, modified in years.items():
        start = date(year - 1, ids.NEXT_YEAR_FROM_MONTH, 1)
        records.append({"sourcedId": ids.school_year_id(year), "status": ACTIVE,
                        "dateLastModified": moment(modified), "title": f"{year - 1}-{year}",
                        "type": "schoolYear", "startDate": day(start),
                        "endDate": day(start.replace(year=year) - timedelta(days=1)),
                        "parent": None, "children": [], "schoolYear": str(year)})
    if delta:
        records += _deleted("academicSession", {r["sourcedId"] for r in records})
    return records


# --- orgs (small) -----------------------------------------------------------------------------
def _orgs(delta: bool, base_url: str) -> list[dict]:
    school_id, name = school()
    depts = db.session.execute(select(Department.sourced_id, Department.name, Department.code,
                                      Department.updated_at)).all()
    first = max((d.updated_at for d in depts), default=EPOCH)
    records = [{"sourcedId": school_id, "status": ACTIVE, "dateLastModified": moment(first),
                "name": name, "type": "school", "identifier": school_identifier(name),
                "parent": None, "children": [ref(base_url, "org", d.sourced_id) for d in depts]}]
    records += [{"sourcedId": d.sourced_id, "status": ACTIVE,
                 "dateLastModified": moment(d.updated_at), "name": d.name, "type": "department",
                 "identifier": d.code, "parent": ref(base_url, "org", school_id),
                 "children": []} for d in depts]
    if delta:
        records += _deleted("org", {r["sourcedId"] for r in records})
    return records


def _deleted(kind: str, present: set[str]) -> list[dict]:
    """Tombstones of deleted rows of a small type (one statement)."""
    found = db.session.execute(select(Deletion.sourced_id, func.max(Deletion.deleted_at))
                               .where(Deletion.kind == kind).group_by(Deletion.sourced_id))
    return [{"sourcedId": sid, "status": TOBEDELETED, "dateLastModified": moment(at)}
            for sid, at in found if sid not in present]


# --- courses (small: one per code) ------------------------------------------------------------
def _courses(delta: bool, base_url: str) -> list[dict]:
    """One record per course code: the title and school year of its latest section."""
    school_id, _ = school()
    ranked = (select(Course.code, Course.title, Term.classes_end,
                     func.max(Course.updated_at).over(partition_by=Course.code)
                     .label("modified"),
                     func.row_number().over(partition_by=Course.code,
                                            order_by=(Term.classes_start.desc(),
                                                      Course.id.desc())).label("rank"))
              .join(Term, Course.term_id == Term.id)).subquery()
    rows = db.session.execute(select(ranked.c.code, ranked.c.title, ranked.c.classes_end,
                                     ranked.c.modified).where(ranked.c.rank == 1))
    records = []
    for code, title, classes_end, modified in rows:
        year = ids.school_year(classes_end)
        records.append({"sourcedId": ids.course_id(code), "status": ACTIVE,
                        "dateLastModified": moment(modified), "title": title,
                        "schoolYear": ref(base_url, "academicSession", ids.school_year_id(year)),
                        "courseCode": code, "grades": [], "subjects": [],
                        "org": ref(base_url, "org", school_id), "subjectCodes": [],
                        "resources": []})
    return records


_SOURCES = {
    "academicSessions": Source("academicSessions", read_all=_sessions),
    "orgs": Source("orgs", read_all=_orgs),
    "courses": Source("courses", read_all=_courses),
    "classes": Source("classes", record=sql_records.class_record, rows=sql_records.class_rows,
                      fields=sql_records.class_fields, order=lambda r: (r.c.sourced_id,)),
    "users": Source("users", record=sql_records.user_record, rows=sql_records.user_rows,
                    fields=sql_records.user_fields, order=lambda r: (r.c.sourced_id,)),
    "enrollments": Source("enrollments", record=sql_records.enrollment_record,
                          rows=sql_records.enrollment_rows,
                          fields=sql_records.enrollment_fields,
                          order=lambda r: (r.c.tag, r.c.course_pk, r.c.other_pk)),
}


# Every field of each type's records (a `fields=` selection names some of them).
RECORD_FIELDS = {
    "academicSessions": ("sourcedId", "status", "dateLastModified", "title", "type",
                         "startDate", "endDate", "parent", "children", "schoolYear"),
    "orgs": ("sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parent",
             "children"),
    "courses": ("sourcedId", "status", "dateLastModified", "title", "schoolYear",
                "courseCode", "grades", "subjects", "org", "subjectCodes", "resources"),
    "classes": ("sourcedId", "status", "dateLastModified", "title", "classCode", "classType",
                "location", "grades", "subjects", "course", "school", "terms", "subjectCodes",
                "periods", "resources"),
    "users": ("sourcedId", "status", "dateLastModified", "username", "userIds", "enabledUser",
              "givenName", "familyName", "middleName", "role", "identifier", "email", "sms",
              "phone", "agents", "orgs", "grades"),
    "enrollments": ("sourcedId", "status", "dateLastModified", "user", "class", "school",
                    "role", "primary", "beginDate", "endDate"),
}

# The filterable fields of the small types (read whole, filtered in Python): name -> kind.
_COMMON = {"sourcedId": "text", "status": "text", "dateLastModified": "moment"}
PY_FIELDS = {
    "academicSessions": {**_COMMON, "title": "text", "type": "text", "startDate": "text",
                         "endDate": "text", "schoolYear": "text"},
    "orgs": {**_COMMON, "name": "text", "type": "text", "identifier": "text"},
    "courses": {**_COMMON, "title": "text", "courseCode": "text"},
}


def source(kind: str) -> Source:
    return _SOURCES[kind]


def iter_records(kind: str, *, since: datetime | None = None, base_url: str = ""
                 ) -> Iterator[dict]:
    """Every record of `kind` (or, with `since`, what changed or was removed after it), in
    sourcedId order, read in batches: see the module's docstring."""
    src = source(kind)
    delta = since is not None
    if not src.in_sql:
        records = src.read_all(delta, base_url)
        if delta:
            cut = moment(since)
            records = [r for r in records if r["dateLastModified"] > cut]
        records.sort(key=lambda r: (r["status"] != ACTIVE, r["sourcedId"]))
        yield from records
        return
    rows = src.rows(delta)
    stmt = select(rows)
    if delta:
        stmt = stmt.where(rows.c.modified > since)
    # Active records first, then the tombstones, each in sourcedId order.
    stmt = stmt.order_by(rows.c.status != ACTIVE, *src.order(rows))
    for row in db.session.execute(stmt.execution_options(yield_per=BATCH)):
        yield src.record(row, base_url)
