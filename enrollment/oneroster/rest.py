"""The OneRoster 1.1 REST provider at /ims/oneroster/v1p1 (read-only rostering).

Each collection answers `{"<plural>": [records]}` with `X-Total-Count` and an RFC 8288 `Link`
header (first, prev, next, last), each single read `{"<singular>": record}`; the records are
`records.py`'s. A collection read runs a fixed number of statements whatever `limit` is: the
client's check, a count and the page (a nested read one more, to find its parent). A filter on
`dateLastModified` makes a delta: removed records are included as `tobedeleted`. Errors are
`imsx_StatusInfo` objects (`query.ImsxError`).

Where is what: this module (the blueprint, its errors, collections and single reads),
nested.py (a class's students, a term's classes…), query.py (the query parameters), records.py
(the records), oauth.py (/oauth/token and the bearer check).
"""
from __future__ import annotations

import uuid

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from ..auth.throttle import limiter
from ..extensions import db
from ..models import Role, Student, User
from . import oauth, query, records
from .query import ImsxError

PREFIX = "/ims/oneroster/v1p1"
bp = Blueprint("oneroster", __name__, url_prefix=PREFIX)
bp.before_request(oauth.authenticate)
MAX_ID_LENGTH = 64


@bp.url_value_preprocessor
def _check_id(endpoint, values) -> None:
    for name in ("sourced_id", "class_id"):
        sourced_id = (values or {}).get(name)
        if sourced_id is not None and (len(sourced_id) > MAX_ID_LENGTH
                                       or "\x00" in sourced_id):
            raise ImsxError(404, "unknownobject", "There is no record with that sourcedId.")


def _rate_key() -> str:
    return "oneroster:" + oauth.hash_secret(request.headers.get("Authorization", ""))[:32]


limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=_rate_key)(bp)
# The token endpoint: per address (secrets cannot be guessed, but each try costs a query).
limiter.limit(lambda: current_app.config["API_RATE_LIMIT"])(oauth.bp)


# --- errors -----------------------------------------------------------------------------------
def status_info(status: int, code_minor: str, description: str):
    response = jsonify({"imsx_codeMajor": "failure", "imsx_severity": "error",
                        "imsx_messageRefIdentifier": str(uuid.uuid4()),
                        "imsx_description": description,
                        "imsx_CodeMinor": {"imsx_codeMinorField": [
                            {"imsx_codeMinorFieldName": "TargetEndSystem",
                             "imsx_codeMinorFieldValue": code_minor}]}})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="oneroster"'
    return response


@bp.errorhandler(ImsxError)
def _refused(exc: ImsxError):
    return status_info(exc.status, exc.code_minor, exc.description)


def _http_error(exc: HTTPException):
    minor = {404: "unknownobject", 405: "unsupportedoperation", 401: "unauthorisedrequest",
             429: "targetreadfailure"}.get(exc.code, "invaliddata")
    response = status_info(exc.code or 400, minor, exc.description or exc.name)
    if exc.code == 429 and exc.get_headers():
        response.headers.update({k: v for k, v in exc.get_headers() if k != "Content-Type"})
    return response


# The app's handlers of these codes (HTML pages) would be found before a blueprint's
# handler of every HTTPException.
bp.register_error_handler(HTTPException, _http_error)
for _code in (400, 401, 404, 405, 429):
    bp.register_error_handler(_code, _http_error)


# --- reading ----------------------------------------------------------------------------------
def _base_url() -> str:
    return request.host_url.rstrip("/") + PREFIX


def not_found(what: str, sourced_id: str) -> ImsxError:
    return ImsxError(404, "unknownobject", f"There is no {what} with sourcedId "
                                           f"{sourced_id[:64]!r}.")


