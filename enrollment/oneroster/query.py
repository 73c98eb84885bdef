"""The query parameters of a OneRoster 1.1 REST read: `limit`, `offset`, `sort`, `orderBy`,
`filter` and `fields`, parsed once and applied either as SQL (large types) or to records in
Python (small ones), with the same meaning.

A filter is `field<op>'value'` predicates (ops `= != > >= < <= ~`, `~` meaning "contains",
case-insensitively) joined by ` AND ` / ` OR ` (AND binds tighter); a quote inside a value is
written twice. Bad input is an `ImsxError` (400, with the binding's `imsx_CodeMinor`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import and_, func, not_, or_, true

DEFAULT_LIMIT = 100
MAX_LIMIT = 10000
OPS = ("!=", ">=", "<=", "=", ">", "<", "~")
_PREDICATE = re.compile(r"\s*([A-Za-z][A-Za-z0-9_.]*)\s*(!=|>=|<=|=|>|<|~)\s*'((?:[^']|'')*)'\s*")
_JOIN = re.compile(r"(AND|OR)(?=\s)", re.IGNORECASE)
MAX_PREDICATES = 20


class ImsxError(Exception):
    """A refused OneRoster request: HTTP status, `imsx_CodeMinor` value, description."""

    def __init__(self, status: int, code_minor: str, description: str):
        super().__init__(description)
        self.status, self.code_minor, self.description = status, code_minor, description


@dataclass(frozen=True)
class Predicate:
    field: str
    op: str
    value: str


@dataclass(frozen=True)
class Query:
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    sort: str | None = None
    descending: bool = False
    # OR of AND-groups of predicates; empty: no filter
    filter: tuple[tuple[Predicate, ...], ...] = ()
    fields: tuple[str, ...] | None = None

    @property
    def is_delta(self) -> bool:
        """A filter on dateLastModified asks what changed: tombstones are included."""
        return any(p.field == "dateLastModified" for group in self.filter for p in group)


def parse(args) -> Query:
    """The query of a request's arguments (a mapping); `ImsxError` when one is wrong."""
    for name in ("limit", "offset", "sort", "orderBy", "filter", "fields"):
        value = args.get(name)
        if value is not None and ("\x00" in value or len(value) > 2000):
            raise ImsxError(400, "invaliddata", f"{name} is too long or holds a NUL.")
    limit = _integer(args.get("limit"), "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _integer(args.get("offset"), "offset", 0, 0, 10**9)
    order = (args.get("orderBy") or "asc").strip().lower()
    if order not in ("asc", "desc"):
        raise ImsxError(400, "invaliddata", "orderBy must be asc or desc.")
    sort = (args.get("sort") or "").strip() or None
    fields = None
    if args.get("fields") is not None:
        fields = tuple(f.strip() for f in args["fields"].split(",") if f.strip())
        if not fields:
            raise ImsxError(400, "invalid_selection_field", "fields names no field.")
    return Query(limit=limit, offset=offset, sort=sort, descending=order == "desc",
                 filter=parse_filter(args.get("filter")), fields=fields)


def _integer(text, name: str, default: int, low: int, high: int) -> int:
    if text is None or text == "":
        return default
    if not text.strip().isdigit() or len(text.strip()) > 10:
        raise ImsxError(400, "invaliddata", f"{name} must be a whole number.")
    value = int(text)
    if not low <= value <= high:
        raise ImsxError(400, "invaliddata", f"{name} must be from {low} to {high}.")
    return value


def parse_filter(text: str | None) -> tuple[tuple[Predicate, ...], ...]:
    if text is None or not text.strip():
        return ()
    groups: list[list[Predicate]] = [[]]
    at, count = 0, 0
    while True:
        found = _PREDICATE.match(text, at)
        if found is None:
            raise ImsxError(400, "invalid_filter_field",
                            f"The filter is not field<op>'value' at character {at + 1} (ops: "
                            f"{' '.join(OPS)}; joined by ' AND ' or ' OR ').")
        name, op, value = found.groups()
        groups[-1].append(Predicate(name, op, value.replace("''", "'")))
        count += 1
        if count > MAX_PREDICATES:
            raise ImsxError(400, "invalid_filter_field",
                            f"A filter has at most {MAX_PREDICATES} predicates.")
        at = found.end()
        if at == len(text):
            break
        join = _JOIN.match(text, at)
        if join is None:
            raise ImsxError(400, "invalid_filter_field",
                            f"Expected AND or OR at character {at + 1} of the filter.")
        if join.group(1).upper() == "OR":
            groups.append([])
        at = join.end()
    return tuple(tuple(g) for g in groups)


def check_fields(query: Query, known) -> None:
    """Every field of the `fields` selection is one of `known` (the filter and the sort
    field are checked where they are applied)."""
    for name in query.fields or ():
        if name not in known:
            raise ImsxError(400, "invalid_selection_field", f"Unknown field {name[:60]!r}.")


def unknown_filter(name: str) -> ImsxError:
    return ImsxError(400, "invalid_filter_field",
                     f"Cannot filter on {name[:60]!r}: not a field of these records (or not "
                     "one that can be filtered).")


def unknown_sort(name: str) -> ImsxError:
    return ImsxError(400, "invalid_sort_field",
                     f"Cannot sort on {name[:60]!r}: not a field of these records (or not one "
                     "that can be sorted).")


def moment_value(text: str) -> datetime:
    """A filter's time: ISO 8601 (a `Z` or an offset; none is UTC), or a date."""
    value = text.strip()
    try:
        if len(value) == 10:
            parsed = datetime.combine(date.fromisoformat(value), datetime.min.time())
        else:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ImsxError(400, "invalid_filter_field",
                        f"{text[:40]!r} is not an ISO 8601 time (e.g. 2027-01-01T00:00:00Z)."
                        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def flag_value(text: str) -> bool:
    value = text.strip().lower()
    if value not in ("true", "false"):
        raise ImsxError(400, "invalid_filter_field", f"{text[:40]!r} is not true or false.")
    return value == "true"


# --- SQL --------------------------------------------------------------------------------------
def sql_condition(query: Query, fields: dict, enrollment_id_condition=None):
    """The WHERE condition of the filter over a source's `fields` (name -> records.Field)."""
    if not query.filter:
        return true()
    return or_(*(and_(*(_sql_predicate(p, fields, enrollment_id_condition) for p in group))
                 for group in query.filter))


def _sql_predicate(p: Predicate, fields: dict, enrollment_id_condition):
    spec = fields.get(p.field)
    if spec is None:
        raise unknown_filter(p.field)
    if spec.kind == "enrollment_id":
        if p.op not in ("=", "!="):
            raise ImsxError(400, "invalid_filter_field",
                            "An enrollment's sourcedId is compared with = or != only.")
        condition = enrollment_id_condition(spec.column, p.value)
        return condition if p.op == "=" else not_(condition)
    column = spec.column
    if spec.kind == "moment":
        value = moment_value(p.value)
    elif spec.kind == "flag":
        if p.op not in ("=", "!="):
            raise ImsxError(400, "invalid_filter_field", f"{p.field} is compared with = or !=.")
        value = flag_value(p.value)
    else:
        value = p.value
    if p.op == "~":
        if spec.kind != "text":
            raise ImsxError(400, "invalid_filter_field", f"{p.field} cannot be searched with ~.")
        return func.lower(column).contains(value.lower(), autoescape=True)
    compare = {"=": column.__eq__, "!=": column.__ne__, ">": column.__gt__,
               ">=": column.__ge__, "<": column.__lt__, "<=": column.__le__}[p.op]
    condition = compare(value)
    if p.op == "!=":  # NULL (a tombstone's missing field) is "not equal" too
        condition = or_(condition, column.is_(None))
    return condition


def sql_order(query: Query, fields: dict, default_order: tuple):
    """ORDER BY: the sort field (then the sourcedId order, for a stable page), or the
    sourcedId order."""
    if query.sort is None:
        columns = default_order
        return [c.desc() for c in columns] if query.descending else list(columns)
    spec = fields.get(query.sort)
    if spec is None:
        raise unknown_sort(query.sort)
    if spec.kind == "enrollment_id":
        first = list(default_order)
    else:
        first = [spec.column]
    ordered = [c.desc() if query.descending else c.asc() for c in first]
    return ordered + list(default_order)


# --- Python -----------------------------------------------------------------------------------
def matches(record: dict, query: Query, known: dict) -> bool:
    """Whether a record passes the filter (`known`: name -> kind of the filterable fields)."""
    return not query.filter or any(all(_py_predicate(record, p, known) for p in group)
                                   for group in query.filter)


def check_filter(query: Query, known: dict) -> None:
    for group in query.filter:
        for p in group:
            if p.field not in known:
                raise unknown_filter(p.field)
            if known[p.field] == "moment":
                if p.op == "~":
                    raise ImsxError(400, "invalid_filter_field",
                                    f"{p.field} cannot be searched with ~.")
                moment_value(p.value)


def _py_predicate(record: dict, p: Predicate, known: dict) -> bool:
    have = record.get(p.field)
    if have is None:
        return p.op == "!="
    if known[p.field] == "moment":
        have_value, value = moment_value(have), moment_value(p.value)
    else:
        have_value, value = str(have), p.value
    if p.op == "~":
        return value.lower() in have_value.lower()
    return {"=": have_value == value, "!=": have_value != value, ">": have_value > value,
            ">=": have_value >= value, "<": have_value < value, "<=": have_value <= value}[p.op]


def py_sort(records: list[dict], query: Query, known: dict) -> list[dict]:
    if query.sort is not None and query.sort not in known:
        raise unknown_sort(query.sort)
    key = query.sort or "sourcedId"

    def sort_key(record):
        value = record.get(key)
        return (value is None, str(value or ""), record["sourcedId"])
    return sorted(records, key=sort_key, reverse=query.descending)


def select_fields(record: dict, query: Query) -> dict:
    if not query.fields:
        return record
    return {name: record.get(name) for name in query.fields}
