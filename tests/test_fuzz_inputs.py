"""Fuzzing every route: random and hostile values in every query parameter and form field.

Each (rule, method) of the URL map is a test of its own (static files aside), so a new route is
fuzzed without editing this file. Field names come from the pages (a crawl of the site as the
user who would see each page) and from the admin's form classes and list filters (see
tests/fuzz_support.py). Values: NUL and control characters, huge and negative numbers, long
strings, bytes that are not UTF-8, a list where one value is expected (repeated keys), and
plausible values (the ones the pages carry, the world's ids), so that forms get past
validation and write.

After every request: no 5xx; a GET changed nothing; a refused write (a 4xx, a form shown
again, a redirect that says only why not) changed nothing; the audit trail replays to the
enrollments table; no text column holds a control character (C0, DEL, C1; a textarea's
column may keep tabs and line breaks). The 5xx and the stored control characters this file
found are pinned by the tests at its end.
"""
from __future__ import annotations

import csv
import html
import io
import os
import re
import traceback
from datetime import date, datetime, time
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
import sqlalchemy as sa
from flask_admin.tools import iterencode
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from enrollment import create_app, services
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.imports import KINDS, columns
from enrollment.models import MAX_ID, Enrollment, EnrollmentEvent, Term, User
from tests import fuzz_support as fz
from tests.factories import (
    NOW,
    PASSWORD,
    make_course,
    make_department,
    make_staff,
    make_student,
    make_term,
)
from tests.web_helpers import enroll

# The URL map does not depend on the database: read it from an app that never connects.
_MAP_APP = create_app({"TESTING": True, "SECRET_KEY": "fuzz", "CHECK_DATABASE": False,
                       "SQLALCHEMY_DATABASE_URI": "sqlite://"})
ROUTES = fz.routes(_MAP_APP)
# The world registers a webhook endpoint on loopback (there is no public address here).
pytestmark = pytest.mark.config(WEBHOOKS_ALLOW_PRIVATE=True)

# Examples per route: the whole file stays well under a minute. FUZZ_SCALE=20 digs deeper.
SCALE = max(int(os.environ.get("FUZZ_SCALE", "1")), 1)
EXAMPLES = {"GET": 5 * SCALE, "POST": 8 * SCALE}
# Derandomized: the suite (and CI) runs the same examples each time; FUZZ_SCALE explores more.
FUZZ_SETTINGS = dict(deadline=None, database=None, derandomize=True, print_blob=True,
                     phases=[Phase.explicit, Phase.generate, Phase.shrink],
                     suppress_health_check=[HealthCheck.function_scoped_fixture,
                                            HealthCheck.too_slow, HealthCheck.data_too_large,
                                            HealthCheck.filter_too_much])

# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------
SPECIAL = ["", " ", "\x00", "a\x00b", "\x01\x02\x1b[2J\x7f", "\t", "\r\n", "x\ry", "%00",
           "9" * 40, "-1", "0", "-0", "+1", "2147483647", "2147483648", "-2147483649",
           "9223372036854775808", "1e309", "NaN", "inf", "0x1F", "\uff11\uff12", "1,2", "1,",
           ",", "<xq>\"'&", "../../etc/passwd", "\u202e", "\ufeff", "\ud800", "null", "[]",
           "y", "on", "true", "2027-01-15", "2027-13-45T25:61", "9999-12-31T23:59:59+14:00",
           "0001-01-01", "09:00", "24:00", "MTWRFSUX", "enrolled", "staff", "A+",
           "javascript:alert(1)", "//evil.example", "/\\evil.example"]
RAW_BYTES = [b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"a\xffb", b"\xfe\xff\x00", b"\xe9t\xe9"]
LONG = st.builds(lambda ch, n: ch * n, st.sampled_from(["x", "\u00e9", "\x01", "<", "9", "\x00"]),
                 st.integers(250, 20_000))
HOSTILE = st.one_of(
    st.sampled_from(SPECIAL), st.sampled_from(RAW_BYTES), LONG,
    st.text(st.characters(exclude_categories=()), max_size=30),  # surrogates too
    st.integers(-2**70, 2**70).map(str), st.binary(max_size=16),
)


def csv_upload() -> st.SearchStrategy[bytes]:
    """A CSV file of one import kind with hostile cells, or bytes that are no CSV at all."""
    def build(kind, rows, header_noise):
        required, optional = columns(kind)
        header = list(required + optional)
        if header_noise:
            header.append(header_noise)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        for row in rows:
            writer.writerow((row * len(header))[:len(header)])
        return out.getvalue().encode("utf-8", "surrogatepass")

    cell = st.one_of(st.sampled_from(SPECIAL), st.text(st.characters(exclude_categories=()),
                                                       max_size=12))
    return st.one_of(
        st.builds(build, st.sampled_from(KINDS), st.lists(st.lists(cell, min_size=1,
                                                                   max_size=14),
                                                          min_size=1, max_size=3),
                  st.sampled_from(["", "", "extra", "\x00"])),
        st.binary(max_size=64), st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe",
                                                  b"\n\n\n", b'"unclosed\n']))


