"""Security headers on every response: every route of the URL map, as an anonymous visitor, a
student and staff; no-store on personal pages; HTTPS (directly or through TRUSTED_PROXIES)
gives Secure cookies and HSTS, plain HTTP neither, and a client cannot claim HTTPS itself."""
from __future__ import annotations

import pytest
from flask import Flask, request, request_started
from sqlalchemy.exc import OperationalError
from werkzeug.middleware.proxy_fix import ProxyFix

from enrollment import create_app
from enrollment.config import ConfigError, load_config
from enrollment.extensions import db
from tests.factories import PASSWORD
from tests.web_helpers import enroll

ROLES = ("anonymous", "student", "staff")
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# All a cache may keep: the assets (the site's icon among them), and the catalog as an
# anonymous visitor sees it.
CACHEABLE = ({(asset, role) for asset in ("static", "admin.static", "favicon", "api_docs.asset")
              for role in ROLES}
             | {("catalog.index", "anonymous"), ("catalog.course", "anonymous")})


@pytest.fixture
def school(make_course, make_student, make_staff):
    course = make_course(code="CS101", title="Programming I")
    student = make_student(email="ada@example.edu")
    enroll(student, course)
    staff = make_staff(email="registrar@example.edu")
    db.session.commit()
    return {"course": course, "student": student, "staff": staff}


def _client_as(app, login, role, school):
    client = app.test_client()
    if role == "student":
        login(school["student"].user, client)
    elif role == "staff":
        login(school["staff"], client)
    return client


def _url(app, rule, school) -> str:
    """A URL for `rule` with real ids; a new kind of argument fails here until it is added."""
    values = {"course_id": school["course"].id, "student_id": school["student"].id,
              "export_type": "csv", "permission_id": 1, "token": "A" * 43,
              "op": {"student.bulk_view": "enroll", "enrollment.bulk_view": "drop",
                     "hold.bulk_view": "clear", "course.roster_action_view": "drop"}.get(
                  rule.endpoint),
              "filename": {"static": "site.css", "admin.static": "admin/js/helpers.js",
                           "api_docs.asset": "swagger-ui.css"}.get(rule.endpoint),
              "student_number": "me",
              # OneRoster: any sourcedId (unknown here: a 401 without a token anyway)
              "sourced_id": "x", "class_id": "x", "path": "classes"}
    missing = [a for a in rule.arguments if values.get(a) is None]
    assert not missing, f"{rule.rule}: no test value for {missing}"
    return app.url_map.bind("localhost").build(rule.endpoint,
                                               {a: values[a] for a in rule.arguments})


def _check(response, what, *, cacheable):
    """The headers; no-store unless `cacheable`, and always when the response sets a cookie
    (a cached copy would hand it to the next visitor)."""
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (what, name, response.headers.get(name))
    assert "Strict-Transport-Security" not in response.headers, what  # plain HTTP
    cache_control = response.headers.get("Cache-Control", "")
    if cacheable and "Set-Cookie" not in response.headers:
        assert "no-store" not in cache_control, what
    else:
        assert cache_control == "no-store", (what, cache_control)


@pytest.mark.parametrize("role", ROLES)
def test_every_route_sends_the_headers_and_no_store_unless_public(app, login, school, role):
    # Logging out last: the others still find the account logged in.
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint == "auth.logout", r.rule))
    checked = 0
    for rule in rules:
        url = _url(app, rule, school)
        for method in sorted({"GET", "POST"} & rule.methods):
            client = _client_as(app, login, role, school)
            response = client.open(url, method=method)
            what = f"{role} {method} {url} -> {response.status_code}"
            assert response.status_code < 500, what
            public = (rule.endpoint, role) in CACHEABLE and method == "GET"
            _check(response, what, cacheable=public and response.status_code == 200)
            response.close()  # a file is sent from an open file
            checked += 1
    assert checked > 80


