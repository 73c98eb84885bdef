"""Security review: XSS, open redirects in the admin, cookies, exports, bad input.

Each test would fail if the protection it checks were removed: payloads are stored through
every user-controlled field that a page renders, every export is parsed cell by cell, and
every form and query parameter gets NUL bytes and very long values.

Who may reach which route, CSRF on every POST route and students' data kept apart are the
access matrices' (tests/test_security_matrix.py, test_admin_access.py, test_reports_access.py);
a safe `next` after logging in is tests/test_auth.py's.
"""
from __future__ import annotations

import csv
import io
import re
from urllib.parse import quote, urlsplit

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from enrollment import services
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import Source, User
from enrollment.reports.safe_cells import FORMULA_STARTS
from tests.factories import NOW, PASSWORD
from tests.web_helpers import enroll

# Long payload for free-text fields, short one for codes (at most 16 characters).
XSS = "\"'><script>alert(1)</script><img src=x onerror=alert(1)>"
XSS_SHORT = "<xq>\"'&"
RAW_MARKERS = ("<script>alert(1)", "<img src=x", "<xq>")
ESCAPED_MARKERS = ("&lt;script&gt;alert(1)", "&lt;xq&gt;")


def assert_escaped(body: str, where: str, *, must_show: bool = True) -> None:
    for marker in RAW_MARKERS:
        assert marker not in body, f"{where}: unescaped {marker!r}"
    if must_show:
        assert any(m in body for m in ESCAPED_MARKERS), f"{where}: payload not rendered at all"


def staff_override(student, course, reason):
    with write_transaction(db.session):
        return services.enroll(student, course, actor=None, now=NOW, source=Source.STAFF,
                               override=frozenset({services.Override.WINDOW,
                                                   services.Override.PREREQUISITES}),
                               reason=reason)


# --------------------------------------------------------------------------------------------
# Stored XSS
# --------------------------------------------------------------------------------------------
@pytest.fixture
def evil(make_student, make_staff, make_course, make_term, make_department):
    """Every user-controlled field that a page renders holds markup."""
    staff = make_staff(name=XSS, email="evil-staff@example.edu")
    term = make_term(code=XSS_SHORT, name=XSS)
    dept = make_department(code="<xq>1", name=XSS)
    dept2 = make_department(code="<xq>2", name=XSS)
    course = make_course(code=XSS_SHORT, title=XSS, description=XSS, instructor=XSS,
                         location=XSS, term=term, department=dept, days="MW",
                         start_time=NOW.time().replace(hour=9), end_time=NOW.time()
                         .replace(hour=10))
    other = make_course(code="<xq>B", title=XSS, term=term, department=dept2, capacity=1)
    course.prerequisites.append(other)
    student = make_student(name=XSS, program=XSS, student_number="<xq>9")
    waiter = make_student(name=XSS)
    staff_override(student, course, reason=XSS)
    staff_override(student, other, reason=XSS)
    staff_override(waiter, other, reason=XSS)  # waitlisted: capacity 1
    db.session.commit()
    return {"staff": staff, "student": student, "course": course, "other": other,
            "term": term, "dept": dept}