# --------------------------------------------------------------------------------------------
# The world every test fuzzes: a few records of each kind, links set up through the rules
# --------------------------------------------------------------------------------------------
# Control characters have no place in stored text (C0, DEL and C1); a textarea's column may keep
# tabs and line breaks (as \n).
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
MULTILINE = {"courses.description", "enrollment_events.reason", "holds.cleared_reason"}
KEPT_IN_MULTILINE = "\t\n"


def has_control(value, column: str) -> bool:
    allowed = KEPT_IN_MULTILINE if column in MULTILINE else ""
    return isinstance(value, str) and any(ch not in allowed for ch in CONTROL.findall(value))


@pytest.fixture
def world(app):
    term = make_term(code="FZ27", name="Fuzz term")
    dept = make_department(code="FZD", name="Fuzz department")
    full = make_course(term=term, department=dept, code="FZ100", capacity=1,
                       waitlist_capacity=2)
    meets = make_course(term=term, department=dept, code="FZ200", capacity=5, days="MW",
                        start_time=time(9), end_time=time(10))
    later = make_course(term=term, department=dept, code="FZ300")
    later.prerequisites.append(meets)
    free = make_course(term=term, department=dept, code="FZ400", credits=4)
    staff = make_staff(email="fuzz-staff@example.edu")
    student = make_student(email="fuzz-student@example.edu")
    others = [make_student() for _ in range(3)]
    db.session.commit()
    enroll(student, meets)
    enroll(others[0], full)
    enroll(others[1], full)  # waitlisted
    enroll(student, full)    # waitlisted second
    with write_transaction(db.session):
        hold = services.place_hold(others[2], "Bursar", reason="Unpaid fees",
                                   contact="bursar@x.edu", actor=None, now=NOW)
        services.place_hold(student, "Advising", reason="Meet your advisor",
                            blocks_registration=False, actor=None, now=NOW)
    db.session.commit()
    return {"staff": staff.id, "student": student.user.id,
            "courses": [full.id, meets.id, later.id, free.id],
            "students": [student.id] + [s.id for s in others], "term": term.id,
            "department": dept.id, "hold": hold.id}


class Fuzzer:
    """Sends one request as the right user and checks what it did."""

    def __init__(self, app, world):
        self.app, self.world = app, world
        self.clients = {role: app.test_client() for role in ("anonymous", "student", "staff")}
        self.users = {"student": world["student"], "staff": world["staff"]}

    def _log_in(self, role: str) -> None:
        client = self.clients[role]
        client.delete_cookie("remember_token")
        user = db.session.get(User, self.users[role]) if role in self.users else None
        with client.session_transaction() as session:
            session.clear()
            if user is not None:  # re-read: a fuzzed logout or password rotates the token
                session["_user_id"] = user.get_id()
                session["_fresh"] = True
        db.session.rollback()

    def fetch(self, url: str):
        """GET for the crawl, as the user who would see the page."""
        role = fz.role_for(urlsplit(url).path)
        self._log_in(role)
        response = self.clients[role].get(url)
        db.session.rollback()
        html = response.mimetype == "text/html"
        text = response.get_data(as_text=html)
        response.close()  # as a server does: a file sent from a temporary file is closed
        return response.status_code, response.mimetype, text

    def send(self, method: str, url: str, body: bytes | None, content_type: str | None):
        role = fz.role_for(urlsplit(url).path)
        self._log_in(role)
        before = snapshot()
        where = f"{method} {url[:300]!r} body={body[:300] if body else b''!r} as {role}"
        try:
            response = self.clients[role].open(url, method=method, data=body or b"",
                                               content_type=content_type)
        except Exception:
            db.session.rollback()
            raise AssertionError(f"{where}: raised\n{traceback.format_exc()}") from None
        db.session.rollback()
        response.get_data()  # buffered, then closed as a server closes what it sent
        response.close()
        status = response.status_code
        assert status < 500, f"{where}: {status}\n{response.get_data(as_text=True)[:500]}"
        with self.clients[role].session_transaction() as session:
            flashed = session.pop("_flashes", [])
        after = snapshot()
        if method not in fz.WRITE_METHODS:
            assert after == before, f"{where}: a {method} changed {changed(before, after)}"
        elif refused(status, flashed):
            assert after == before, (f"{where}: refused ({status}, {flashed}) but changed "
                                     f"{changed(before, after)}")
        if after != before:
            assert_trail_matches_table()
            bad = control_character_columns()
            assert not bad, f"{where}: control characters stored in {bad}"
        return response