@pytest.mark.parametrize("role", ROLES)
def test_error_responses_send_the_headers(app, login, school, role):
    client = _client_as(app, login, role, school)
    for method, url in (("GET", "/no/such/page"), ("GET", "/auth/logout"),
                        ("GET", "/static/no-such-file.css"), ("GET", "/courses/99999")):
        response = client.open(url, method=method)
        assert response.status_code in (404, 405), url
        _check(response, f"{role} {method} {url}", cacheable=url.startswith("/static/"))
        response.close()


@pytest.mark.parametrize("role, path", [
    ("student", "/me/schedule"), ("student", "/me/schedule.ics"),
    ("student", "/courses"), ("student", "/courses/{course}"), ("student", "/static/site.css"),
    ("staff", "/admin/"), ("staff", "/admin/course/"), ("staff", "/admin/course/edit/?id={course}"),
    ("staff", "/admin/student/edit/?id={student}"), ("staff", "/admin/course/export/csv/"),
    ("staff", "/reports/"), ("staff", "/reports/enrollment"), ("staff", "/reports/enrollment.csv"),
    ("staff", "/reports/courses/{course}/roster"), ("staff", "/reports/courses/{course}/roster.csv"),
    ("staff", "/reports/courses/{course}/roster.xlsx"), ("staff", "/reports/students/{student}"),
    ("staff", "/courses"), ("anonymous", "/auth/login"), ("anonymous", "/auth/register"),
    ("anonymous", "/courses"), ("anonymous", "/courses/{course}"),
    ("anonymous", "/static/site.css"), ("anonymous", "/admin/static/admin/js/helpers.js"),
])
def test_personal_pages_are_no_store_and_public_ones_may_be_cached(app, login, school, role,
                                                                   path):
    """The real pages (200, not a redirect to the login): personal unless the anonymous
    catalog or an asset."""
    url = path.format(course=school["course"].id, student=school["student"].id)
    response = _settled_get(_client_as(app, login, role, school), url)
    assert response.status_code == 200, url
    public = url.startswith(("/static/", "/admin/static/")) or (
        role == "anonymous" and url.startswith("/courses"))
    _check(response, f"{role} {url}", cacheable=public)
    response.close()


def _settled_get(client, url):
    """GET `url` until the session is settled: the response that sets no cookie (each one that
    does must be no-store)."""
    for _ in range(3):
        response = client.get(url)
        if "Set-Cookie" not in response.headers:
            return response
        assert response.headers["Cache-Control"] == "no-store", url
        response.close()
    raise AssertionError(f"{url} sets a cookie at every visit")


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_a_public_page_that_starts_the_session_is_not_cached(client, school):
    # The course page's form puts a CSRF token in a new visitor's session, and the next visit
    # Flask-Login marks that session not fresh: both responses set the cookie.
    url = f"/courses/{school['course'].id}"
    first = client.get(url)
    assert "Set-Cookie" in first.headers
    assert first.headers["Cache-Control"] == "no-store"
    settled = _settled_get(client, url)
    assert "no-store" not in settled.headers.get("Cache-Control", "")