def test_no_stored_xss_on_staff_pages(client, login, evil):
    login(evil["staff"])
    c, s = evil["course"].id, evil["student"].id
    q = quote(XSS)
    pages = [
        "/courses", f"/courses?q={q}", f"/courses?term={q}&department={q}", f"/courses/{c}",
        "/reports/", f"/reports/?term={quote(XSS_SHORT)}", f"/reports/enrollment?term={q}",
        f"/reports/enrollment?term={quote(XSS_SHORT)}", "/reports/enrollment?term=all",
        f"/reports/enrollment?term={quote(XSS_SHORT)}&department={q}",
        f"/reports/courses/{c}/roster", f"/reports/students/{s}",
        "/admin/", "/admin/course/", f"/admin/course/?search={q}",
        f"/admin/course/edit/?id={c}", "/admin/student/", f"/admin/student/edit/?id={s}",
        "/admin/enrollment/", f"/admin/enrollment/?flt0_0={q}", "/admin/term/",
        f"/admin/term/edit/?id={evil['term'].id}", "/admin/department/",
        f"/admin/department/edit/?id={evil['dept'].id}", "/admin/audit/",
        f"/admin/audit/?search={q}", "/admin/user/", f"/admin/user/edit/?id={evil['staff'].id}",
        "/admin/import/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_escaped(response.get_data(as_text=True), url, must_show=url != "/admin/import/")


def test_svg_chart_labels_are_escaped(client, login, evil):
    login(evil["staff"])
    body = client.get(f"/reports/enrollment?term={quote(XSS_SHORT)}").get_data(as_text=True)
    charts = re.findall(r"<svg\b.*?</svg>", body, re.S)
    assert len(charts) >= 2  # by course and by department (and the timeline)
    for chart in charts:
        assert_escaped(chart, "chart", must_show=False)
    assert any("&lt;xq&gt;" in chart for chart in charts)


def test_no_stored_xss_on_student_pages_and_flashes(client, login, evil):
    login(evil["student"].user)
    for url in ["/courses", f"/courses/{evil['course'].id}", f"/courses/{evil['other'].id}",
                "/me/schedule"]:
        assert_escaped(client.get(url).get_data(as_text=True), url)
    # A flash that repeats the course title (already on the roster).
    response = client.post(f"/courses/{evil['course'].id}/enroll", follow_redirects=True)
    assert "already enrolled in" in response.get_data(as_text=True)
    assert_escaped(response.get_data(as_text=True), "enroll flash")


def test_no_xss_in_admin_bulk_page_and_flashes(client, login, evil):
    login(evil["staff"])
    from flask_admin.tools import iterencode

    rowid = iterencode([evil["student"].id, evil["course"].id])
    page = client.post("/admin/enrollment/action/", data={"action": "drop", "rowid": rowid})
    assert page.status_code == 200
    assert_escaped(page.get_data(as_text=True), "bulk page")
    # A refusal (promoting an enrolled student) repeats the student and course in the flash.
    done = client.post("/admin/enrollment/bulk/promote/",
                       data={"rowid": rowid, "reason": XSS}, follow_redirects=True)
    assert_escaped(done.get_data(as_text=True), "bulk flash")


def _upload(client, kind, text, name="data.csv", **extra):
    data = {"kind": kind, "file": (io.BytesIO(text.encode()), name), **extra}
    return client.post("/admin/import/preview", data=data, content_type="multipart/form-data")


def _csv(*rows) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


COURSE_HEAD = ("term", "code", "title", "department", "credits", "capacity",
               "waitlist_capacity", "days", "start_time", "end_time", "location", "instructor",
               "prerequisites")


def test_no_xss_in_import_previews_and_errors(client, login, evil, make_term):
    make_term(code="EVT1")
    db.session.commit()
    login(evil["staff"])
    good = _csv(COURSE_HEAD, ("EVT1", "N1", XSS, "EVD", 3, 10, 0, "", "", "", XSS, XSS, ""))
    preview = _upload(client, "courses", good, name="<xq>.csv")
    assert preview.status_code == 200
    assert_escaped(preview.get_data(as_text=True), "import preview")
    bad = _csv(COURSE_HEAD, ("T", XSS, "x", "y", "<xq>", 1, 1, "<xq>", "<xq>", "<xq>", "", "",
                             XSS_SHORT))
    errors = _upload(client, "courses", bad)
    assert errors.status_code == 422
    assert_escaped(errors.get_data(as_text=True), "import errors")
    header = _upload(client, "courses", "<xq>,<script>alert(1)</script>\n1,2\n")
    assert_escaped(header.get_data(as_text=True), "import header errors")


def test_admin_ajax_lookups_are_json_not_html(client, login, evil):
    login(evil["staff"])
    for url in ["/admin/course/ajax/lookup/?name=prerequisites&query=<xq>",
                "/admin/student/ajax/lookup/?name=courses&query=<xq>"]:
        response = client.get(url)
        assert response.status_code == 200
        assert response.mimetype == "application/json"


# --------------------------------------------------------------------------------------------
# Open redirects
# --------------------------------------------------------------------------------------------
UNSAFE_TARGETS = [
    "//evil.example", "https://evil.example/x", "/\\evil.example", "\\\\evil.example",
    "/\t/evil.example", " //evil.example", "https:evil.example", "javascript:alert(1)",
    "///evil.example", "http://localhost@evil.example/",
]


def _is_local(location: str) -> bool:
    parts = urlsplit(location)
    return parts.netloc in ("", "localhost") and parts.scheme in ("", "http") and \
        "\n" not in location and "\r" not in location and "evil" not in parts.netloc


@pytest.mark.parametrize("target", UNSAFE_TARGETS)
def test_admin_redirects_never_leave_the_site(target, client, login, make_staff, make_course,
                                              make_student):
    staff = make_staff()
    course = make_course()
    gone = make_course()
    student = make_student()
    enroll(student, course)
    db.session.commit()
    login(staff)
    from flask_admin.tools import iterencode

    rowid = iterencode([student.id, course.id])
    posts = [
        ("/admin/course/delete/", {"id": gone.id, "url": target}),
        ("/admin/course/delete/", {"id": 999999, "url": target}),
        ("/admin/enrollment/bulk/drop/", {"rowid": rowid, "url": target}),
        ("/admin/enrollment/action/", {"action": "drop", "rowid": "junk", "url": target}),
        (f"/admin/department/edit/?id={course.department_id}&url={quote(target)}",
         {"code": "DX", "name": "Dept X"}),
        (f"/admin/department/new/?url={quote(target)}", {"code": "DY", "name": "Dept Y"}),
    ]
    for url, data in posts:
        response = client.post(url, data=data)
        if response.status_code == 400:  # a return address with a control character is refused
            assert any(ch in target for ch in "\t\r\n"), (url, target)
            continue
        assert response.status_code in (302, 303), (url, response.status_code)
        assert _is_local(response.headers["Location"]), (url, response.headers["Location"])
    for url in [f"/admin/course/edit/?id=999999&url={quote(target)}",
                f"/admin/course/details/?id=999999&url={quote(target)}"]:
        response = client.get(url)
        if response.status_code in (301, 302, 303):
            assert _is_local(response.headers["Location"]), (url, response.headers["Location"])
    # The return URL that admin forms carry must not be an unsafe one either.
    page = client.get(f"/admin/course/edit/?id={course.id}&url={quote(target)}")
    assert "evil.example" not in page.get_data(as_text=True)


@pytest.mark.config(PROPAGATE_EXCEPTIONS=False)
def test_admin_return_url_with_a_newline_is_not_a_500(client, login, make_staff, make_course):
    staff = make_staff()
    course = make_course()
    db.session.commit()
    login(staff)
    response = client.post("/admin/course/delete/",
                           data={"id": course.id, "url": "/admin/\r\nSet-Cookie: x=1"})
    assert response.status_code < 500


# --------------------------------------------------------------------------------------------
# Cookies, logout, enumeration
# --------------------------------------------------------------------------------------------
def _set_cookies(response) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}