def refused(status: int, flashed: list) -> bool:
    """A write that says it did nothing: a 4xx, a form shown again (200), or a redirect whose
    messages are all warnings or refusals."""
    if 400 <= status < 500 or status == 200:
        return True
    categories = {category for category, _ in flashed}
    return bool(categories) and categories <= {"danger", "error", "warning"}


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table (the world is small)."""
    rows = {}
    for table in db.metadata.sorted_tables:
        rows[table.name] = [tuple(r) for r in db.session.execute(
            select(table).order_by(*table.primary_key.columns))]
    db.session.rollback()
    return rows


def changed(before, after) -> dict[str, int]:
    return {name: len(set(after[name]) ^ set(before[name])) for name in before
            if after[name] != before[name]}


def assert_trail_matches_table() -> None:
    """Replaying the audit trail (last status_after of each pair) gives the enrollments."""
    last = {}
    for e in db.session.scalars(select(EnrollmentEvent).order_by(EnrollmentEvent.id)):
        if e.student_id is not None and e.course_id is not None:
            last[(e.student_id, e.course_id)] = e.status_after
    links = {(e.student_id, e.course_id): e.status for e in db.session.scalars(
        select(Enrollment))}
    db.session.rollback()
    assert {k: v for k, v in last.items() if v is not None} == links


def control_character_columns() -> set[str]:
    """The text columns (table.column) where some row holds a control character."""
    found = set()
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, sa.String):
                continue
            key = f"{table.name}.{column.name}"
            for (value,) in db.session.execute(select(column).where(column.is_not(None))):
                if has_control(value, key):
                    found.add(key)
                    break
    db.session.rollback()
    return found


# --------------------------------------------------------------------------------------------
# What to fuzz, found once per worker (the world's ids are the same in every test)
# --------------------------------------------------------------------------------------------
_SEEDS: dict[str, fz.Seeds] = {}
COMMON_QUERY = ("page", "q", "term", "department", "next", "id", "url", "bom", "x")


def default_url(app, route: fz.Route, world) -> str:
    values = {"course_id": world["courses"][0], "student_id": world["students"][0]}
    view = fz.admin_view(app, route.endpoint)
    if view is not None:
        values["op"] = next(iter(getattr(view, "bulk_ops", {}) or {"drop": 0}))
        values["export_type"] = (getattr(view, "export_types", None) or ["csv"])[0]
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(values.get(m[1], "1")), route.rule)


@pytest.fixture
def fuzzer(app, world):
    fuzzer = Fuzzer(app, world)
    if "seeds" not in _SEEDS:
        start = [default_url(app, r, world) for r in fz.routes(app) if r.method == "GET"]
        _SEEDS["seeds"] = fz.crawl(app, fuzzer.fetch, start)
    fuzzer.seeds = _SEEDS["seeds"]
    return fuzzer


def plausible(seeds: fz.Seeds, world, name: str) -> list[str]:
    """Values a real client could send for `name`: those seen on pages, and the world's ids."""
    values = sorted(v for v in seeds.values.get(name, ()) if len(v) < 500)
    ids = world["courses"] + world["students"] + [world["term"], world["department"],
                                                  world["staff"], world["student"]]
    return values + [str(i) for i in ids] + [",".join(map(str, world["courses"][:2])),
                                             PASSWORD, "fuzz-student@example.edu"]


# --- valid values, from the form classes --------------------------------------------------
def form_classes(app) -> list[type]:
    """The form classes behind the app's pages: the admin's (create, edit, bulk), the site's."""
    from enrollment.admin.imports import ConfirmForm, UploadForm
    from enrollment.auth.forms import LoginForm, RegisterForm

    classes = [LoginForm, RegisterForm, UploadForm, ConfirmForm]
    for admin in app.extensions.get("admin", []):
        for view in admin._views:
            classes += [c for c in (getattr(view, "_create_form_class", None),
                                    getattr(view, "_edit_form_class", None)) if c]
            classes += [spec.form for spec in getattr(view, "bulk_ops", {}).values()]
    return classes