def _page_links(q: query.Query, total: int) -> str:
    args = request.args.to_dict()

    def url(offset: int) -> str:
        args.update(offset=str(offset), limit=str(q.limit))
        return request.base_url + "?" + "&".join(
            f"{k}={_quote(v)}" for k, v in args.items())
    last = max((total - 1) // q.limit * q.limit, 0)
    links = [("first", 0)]
    if q.offset > 0:
        links.append(("prev", max(min(q.offset - q.limit, last), 0)))
    if q.offset + q.limit < total:
        links.append(("next", q.offset + q.limit))
    links.append(("last", last))
    return ", ".join(f'<{url(at)}>; rel="{rel}"' for rel, at in links)


def _quote(value: str) -> str:
    from urllib.parse import quote
    return quote(value, safe="")


def collection(kind: str, key: str, *, scope=(), keep=None):
    """A collection read of `kind` under the wrapper `key`. `scope`: SQL conditions of a
    nested read (large types); `keep`: a record test (small types, e.g. terms only)."""
    q = query.parse(request.args)
    query.check_fields(q, records.RECORD_FIELDS[kind])
    src = records.source(kind)
    base = _base_url()
    if src.in_sql:
        rows = src.rows(q.is_delta, scope)
        fields = src.fields(rows)
        condition = query.sql_condition(q, fields, records.enrollment_id_condition)
        order = query.sql_order(q, fields, src.order(rows))
        total = db.session.scalar(select(func.count()).select_from(rows).where(condition))
        found = db.session.execute(select(rows).where(condition).order_by(*order)
                                   .limit(q.limit).offset(q.offset))
        items = [src.record(row, base) for row in found]
    else:
        known = records.PY_FIELDS[kind]
        query.check_filter(q, known)
        every = [r for r in src.read_all(q.is_delta, base) if keep is None or keep(r)]
        chosen = query.py_sort([r for r in every if query.matches(r, q, known)], q, known)
        total = len(chosen)
        items = chosen[q.offset:q.offset + q.limit]
    response = jsonify({key: [query.select_fields(r, q) for r in items]})
    response.headers["X-Total-Count"] = str(total)
    response.headers["Link"] = _page_links(q, total)
    return response


def single(kind: str, key: str, sourced_id: str, *, what: str, scope=(), keep=None):
    q = query.parse({"fields": request.args.get("fields")})
    query.check_fields(q, records.RECORD_FIELDS[kind])
    src = records.source(kind)
    base = _base_url()
    if src.in_sql:
        rows = src.rows(False, scope)
        if kind == "enrollments":
            condition = records.enrollment_id_condition(rows, sourced_id)
        else:
            condition = rows.c.sourced_id == sourced_id
        row = db.session.execute(select(rows).where(condition).limit(1)).first()
        record = src.record(row, base) if row is not None else None
    else:
        record = next((r for r in src.read_all(False, base)
                       if r["sourcedId"] == sourced_id and (keep is None or keep(r))), None)
    if record is None:
        raise not_found(what, sourced_id)
    return jsonify({key: query.select_fields(record, q)})


def is_term(record: dict) -> bool:
    return record["type"] == "term"


def is_school(record: dict) -> bool:
    return record["type"] == "school"


IS_STUDENT = (Student.id.is_not(None),)
IS_TEACHER = (Student.id.is_(None), User.role == Role.INSTRUCTOR)


# --- collections and single reads ---------------------------------------------------------------
@bp.get("/academicSessions")
def academic_sessions():
    return collection("academicSessions", "academicSessions")


@bp.get("/academicSessions/<sourced_id>")
def academic_session(sourced_id):
    return single("academicSessions", "academicSession", sourced_id, what="academic session")


@bp.get("/terms")
def terms():
    return collection("academicSessions", "academicSessions", keep=is_term)


@bp.get("/terms/<sourced_id>")
def term(sourced_id):
    return single("academicSessions", "academicSession", sourced_id, what="term",
                  keep=is_term)


@bp.get("/orgs")
def orgs():
    return collection("orgs", "orgs")


@bp.get("/orgs/<sourced_id>")
def org(sourced_id):
    return single("orgs", "org", sourced_id, what="org")


@bp.get("/schools")
def schools():
    return collection("orgs", "orgs", keep=is_school)


@bp.get("/schools/<sourced_id>")
def school(sourced_id):
    return single("orgs", "org", sourced_id, what="school", keep=is_school)


@bp.get("/courses")
def courses():
    return collection("courses", "courses")


@bp.get("/courses/<sourced_id>")
def course(sourced_id):
    return single("courses", "course", sourced_id, what="course")


@bp.get("/classes")
def classes():
    return collection("classes", "classes")


@bp.get("/classes/<sourced_id>")
def class_(sourced_id):
    return single("classes", "class", sourced_id, what="class")


@bp.get("/users")
def users():
    return collection("users", "users")


@bp.get("/users/<sourced_id>")
def user(sourced_id):
    return single("users", "user", sourced_id, what="user")


@bp.get("/students")
def students():
    return collection("users", "users", scope=IS_STUDENT)


@bp.get("/students/<sourced_id>")
def student(sourced_id):
    return single("users", "user", sourced_id, what="student", scope=IS_STUDENT)


@bp.get("/teachers")
def teachers():
    return collection("users", "users", scope=IS_TEACHER)


@bp.get("/teachers/<sourced_id>")
def teacher(sourced_id):
    return single("users", "user", sourced_id, what="teacher", scope=IS_TEACHER)


@bp.get("/enrollments")
def enrollments():
    return collection("enrollments", "enrollments")


@bp.get("/enrollments/<sourced_id>")
def enrollment(sourced_id):
    return single("enrollments", "enrollment", sourced_id, what="enrollment")


@bp.route("/<path:path>", methods=("GET", "POST", "PUT", "PATCH", "DELETE"))
def unknown(path):
    """What no route above answers: a write (the provider is read-only) or no such path, in
    the binding's error shape rather than the site's HTML page."""
    if request.method != "GET":
        raise ImsxError(405, "unsupportedoperation", "This provider is read-only: GET only.")
    raise ImsxError(404, "unknownobject", f"There is no OneRoster endpoint /{path[:80]}.")


def init_app(app) -> None:
    """Register the token endpoint and the REST provider; neither takes a CSRF token (they
    are authenticated by client credentials and bearer tokens, never by a cookie)."""
    from ..extensions import csrf
    from . import nested  # noqa: F401 (its routes join the blueprint)

    csrf.exempt(oauth.bp)
    csrf.exempt(bp)
    app.register_blueprint(oauth.bp)
    app.register_blueprint(bp)