def test_session_and_remember_cookies_are_httponly_and_samesite(client, make_student):
    make_student(email="cookie@example.edu")
    db.session.commit()
    response = client.post("/auth/login", data={"email": "cookie@example.edu",
                                                "password": PASSWORD, "remember": "y"})
    assert response.status_code == 303
    cookies = _set_cookies(response)
    for name in ("session", "remember_token"):
        header = cookies[name]
        assert "HttpOnly" in header, header
        assert re.search(r"SameSite=(Lax|Strict)", header), header


def test_logout_clears_the_remember_cookie(client, make_student):
    make_student(email="bye@example.edu")
    db.session.commit()
    client.post("/auth/login", data={"email": "bye@example.edu", "password": PASSWORD,
                                     "remember": "y"})
    assert client.get_cookie("remember_token") is not None
    response = client.post("/auth/logout")
    header = _set_cookies(response)["remember_token"]
    assert "Expires=Thu, 01 Jan 1970" in header or "Max-Age=0" in header
    assert client.get_cookie("remember_token") is None
    assert client.get("/me/schedule").status_code == 302


def test_a_remember_cookie_copied_before_logout_is_dead_after_it(app, client, make_student):
    make_student(email="replay@example.edu")
    db.session.commit()
    client.post("/auth/login", data={"email": "replay@example.edu", "password": PASSWORD,
                                     "remember": "y"})
    stolen = client.get_cookie("remember_token").value
    client.post("/auth/logout")
    thief = app.test_client()
    thief.set_cookie("remember_token", stolen)
    assert thief.get("/me/schedule").status_code == 302