def valid_strategy(unbound) -> st.SearchStrategy[str] | None:
    """Values a field of this kind accepts (None: no idea; plausible values will do)."""
    from wtforms import BooleanField, EmailField, PasswordField, SelectFieldBase, StringField
    from wtforms.validators import Length

    from enrollment import fields as f

    kind, kwargs = unbound.field_class, unbound.kwargs
    validators = list(kwargs.get("validators") or ())
    if issubclass(kind, f.WholeNumberField):
        return st.integers(kwargs["minimum"], kwargs["maximum"]).map(str)
    if issubclass(kind, f.MomentField):
        return st.datetimes(datetime(2026, 6, 1), datetime(2028, 6, 1)).map(
            lambda d: d.strftime("%Y-%m-%d %H:%M"))
    if issubclass(kind, f.DayField):
        return st.dates(date(2026, 6, 1), date(2028, 6, 1)).map(date.isoformat)
    if issubclass(kind, f.ClockTimeField):
        return st.times().map(lambda t: t.strftime("%H:%M"))
    if issubclass(kind, f.DaysField):
        return st.sets(st.sampled_from("MTWRFSU"), max_size=3).map("".join)
    if issubclass(kind, BooleanField):
        return st.sampled_from(["y", ""])
    if issubclass(kind, PasswordField):
        return st.just(PASSWORD)
    if issubclass(kind, SelectFieldBase):
        choices = kwargs.get("choices")
        values = [c[0] if isinstance(c, tuple) else c for c in choices or ()
                  if not callable(choices)]
        return st.sampled_from([v for v in values if v]) if any(values) else None
    if issubclass(kind, StringField):
        if any(isinstance(v, f.Code) for v in validators):
            return st.from_regex(r"\A[A-Z][A-Z0-9]{1,7}\Z")
        if issubclass(kind, EmailField) or any(isinstance(v, f.EmailAddress)
                                               for v in validators):
            return st.from_regex(r"\A[a-z]{1,8}[0-9]{0,4}@example\.edu\Z")
        longest = kwargs.get("max_length") or min(
            [v.max for v in validators if isinstance(v, Length) and v.max > 0] or [40])
        # Any characters, control characters included: a form that takes them stores them.
        return st.text(min_size=1, max_size=min(longest, 40)).filter(str.strip)
    return None


_VALID: dict[str, st.SearchStrategy[str]] = {}


def valid_values(app) -> dict[str, st.SearchStrategy[str]]:
    if not _VALID:
        found: dict[str, list] = {}
        for form_class in form_classes(app):
            for name in fz.form_field_names(form_class):
                strategy = valid_strategy(getattr(form_class, name))
                if strategy is not None:
                    found.setdefault(name, {})[repr(strategy)] = strategy
        _VALID.update({name: st.one_of(*options.values()) for name, options in found.items()})
    return _VALID


# --- one request ----------------------------------------------------------------------------
def field_value(data, fuzzer, name: str, baseline: list):
    """What to send for one field: a hostile, plausible or valid value, several of them
    (repeated keys), or none at all."""
    choices = plausible(fuzzer.seeds, fuzzer.world, name)
    valid = valid_values(fuzzer.app).get(name)
    has_valid = valid is not None
    one = st.one_of(HOSTILE, st.sampled_from(choices), *([valid] if has_valid else []))
    mode = data.draw(st.sampled_from(["hostile", "hostile", "plausible", "list", "absent"]
                                     + (["valid"] if has_valid else [])), label=f"{name} mode")
    if mode == "absent":
        return []
    if mode == "plausible":
        return [data.draw(st.sampled_from(choices), label=name)]
    if mode == "valid":
        return [data.draw(valid, label=name)]
    if mode == "list":
        return data.draw(st.lists(one, min_size=2, max_size=4), label=name)
    return [data.draw(HOSTILE, label=name)]


def mutate(data, fuzzer, pairs: list[tuple[str, str]], names: set[str]) -> list:
    """`pairs` (a form's or URL's values) with a few of `names` fuzzed."""
    names = sorted(names | {n for n, _ in pairs})
    chosen = data.draw(st.lists(st.sampled_from(names), unique=True, max_size=3)
                       if names else st.just([]), label="fuzzed names")
    out = [(n, v) for n, v in pairs if n not in chosen]
    for name in chosen:
        baseline = [v for n, v in pairs if n == name]
        out += [(name, v) for v in field_value(data, fuzzer, name, baseline)]
    return data.draw(st.permutations(out), label="order") if len(out) < 8 else out


def baseline_form(data, fuzzer, form: fz.FormSeed | None, names: set[str]) -> list:
    """The form as the page would send it, its empty fields filled with valid values (so
    that a create form can pass validation), plus valid values for fields the page lacks."""
    pairs = list(form.fields if form else [])
    valid = valid_values(fuzzer.app)
    filled = []
    for name, value in pairs:
        if not value and name in valid and data.draw(st.booleans(), label=f"fill {name}"):
            value = data.draw(valid[name], label=name)
        filled.append((name, value))
    present = {n for n, _ in filled}
    for name in sorted(names - present):
        if name in valid and data.draw(st.booleans(), label=f"add {name}"):
            filled.append((name, data.draw(valid[name], label=name)))
    return filled


def fuzz_path(data, rule: str, url_path: str) -> str:
    """The seen path, or the rule with its arguments replaced by hostile ones."""
    if "<" not in rule or data.draw(st.integers(0, 3), label="fuzz path") != 0:
        return url_path
    ids = st.sampled_from(["0", "1", "2", "3", str(MAX_ID), str(MAX_ID + 1), "-1", "9" * 30])
    raw = st.one_of(ids, HOSTILE.filter(lambda v: v != ""))

    def arg(match):
        value = data.draw(raw, label=match[0])
        return quote(value if isinstance(value, bytes) else value.encode("utf-8",
                                                                          "surrogatepass"),
                     safe="")
    return re.sub(r"<[^<>]+>", arg, rule)