def test_a_503_is_no_store_and_asks_the_database_nothing(app, client, login, school,
                                                        monkeypatch, count_queries):
    def gone(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr("enrollment.catalog.queries.filter_choices", gone)
    for who in (None, school["student"].user):
        client = app.test_client()
        if who is not None:
            login(who, client)
        with count_queries() as queries:
            response = client.get("/courses")
        assert response.status_code == 503
        _check(response, "503", cacheable=False)
        # The headers did not load the (logged-in) user from the missing database.
        assert queries.count == 0


# --------------------------------------------------------------------------------------------
# HTTPS: Secure cookies and HSTS; TRUSTED_PROXIES
# --------------------------------------------------------------------------------------------
def _log_in(client, **kwargs):
    response = client.post("/auth/login", data={"email": "ada@example.edu", "password": PASSWORD,
                                                "remember": "y"}, **kwargs)
    assert response.status_code == 303
    cookies = {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}
    assert {"session", "remember_token"} <= cookies.keys()
    return response, cookies


def _secure(set_cookie: str) -> bool:
    return any(a.strip().lower() == "secure" for a in set_cookie.split(";")[1:])


def test_over_https_cookies_are_secure_and_hsts_is_sent(client, school):
    response, cookies = _log_in(client, base_url="https://localhost")
    assert all(_secure(c) for c in cookies.values()), cookies
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert client.get("/courses", base_url="https://localhost").headers[
        "Strict-Transport-Security"] == "max-age=31536000"


def test_over_plain_http_neither(client, school):
    response, cookies = _log_in(client)
    assert not any(_secure(c) for c in cookies.values()), cookies
    assert "Strict-Transport-Security" not in response.headers


def test_without_trusted_proxies_a_client_cannot_claim_https(app, client, school):
    assert not isinstance(app.wsgi_app, ProxyFix)
    response, cookies = _log_in(client, headers={"X-Forwarded-Proto": "https",
                                                 "X-Forwarded-For": "203.0.113.9"})
    assert not any(_secure(c) for c in cookies.values()), cookies
    assert "Strict-Transport-Security" not in response.headers


@pytest.fixture
def remote_addrs(app):
    """The client address each request saw (after ProxyFix)."""
    seen = []

    def record(sender, **extra):
        seen.append(request.remote_addr)

    request_started.connect(record, app)
    yield seen
    request_started.disconnect(record, app)


@pytest.mark.config(TRUSTED_PROXIES=1)
def test_behind_one_trusted_proxy_its_https_counts(client, school, remote_addrs):
    # The proxy appends the address it saw; anything before it came from the client.
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7, 203.0.113.9"}
    response, cookies = _log_in(client, headers=forwarded)
    assert all(_secure(c) for c in cookies.values()), cookies
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert remote_addrs == ["203.0.113.9"]

    response, cookies = _log_in(client.application.test_client(),
                                headers={"X-Forwarded-Proto": "http"})
    assert not any(_secure(c) for c in cookies.values()), cookies
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.config(TRUSTED_PROXIES=2)
def test_two_proxies_means_the_second_to_last_hop(client, school, remote_addrs):
    # One value where two proxies would have written two: the header is not trusted.
    response, cookies = _log_in(client, headers={"X-Forwarded-Proto": "https",
                                                 "X-Forwarded-For": "203.0.113.9"})
    assert "Strict-Transport-Security" not in response.headers
    assert remote_addrs == ["127.0.0.1"]
    response, cookies = _log_in(client.application.test_client(), headers={"X-Forwarded-Proto": "https, http",
                                                 "X-Forwarded-For": "203.0.113.9, 10.0.0.2"})
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert all(_secure(c) for c in cookies.values()), cookies
    assert remote_addrs[-1] == "203.0.113.9"


def _app_from_env(monkeypatch, **env):
    for name in ("TRUSTED_PROXIES", "FLASK_TRUSTED_PROXIES"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                       "CHECK_DATABASE": False})


def test_trusted_proxies_from_the_environment(monkeypatch):
    app = _app_from_env(monkeypatch)
    assert app.config["TRUSTED_PROXIES"] == 0
    assert not isinstance(app.wsgi_app, ProxyFix)
    app = _app_from_env(monkeypatch, TRUSTED_PROXIES="2")
    assert app.config["TRUSTED_PROXIES"] == 2
    assert isinstance(app.wsgi_app, ProxyFix)
    assert (app.wsgi_app.x_for, app.wsgi_app.x_proto, app.wsgi_app.x_host, app.wsgi_app.x_port,
            app.wsgi_app.x_prefix) == (2, 2, 2, 2, 2)
    app = _app_from_env(monkeypatch, TRUSTED_PROXIES="2", FLASK_TRUSTED_PROXIES="1")
    assert app.config["TRUSTED_PROXIES"] == 1


@pytest.mark.parametrize("value", ["two", "-1", "1.5", "", "²", -1, 1.5, True, None])
def test_a_bad_trusted_proxies_says_what_to_use(tmp_path, value):
    app = Flask("x", instance_path=str(tmp_path))
    with pytest.raises(ConfigError) as info:
        load_config(app, {"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x",
                          "TRUSTED_PROXIES": value})
    assert "TRUSTED_PROXIES" in info.value.message and "e.g. 1" in info.value.message