def test_login_messages_do_not_tell_which_emails_exist(client, make_student):
    make_student(email="known@example.edu")
    make_student(email="disabled@example.edu", active=False)
    db.session.commit()

    def attempt(email):
        response = client.post("/auth/login", data={"email": email, "password": "wrong-pass-1"})
        body = re.sub(r'value="[^"]*"', "", response.get_data(as_text=True))
        return response.status_code, body.replace(email, "EMAIL")

    known, unknown, disabled = (attempt("known@example.edu"), attempt("nobody@example.edu"),
                                attempt("disabled@example.edu"))
    assert known == unknown == disabled
    assert "Wrong email or password." in known[1]


def test_login_costs_one_hash_check_whether_or_not_the_email_exists(client, monkeypatch,
                                                                     make_student):
    """No timing oracle: an unknown email (or an account without a password) costs one
    password-hash check, like a known one."""
    import enrollment.auth.views as views
    import enrollment.models.users as users

    make_student(email="known-timing@example.edu")
    make_student(email="nopassword@example.edu", password=None)
    db.session.commit()
    calls = []

    def counting(real):
        def check(pwhash, password):
            calls.append(password)
            return real(pwhash, password)
        return check

    monkeypatch.setattr(views, "check_password_hash", counting(views.check_password_hash))
    monkeypatch.setattr(users, "check_password_hash", counting(users.check_password_hash))
    for email in ("known-timing@example.edu", "ghost@example.edu", "nopassword@example.edu"):
        calls.clear()
        response = client.post("/auth/login", data={"email": email, "password": "guess-123"})
        assert response.status_code == 400
        assert calls == ["guess-123"], email


# --------------------------------------------------------------------------------------------
# Password hashes never leave the server
# --------------------------------------------------------------------------------------------
def test_password_hashes_appear_in_no_page_or_export(client, login, make_staff, make_student,
                                                     make_course):
    staff = make_staff(email="hash-staff@example.edu")
    student = make_student(email="hash-student@example.edu")
    course = make_course()
    enroll(student, course)
    db.session.commit()
    hashes = [u.password_hash for u in db.session.scalars(select(User))]
    assert all(hashes)
    fragments = {h.split("$")[-1][:24] for h in hashes}
    login(staff)
    urls = ["/admin/", "/admin/user/", f"/admin/user/edit/?id={student.user.id}",
            f"/admin/user/details/?id={student.user.id}", "/admin/user/?search=hash",
            "/admin/student/", f"/admin/student/edit/?id={student.id}",
            f"/reports/students/{student.id}", f"/reports/courses/{course.id}/roster",
            f"/reports/courses/{course.id}/roster.csv", "/admin/user/ajax/lookup/?name=x",
            "/admin/course/ajax/lookup/?name=students&query=hash"]
    for view in ("user", "student", "enrollment", "audit", "course"):
        urls += [f"/admin/{view}/export/csv/", f"/admin/{view}/export/xlsx/"]
    for url in urls:
        response = client.get(url)
        data = response.data
        if url.endswith("xlsx/") and response.status_code == 200:
            data = _xlsx_text(data).encode()
        for fragment in fragments:
            assert fragment.encode() not in data, url
        assert b"scrypt:" not in data and b"pbkdf2:" not in data, url
        assert b"password_hash" not in data.lower(), url
    # The roster XLSX too.
    xlsx = client.get(f"/reports/courses/{course.id}/roster.xlsx").data
    assert not any(f in _xlsx_text(xlsx) for f in fragments)


def _xlsx_text(data: bytes) -> str:
    workbook = load_workbook(io.BytesIO(data))
    return "\n".join(str(c.value) for ws in workbook for row in ws.iter_rows() for c in row
                     if c.value is not None)


# --------------------------------------------------------------------------------------------
# Formula injection in every export
# --------------------------------------------------------------------------------------------
FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+cmd|' /C calc'!A0", "-2+3",
            "@SUM(A1)", "\t=1", "\r=1"]


def _assert_csv_safe(text: str, where: str) -> int:
    cells = [cell for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for cell in row]
    bad = [c for c in cells if c and c[0] in FORMULA_STARTS]
    assert bad == [], f"{where}: {bad}"
    return sum(1 for c in cells if c.startswith("'") and c[1:2] in FORMULA_STARTS)