def draw_request(data, app, fuzzer: Fuzzer, route: fz.Route):
    seeds, world = fuzzer.seeds, fuzzer.world
    seen = fuzzer.seeds.route(route)
    get_seen = seeds.by_route.get((route.rule, "GET"))
    urls = sorted(seen.urls | (get_seen.urls if get_seen else set())) or [
        default_url(app, route, world)]
    base = urlsplit(data.draw(st.sampled_from(urls), label="url"))
    view_query, view_form = fz.view_field_names(app, route)
    query_names = seen.query_names | view_query | (get_seen.query_names if get_seen else set())
    query_names |= set(COMMON_QUERY)
    query = mutate(data, fuzzer, parse_qsl(base.query, keep_blank_values=True), query_names)
    path = fuzz_path(data, route.rule, base.path)
    url = path + (f"?{fz.encode_pairs(query)}" if query else "")
    if route.method not in fz.WRITE_METHODS:
        return url, None, None, query
    forms = [f for f in seen.forms if f.method == route.method]
    form = data.draw(st.sampled_from(forms), label="form") if forms else None
    names = view_form | set(form.options if form else ()) | {"x"}
    body_pairs = mutate(data, fuzzer, baseline_form(data, fuzzer, form, view_form), names)
    files = form.files if form else set()
    if files or (form and form.multipart):
        uploads = [(name, data.draw(csv_upload(), label=name),
                    data.draw(st.one_of(st.just("data.csv"), HOSTILE), label="filename"))
                   for name in sorted(files) if data.draw(st.booleans(), label="send file")]
        body, content_type = fz.multipart(body_pairs, uploads)
        return url, body, content_type, query + body_pairs
    return (url, fz.encode_pairs(body_pairs).encode(), "application/x-www-form-urlencoded",
            query + body_pairs)


# Bugs this file found that are not fixed yet. While one is listed, the random inputs steer
# clear of it (the run stays green) and a test at the end of the file pins it as a strict
# xfail; once it is fixed that xfail passes, which fails the run: delete its entry.
OPEN_BUGS: dict[str, str] = {}


def open_bug(name: str) -> list:
    """The marks of a test that pins an open bug: a strict xfail while it is listed."""
    if name not in OPEN_BUGS:
        return []
    return [pytest.mark.xfail(strict=True, raises=AssertionError,
                              reason=f"bug: {OPEN_BUGS[name]}")]


def hits_open_bug(pairs: list) -> bool:
    """Whether a request's values would hit an open bug (none of the listed ones lives in
    a plain form or query; see `_import_examples` for the CSV one)."""
    return False


# --------------------------------------------------------------------------------------------
# Every route
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("route", ROUTES, ids=[r.id for r in ROUTES])
def test_route_survives_hostile_input(route, app, fuzzer):
    @settings(max_examples=EXAMPLES.get(route.method, 5), **FUZZ_SETTINGS)
    @given(data=st.data())
    def run(data):
        url, body, content_type, pairs = draw_request(data, app, fuzzer, route)
        assume(not hits_open_bug(pairs))
        fuzzer.send(route.method, url, body, content_type)

    run()


def test_the_crawl_found_the_forms_and_filters(app, fuzzer):
    """The fuzzing above is only as good as the names it knows: check a few that it must."""
    seeds = fuzzer.seeds
    by_rule = {rule: entry for (rule, method), entry in seeds.by_route.items()}
    assert {"q", "term", "department"} <= by_rule["/courses"].query_names
    assert {n for f in by_rule["/auth/register"].forms for n, _ in f.fields} >= {
        "name", "email", "password", "confirm"}
    assert by_rule["/courses/<int(max=2147483647):course_id>/enroll"].forms
    assert {"code", "title", "credits", "term"} <= {
        n for f in seeds.by_route[("/admin/course/new/", "POST")].forms for n, _ in f.fields}
    assert any(f.files for f in seeds.by_route[("/admin/import/preview", "POST")].forms)
    query, form = fz.view_field_names(app, fz.Route("/admin/enrollment/", "GET",
                                                    "enrollment.index_view"))
    assert any(n.startswith("flt0_") for n in query) and "page_size" in query
    _, bulk = fz.view_field_names(app, fz.Route("/admin/enrollment/bulk/<op>/", "POST",
                                                "enrollment.bulk_view"))
    assert {"rowid", "reason", "grade", "course", "overrides"} <= bulk


# --------------------------------------------------------------------------------------------
# The CSV import: upload, preview, confirm
# --------------------------------------------------------------------------------------------
def csv_cells(app, world_codes) -> dict[str, st.SearchStrategy[str]]:
    """A value for each import column: valid ones from the record forms' fields (the import
    checks each row with the same form), the world's codes for references."""
    valid = dict(valid_values(app))
    refs = {
        "term": st.sampled_from(world_codes["terms"]),
        "department": st.sampled_from(world_codes["departments"] + ["FZNEWD"]),
        "prerequisites": st.sampled_from(["", " ".join(world_codes["courses"][:1])]),
        "status": st.sampled_from(["", "enrolled", "waitlisted", "completed", "Enrolled"]),
        "grade": st.sampled_from(["", "A", "B-", "F", "P", "Z"]),
        "password": st.sampled_from(["", PASSWORD]),
    }
    return {**valid, **refs}


@settings(max_examples=30 * SCALE, **FUZZ_SETTINGS)
@given(data=st.data())
def _import_examples(data, fuzzer, cells):
    kind = data.draw(st.sampled_from(KINDS), label="kind")
    required, optional = columns(kind)
    header = list(required) + (data.draw(st.lists(st.sampled_from(optional), unique=True),
                                         label="optional columns") if optional else [])
    codes = {"code": st.sampled_from(fuzzer.codes["courses"]),
             "student_number": st.sampled_from(fuzzer.codes["students"])}
    if kind != "enrollments":  # new records, or updates of the world's
        codes = {}

    times = {"start_time", "end_time"} & set(header)
    assume(not ("course times import" in OPEN_BUGS and len(times) == 1))
    hostile = set(data.draw(st.lists(st.sampled_from(header), unique=True, max_size=2),
                            label="hostile columns"))

    def cell(name):
        good = codes.get(name, cells.get(name, st.just("")))
        if name not in hostile:
            return good
        # Text only: bytes that are not UTF-8 get the whole file refused (the routes' fuzzing
        # sends those); here the rows should reach the importers.
        return st.one_of(good, HOSTILE).map(
            lambda v: v.decode("utf-8", "replace") if isinstance(v, bytes)
            else v.encode("utf-8", "replace").decode())

    rows = data.draw(st.lists(st.tuples(*[cell(n) for n in header]), min_size=1, max_size=3),
                     label="rows")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    raw = out.getvalue().encode()
    extra = [("kind", kind)] + data.draw(st.sampled_from([[], [("overrides", "capacity"),
                                                               ("reason", "fuzz")]]),
                                         label="overrides")
    body, content_type = fz.multipart(extra, [("file", raw, "fuzz.csv")])
    preview = fuzzer.send("POST", "/admin/import/preview", body, content_type)
    payload = re.search(r'name="payload"[^>]*value="([^"]+)"', preview.get_data(as_text=True))
    if payload:
        fuzzer.send("POST", "/admin/import/apply", fz.encode_pairs(
            [("payload", html.unescape(payload[1]))]).encode(),
            "application/x-www-form-urlencoded")


def test_csv_import_survives_hostile_files(app, fuzzer):
    """Files of every kind, their cells valid or hostile: the preview refuses or shows a plan,
    its confirm writes it (or refuses and writes nothing), never a 5xx."""
    from enrollment.models import Course, Department, Student, Term

    def codes(column):
        values = list(db.session.scalars(select(column).order_by(column)))
        db.session.rollback()
        return values

    fuzzer.codes = {"terms": codes(Term.code), "departments": codes(Department.code),
                    "courses": codes(Course.code), "students": codes(Student.student_number)}
    _import_examples(fuzzer=fuzzer, cells=csv_cells(app, fuzzer.codes))


# --------------------------------------------------------------------------------------------
# Control characters in stored text
# --------------------------------------------------------------------------------------------
CONTROLS = [chr(c) for c in [*range(0x20), 0x7F, 0x85, 0x9B] if chr(c) not in "\t\n"]


def _valid(world) -> dict[str, dict[str, str]]:
    """A create form of each admin view that it accepts. A view not listed here gets valid
    values drawn from its form's field classes (see `valid_strategy`) and the world's ids."""
    return {
        "department": {"code": "FZNEW", "name": "New department"},
        "term": {"code": "FZNEW", "name": "New term", "enrollment_opens": "2027-03-01",
                 "enrollment_closes": "2027-03-10", "drop_deadline": "2027-03-20"},
        "course": {"term": str(world["term"]), "department": str(world["department"]),
                   "code": "FZNEW", "title": "New course", "description": "About it",
                   "credits": "3", "capacity": "10", "waitlist_capacity": "2",
                   "instructor": "Dr. New", "location": "Room 9"},
        "student": {"student_number": "FZNEW1", "name": "New Student",
                    "email": "fz-new@example.edu", "program": "History", "max_credits": "18"},
        "user": {"email": "fz-user@example.edu", "name": "New User", "role": "student",
                 "active": "y"},
        "hold": {"student": str(world["students"][1]), "office": "Bursar",
                 "reason": "Unpaid fees", "contact": "bursar@example.edu",
                 "blocks_registration": "y"},
        "reservation": {"course": str(world["courses"][3]), "seats": "1",
                        "release_at": "2027-03-01 09:00"},
        "api_token": {"user_email": "fuzz-staff@example.edu", "scopes": "read"},
        "webhook": {"url": "http://127.0.0.1:9/fuzz-hook", "description": "Fuzz hook",
                    "active": "y"},
        "crosslist": {"term": str(world["term"]), "key": "FZX", "capacity": "5",
                      "sections": f"{world['courses'][2]},{world['courses'][3]}"},
        "oneroster_client": {"name": "Fuzz LMS"},
    }