def _assert_xlsx_safe(data: bytes, where: str) -> int:
    workbook = load_workbook(io.BytesIO(data))
    neutralised = 0
    for sheet in workbook:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{where}: formula cell {cell.value!r}"
                if isinstance(cell.value, str):
                    assert cell.value[:1] not in FORMULA_STARTS, f"{where}: {cell.value!r}"
                    neutralised += cell.value.startswith("'")
    return neutralised


def test_every_export_neutralises_formulas(client, login, make_staff, make_student,
                                           make_course, make_term, make_department):
    staff = make_staff(name="=STAFF()", email="formula-staff@example.edu")
    term = make_term(code="=T1", name="+Term")
    dept = make_department(code="@D", name="-Dept")
    course = make_course(code="=C1", title=FORMULAS[0], instructor=FORMULAS[1],
                         location=FORMULAS[3], term=term, department=dept)
    students = [make_student(name=f, program=f, student_number=f"{f[0]}{i}",
                             email=f"-f{i}@example.edu")
                for i, f in enumerate(FORMULAS)]
    for s in students:
        staff_override(s, course, reason=FORMULAS[0])
    db.session.commit()
    login(staff)
    csv_urls = [f"/reports/courses/{course.id}/roster.csv",
                f"/reports/courses/{course.id}/roster.csv?bom=1",
                f"/reports/enrollment.csv?term={quote('=T1')}", "/reports/enrollment.csv?term=all"]
    xlsx_urls = [f"/reports/courses/{course.id}/roster.xlsx"]
    for view in ("course", "student", "enrollment", "audit", "user", "term", "department"):
        csv_urls.append(f"/admin/{view}/export/csv/")
        xlsx_urls.append(f"/admin/{view}/export/xlsx/")
    for url in csv_urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert _assert_csv_safe(response.get_data(as_text=True), url) > 0, url
    for url in xlsx_urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert _assert_xlsx_safe(response.data, url) > 0, url


def test_cli_roster_neutralises_formulas(runner, make_student, make_course, make_term):
    term = make_term(code="CLI1")
    course = make_course(code="CLI101", term=term)
    student = make_student(name=FORMULAS[0], program=FORMULAS[3])
    enroll(student, course)
    db.session.commit()
    result = runner.invoke(args=["roster", "CLI1", "CLI101"])
    assert result.exit_code == 0, result.output
    assert _assert_csv_safe(result.output, "cli roster") >= 2