# A form field whose column is not named after it (name and email live on the login).
STORED_AS = {"name": "users.name", "email": "users.email"}


def _stored_column(view, name: str) -> str | None:
    """"table.column" where a create form's field is stored, or None."""
    table = view.model.__table__
    if name in table.c:
        return f"{table.name}.{name}"
    return STORED_AS.get(name)


def _text_fields(app) -> list[tuple[str, str, str]]:
    """(view endpoint, field, column) for every text field of every admin create form."""
    from wtforms import PasswordField, StringField

    found = []
    for admin in app.extensions["admin"]:
        for view in admin._views:
            form_class = getattr(view, "_create_form_class", None)
            if form_class is None or not getattr(view, "can_create", False):
                continue
            for name in fz.form_field_names(form_class):
                kind = getattr(form_class, name).field_class
                column = _stored_column(view, name)
                if issubclass(kind, StringField) and not issubclass(kind, PasswordField) \
                        and column:
                    found.append((view.endpoint, name, column))
    return found + [("register", "name", "users.name")]


class NothingAccepted(Exception):
    """The form was refused even without control characters: the test would prove nothing."""


@pytest.mark.parametrize(("view", "name", "column"), _text_fields(_MAP_APP),
                         ids=[f"{v}.{n}" for v, n, _ in _text_fields(_MAP_APP)])
def test_control_characters_are_refused_or_removed(view, name, column, app, world, client,
                                                   login, fuzzer):
    """A valid create form with control characters in one text field: refused, or saved
    without them (a tab or line break only in a textarea's column). The same form with plain text
    must be accepted, or the refusal would prove nothing."""
    staff = db.session.get(User, world["staff"])
    table, col = column.split(".")
    rows = sa.text(f"SELECT count(*) FROM {'users' if view == 'register' else table}")
    valid = _valid(world).get(view)
    names = set() if view == "register" else set(fz.form_field_names(
        fz.admin_view(app, f"{view}.create_view")._create_form_class))
    plain_accepted = []

    def form_for(data, unique: str) -> dict[str, str]:
        """The valid form, its unique fields made unique."""
        if view == "register":
            return {"name": "Plain Name", "email": f"fz{unique}@example.edu",
                    "password": PASSWORD, "confirm": PASSWORD}
        form = dict(valid) if valid else dict(baseline_form(data, fuzzer, None, names))
        for key in ("code", "student_number", "office"):
            if form.get(key):
                form[key] = f"{form[key]}{unique}"
        if form.get("email"):
            form["email"] = f"fz{unique}-{form['email']}"
        form.setdefault(name, "Plain text")
        return form

    def post(form: dict[str, str]) -> bool:
        """True when the form added a record."""
        db.session.rollback()
        before = db.session.scalar(rows)
        if view == "register":
            client.delete_cookie("session")
            client.post("/auth/register", data=form)
        else:
            login(staff)
            client.post(f"/admin/{view}/new/", data=form)
        db.session.rollback()
        added = db.session.scalar(rows) > before
        db.session.rollback()
        return added

    @settings(max_examples=6, **FUZZ_SETTINGS)
    @given(st.data(), st.sampled_from(CONTROLS), st.integers(0, 12), st.integers(0, 10**7))
    def run(data, control, at, n):
        form = form_for(data, f"{n}")
        if not plain_accepted and post(form_for(data, f"p{n}")):
            plain_accepted.append(n)
        # The control character inside a value the field accepts (an email stays one).
        form[name] = form[name][:at] + control + form[name][at:]
        post(form)
        stored = db.session.execute(sa.text(f"SELECT {col} FROM {table}")).scalars().all()
        db.session.rollback()
        bad = [v for v in stored if has_control(v, column)]
        assert not bad, f"{column} stored {bad[0]!r}"

    run()
    if not plain_accepted:
        raise NothingAccepted(f"/admin/{view}/new/ refused every valid form: give the view a "
                              "valid form in _valid()")


@pytest.mark.parametrize(("column", "url", "rowid"), [
    ("enrollment_events.reason", "/admin/enrollment/bulk/drop/",
     lambda w: iterencode([w["students"][0], w["courses"][1]])),
    ("holds.cleared_reason", "/admin/hold/bulk/clear/", lambda w: str(w["hold"])),
], ids=["enrollment_events.reason", "holds.cleared_reason"])
def test_a_staff_reason_refuses_or_removes_control_characters(column, url, rowid, app, world,
                                                              client, login):
    """A staff action's reason with control characters: refused, or stored without them."""
    login(db.session.get(User, world["staff"]))
    response = client.post(url, data={"rowid": rowid(world),
                                      "reason": "asked\x01 by\x1b[2J phone"})
    assert response.status_code == 303
    db.session.rollback()
    table, col = column.split(".")
    stored = db.session.execute(sa.text(f"SELECT {col} FROM {table}")).scalars().all()
    db.session.rollback()
    assert any("phone" in (v or "") for v in stored), "the action did not run"
    assert column not in control_character_columns()


def test_csv_import_refuses_or_removes_control_characters(app, world, client, login):
    """A cell with a control character: the row is refused, or imported without it."""
    login(db.session.get(User, world["staff"]))
    rows = "code,name,enrollment_opens,enrollment_closes,drop_deadline\n" \
           "FZCSV,Bad\x01name,2027-03-01,2027-03-10,2027-03-20\n"
    preview = client.post("/admin/import/preview", content_type="multipart/form-data",
                          data={"kind": "terms",
                                "file": (io.BytesIO(rows.encode()), "terms.csv")})
    payload = re.search(r'name="payload"[^>]*value="([^"]+)"', preview.get_data(as_text=True))
    if payload:  # refused in the preview is fine too
        client.post("/admin/import/apply", data={"payload": html.unescape(payload[1])})
        db.session.rollback()
        assert db.session.scalar(select(Term.name).where(Term.code == "FZCSV")), "not imported"
    db.session.rollback()
    assert "terms.name" not in control_character_columns()


# --------------------------------------------------------------------------------------------
# The 5xx this file found (fixed in bd62c21), pinned
# --------------------------------------------------------------------------------------------
HUGE = "9" * 4301  # past Python's limit for int(str): 4300 digits


@pytest.mark.parametrize("method, url, data", [
    ("GET", f"/admin/course/?page={HUGE}", None),
    ("GET", f"/admin/course/?flt0_code_contains={HUGE}", None),
    ("GET", f"/admin/department/edit/?id={HUGE}", None),
    ("POST", "/admin/course/delete/", {"id": HUGE}),
], ids=["page", "filter", "edit-id", "delete-id"])
def test_a_huge_number_in_an_admin_parameter_is_not_a_500(method, url, data, fuzzer):
    body = fz.encode_pairs(list(data.items())).encode() if data else None
    fuzzer.send(method, url, body, "application/x-www-form-urlencoded" if data else None)


@pytest.mark.parametrize("overrides", [[""], [" "], ["", "bogus"], ["\t", "capacity"]],
                         ids=["empty", "space", "blank-then-bogus", "tab-then-capacity"])
@pytest.mark.parametrize("url", ["/admin/import/preview", "/admin/course/new/",
                                 "/admin/student/bulk/enroll/", "/admin/enrollment/bulk/drop/"])
def test_a_blank_override_value_is_not_a_500(url, overrides, fuzzer):
    body, content_type = fz.multipart(
        [("kind", "terms"), *[("overrides", v) for v in overrides], ("reason", "r")],
        [("file", b"code\n", "t.csv")])
    fuzzer.send("POST", url, body, content_type)


COURSES_HEAD = "term,code,title,department,credits,capacity"


@pytest.mark.parametrize("update", [
    f"{COURSES_HEAD},waitlist_capacity,prerequisites,start_time\nFZ27,FZ900,T,FZD,3,10,0,,09:00",
    f"{COURSES_HEAD},prerequisites,end_time\nFZ27,FZ900,T,FZD,3,12,,10:00",
    f"{COURSES_HEAD},start_time\nFZ27,FZ900,T,FZD,3,10,09:00",  # 409 at the confirm
], ids=["start-waitlist-prerequisites", "end-capacity-prerequisites", "start-alone"])
@pytest.mark.parametrize("_", [pytest.param(None, marks=open_bug("course times import"),
                                            id="")])
def test_an_import_that_splits_a_course_times_pair_is_refused_in_the_preview(
        update, _, app, world, fuzzer):
    """Updating a course's start time without its end time: the preview refuses the row (a
    line error), as the admin form does; never a plan that the database then refuses, or a
    500 when the row also changes a capacity (the lock reloads the course, and linking the
    prerequisites autoflushes the broken row outside the importer's refusal)."""
    def upload(text):
        body, content_type = fz.multipart([("kind", "courses")],
                                          [("file", text.encode(), "c.csv")])
        return fuzzer.send("POST", "/admin/import/preview", body, content_type)

    def apply(preview):
        payload = re.search(r'name="payload"[^>]*value="([^"]+)"',
                            preview.get_data(as_text=True))
        return payload and fuzzer.send("POST", "/admin/import/apply", fz.encode_pairs(
            [("payload", html.unescape(payload[1]))]).encode(),
            "application/x-www-form-urlencoded")

    assert apply(upload(f"{COURSES_HEAD}\nFZ27,FZ900,T,FZD,3,10\n")).status_code == 303
    preview = upload(update + "\n")
    applied = apply(preview)  # never a 5xx: `send` checks
    assert preview.status_code == 422, f"the preview accepted it; the confirm gave {applied}"