# --------------------------------------------------------------------------------------------
# Content-Disposition filenames
# --------------------------------------------------------------------------------------------
def test_download_filenames_cannot_inject_headers(client, login, make_staff, make_student,
                                                  make_course, make_term, make_department):
    staff = make_staff()
    term = make_term(code='T"\r\nX-Evil: 1')
    dept = make_department(code='D";\nX: y')
    course = make_course(code='C"; filename="x.exe', term=term, department=dept)
    student = make_student(student_number='9"\r\nX-A: b')
    enroll(student, course, staff=True)
    db.session.commit()
    login(staff)
    urls = [f"/reports/courses/{course.id}/roster.csv",
            f"/reports/courses/{course.id}/roster.xlsx",
            f"/reports/enrollment.csv?term={quote(term.code)}&department={quote(dept.code)}"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        disposition = response.headers["Content-Disposition"]
        match = re.fullmatch(r'attachment; filename="([A-Za-z0-9._-]+)"', disposition)
        assert match, disposition
        assert "X-Evil" not in response.headers and "X" not in response.headers
    login(student.user)
    response = client.get("/me/schedule.ics")
    assert response.status_code == 200
    assert re.fullmatch(r'attachment; filename="[A-Za-z0-9._-]+"',
                        response.headers["Content-Disposition"])
    assert "X-A" not in response.headers


# --------------------------------------------------------------------------------------------
# NUL bytes and very long inputs: never a 500
# --------------------------------------------------------------------------------------------
NASTY = ["\x00", "a\x00b", "x" * 10_000, "%00", "9" * 40, "-1", "<xq>", "é\x00"]


@pytest.fixture
def fuzz_world(make_staff, make_student, make_course):
    staff = make_staff()
    student = make_student()
    course = make_course()
    enroll(student, course)
    db.session.commit()
    return {"staff": staff, "student": student, "course": course.id, "sid": student.id}


def _server_errors(client, login, user, templates) -> list:
    login(user)
    failures = []
    for template in templates:
        for value in NASTY:
            url = template.replace("{v}", quote(value, safe=""))
            status = client.get(url).status_code
            if status >= 500:
                failures.append((url[:100], status))
    return failures


@pytest.mark.config(PROPAGATE_EXCEPTIONS=False)
def test_site_and_report_query_parameters_never_500(client, login, fuzz_world):
    c, s = fuzz_world["course"], fuzz_world["sid"]
    student_urls = ["/courses?q={v}", "/courses?term={v}", "/courses?department={v}",
                    "/courses?page={v}", "/me/schedule?x={v}", "/me/schedule.ics?x={v}",
                    f"/courses/{c}?x={{v}}", "/auth/login?next={v}", "/auth/register?next={v}"]
    staff_urls = [
        "/reports/?term={v}", "/reports/?page={v}", "/reports/enrollment?term={v}",
        "/reports/enrollment?department={v}", "/reports/enrollment?page={v}",
        "/reports/enrollment.csv?term={v}&department={v}&bom={v}",
        f"/reports/courses/{c}/roster.csv?bom={{v}}", f"/reports/students/{s}?x={{v}}",
    ]
    failures = _server_errors(client, login, fuzz_world["student"].user, student_urls)
    failures += _server_errors(client, login, fuzz_world["staff"], staff_urls)
    assert failures == []


ADMIN_VIEWS = ("course", "student", "enrollment", "audit", "user", "term", "department")


@pytest.mark.config(PROPAGATE_EXCEPTIONS=False)
def test_admin_ajax_lookups_survive_nul_and_long_queries(client, login, fuzz_world):
    urls = []
    for view, name in (("course", "students"), ("course", "prerequisites"),
                       ("student", "courses"), ("enrollment", "courses")):
        urls += [f"/admin/{view}/ajax/lookup/?name={name}&query={{v}}",
                 f"/admin/{view}/ajax/lookup/?name={{v}}&query=a"]
    urls += [f"/admin/{view}/?sort={{v}}" for view in ADMIN_VIEWS]
    urls += [f"/admin/{view}/?page_size={{v}}" for view in ADMIN_VIEWS]
    assert _server_errors(client, login, fuzz_world["staff"], urls) == []


def _filter_urls(app) -> list[str]:
    """One URL per list filter of every admin view, whatever the filter-argument naming."""
    urls = []
    for view in app.extensions["admin"][0]._views:
        for index, flt in enumerate(getattr(view, "_filters", None) or []):
            urls.append(f"/admin/{view.endpoint}/?flt0_{view.get_filter_arg(index, flt)}={{v}}")
    assert len(urls) > 20
    return urls


ADMIN_FUZZ = {
    "search": [f"/admin/{view}/?search={{v}}" for view in ADMIN_VIEWS]
    + [f"/admin/{view}/export/csv/?search={{v}}" for view in ADMIN_VIEWS],
    "page": [f"/admin/{view}/?page={{v}}" for view in ADMIN_VIEWS],
    "id": [f"/admin/{view}/edit/?id={{v}}" for view in ADMIN_VIEWS],
    "ajax": [f"/admin/{view}/ajax/lookup/?name={name}&query=a&limit={{v}}&offset={{v}}"
             for view, name in (("course", "students"), ("student", "courses"))],
}


@pytest.mark.config(PROPAGATE_EXCEPTIONS=False)
def test_admin_filters_never_500(app, client, login, fuzz_world):
    assert _server_errors(client, login, fuzz_world["staff"], _filter_urls(app)) == []


@pytest.mark.config(PROPAGATE_EXCEPTIONS=False)
@pytest.mark.parametrize("param", sorted(ADMIN_FUZZ))
def test_admin_query_parameters_never_500(param, client, login, fuzz_world):
    assert _server_errors(client, login, fuzz_world["staff"], ADMIN_FUZZ[param]) == []


@pytest.mark.config(PROPAGATE_EXCEPTIONS=False)
def test_forms_with_nul_bytes_and_long_values_never_500(client, login, make_staff,
                                                        make_student, make_course):
    staff = make_staff()
    student = make_student()
    course = make_course()
    enroll(student, course)
    db.session.commit()
    from flask_admin.tools import iterencode

    rowid = iterencode([student.id, course.id])
    failures = []

    def check(url, data, **kwargs):
        response = client.post(url, data=data, **kwargs)
        if response.status_code >= 500:
            failures.append((url, sorted(data)[:3], response.status_code))
        db.session.rollback()

    for value in ("\x00", "ab\x00cd", "y" * 20_000, "é\x00" * 300):
        for url, fields in [
            ("/auth/register", ("name", "email", "password", "confirm")),
            ("/auth/login", ("email", "password", "remember")),
        ]:
            client.post("/auth/logout")
            check(url, dict.fromkeys(fields, value))
            check(url, {**dict.fromkeys(fields, "x"), **dict.fromkeys(fields[:1], value)})
        login(staff)
        admin_forms = {
            "/admin/course/new/": {"term": course.term_id, "department": course.department_id,
                                   "code": value, "title": value, "description": value,
                                   "credits": "3", "capacity": "10", "waitlist_capacity": "1",
                                   "instructor": value, "days": value, "location": value,
                                   "start_time": value, "end_time": value,
                                   "students": value, "prerequisites": value, "reason": value,
                                   "overrides": value},
            f"/admin/course/edit/?id={course.id}": {
                "term": value, "department": course.department_id, "code": "OK1",
                "title": value, "description": value, "credits": value, "capacity": "30",
                "waitlist_capacity": "1", "reason": value},
            "/admin/student/new/": {"student_number": value, "name": value, "email": value,
                                    "program": value, "max_credits": "18", "courses": value},
            f"/admin/student/edit/?id={student.id}": {
                "student_number": "S1", "name": value, "email": "ok@example.edu",
                "program": value, "max_credits": value, "courses": str(course.id),
                "reason": value},
            "/admin/user/new/": {"email": value, "name": value, "role": value,
                                 "new_password": value},
            f"/admin/user/edit/?id={staff.id}": {"email": "s@example.edu", "name": value,
                                                 "role": "staff", "active": "y",
                                                 "new_password": value},
            "/admin/term/new/": {"code": value, "name": value, "enrollment_opens": value,
                                 "enrollment_closes": value, "drop_deadline": value,
                                 "classes_start": value, "classes_end": value},
            "/admin/department/new/": {"code": value, "name": value},
            "/admin/enrollment/bulk/drop/": {"rowid": rowid, "reason": value,
                                             "overrides": value},
            "/admin/enrollment/bulk/move/": {"rowid": rowid, "course": value, "reason": value},
            "/admin/enrollment/bulk/complete/": {"rowid": rowid, "grade": value,
                                                 "reason": value},
            "/admin/student/bulk/enroll/": {"rowid": value, "course": value, "reason": value},
            "/admin/enrollment/action/": {"action": value, "rowid": value},
            "/admin/course/delete/": {"id": value},
            "/admin/enrollment/delete/": {"id": value},
            "/admin/import/apply": {"payload": value},
        }
        for url, data in admin_forms.items():
            check(url, data)
        for kind in ("terms", "courses", "students", "enrollments", value):
            check("/admin/import/preview",
                  {"kind": kind, "reason": value, "overrides": value,
                   "file": (io.BytesIO(value.encode("utf-8", "surrogatepass")), value[:200])},
                  content_type="multipart/form-data")
        login(student.user)
        check(f"/courses/{course.id}/enroll", {"x": value})
    assert failures == []
    db.session.commit()
    assert not [u for u in db.session.scalars(select(User)) if "\x00" in u.name + u.email]


def test_admin_guard_says_why(client, login, make_staff):
    login(make_staff())
    db.session.commit()
    response = client.get("/admin/course/?page=99999999999999999999")
    assert response.status_code == 400
    assert "too large" in response.get_data(as_text=True)
    response = client.get("/admin/course/?search=a%00b")
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)
    assert client.get("/admin/course/?page=2&search=20000001").status_code == 200


def test_a_new_password_ends_the_other_sessions(client, login, make_student):
    student = make_student()
    db.session.commit()
    login(student.user)
    assert client.get("/me/schedule").status_code == 200
    student.user.set_password("another-secret-42")
    db.session.commit()
    assert client.get("/me/schedule").status_code == 302  # back to the login page
