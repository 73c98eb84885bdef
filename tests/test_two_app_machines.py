"""Several app machines: two gunicorn instances on different ports, one database (and one
Redis for the rate limits), requests alternated between them. A session begun on one is
valid on the other, a CSRF token from one page is accepted by the other server, the login
limit counts across both, and a burst through both never oversells a seat."""
from __future__ import annotations

import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, Request, build_opener

import pytest
from sqlalchemy import func, select

from enrollment.extensions import db
from enrollment.models import Enrollment, Status, User
from tests.factories import NOW, PASSWORD, make_course, make_student
from tests.test_load_gunicorn import CAPACITY, STUDENTS, Gunicorn, NoRedirect, seed_students
from tests.test_throttling import _redis_url

pytestmark = [pytest.mark.slow, pytest.mark.sqlite_file]


class Browser:
    """One person: a cookie jar shared by requests to either server."""

    def __init__(self):
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()), NoRedirect)

    def open(self, url, data: dict | None = None):
        body = urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(Request(url, data=body), timeout=30) as response:
                return response.status, response.read().decode()
        except HTTPError as exc:  # 3xx without a redirect handler, 4xx, 5xx
            return exc.code, exc.read().decode()


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)[1]


@pytest.fixture
def servers(app, database_url, tmp_path):
    env = _environment(app, database_url)
    db.session.commit()
    started = [Gunicorn(1, env, tmp_path / f"gunicorn-{n}.log") for n in range(2)]
    try:
        yield [s.url for s in started]
    finally:
        for server in started:
            server.stop()


def _environment(app, database_url) -> dict[str, str]:
    import os

    from enrollment.config import PLAIN_ENV

    env = {k: v for k, v in os.environ.items()
           if not k.startswith("FLASK_") and k not in PLAIN_ENV}
    env.update({"DATABASE_URL": database_url, "FLASK_SQLALCHEMY_DATABASE_URI": database_url,
                "SECRET_KEY": app.config["SECRET_KEY"], "FLASK_FIXED_NOW": NOW.isoformat(),
                "REDIS_URL": _redis_url(),
                "FLASK_LOGIN_LIMIT_PER_ACCOUNT": "3 per minute",
                # This run's keys only: the Redis database outlives the test.
                "FLASK_RATELIMIT_KEY_PREFIX": f"two-machines-{uuid.uuid4().hex}"})
    return env


def test_sessions_csrf_and_login_limits_hold_across_two_machines(app, servers):
    first, second = servers
    course = make_course(capacity=1, waitlist_capacity=0)
    student = make_student()
    db.session.commit()
    ada = Browser()
    status, page = ada.open(f"{first}/auth/login")
    assert status == 200
    status, _ = ada.open(f"{second}/auth/login", {  # the form of one, posted to the other
        "email": student.user.email, "password": PASSWORD, "csrf_token": csrf(page)})
    assert status in (302, 303)
    status, page = ada.open(f"{first}/courses/{course.id}")  # logged in on the first too
    assert status == 200 and "Enroll" in page
    status, _ = ada.open(f"{second}/courses/{course.id}/enroll", {"csrf_token": csrf(page)})
    assert status == 303
    db.session.rollback()
    assert db.session.scalar(select(Enrollment.status)) == Status.ENROLLED
    status, _ = ada.open(f"{first}/courses/{course.id}/drop", {"csrf_token": "forged"})
    assert status == 400  # CSRF is checked on every machine

    # The login limit (3 per minute here) counts failures on both machines together.
    mallory = Browser()
    statuses = []
    for n in range(4):
        server = servers[n % 2]
        _, page = mallory.open(f"{server}/auth/login")
        status, _ = mallory.open(f"{server}/auth/login", {
            "email": student.user.email, "password": "wrong-password-1",
            "csrf_token": csrf(page)})
        statuses.append(status)
    assert statuses == [400, 400, 400, 429]


def signed_in(app, login_id: str) -> tuple[str, str]:
    """A session cookie logging in `login_id` with a CSRF token in it, and that token."""
    from flask import g, session
    from flask_wtf.csrf import generate_csrf

    serializer = app.session_interface.get_signing_serializer(app)
    with app.test_request_context():
        session["_user_id"], session["_fresh"] = login_id, True
        token = generate_csrf()
        g.pop("csrf_token", None)  # kept per app context, which outlives this request
        return f"{app.config['SESSION_COOKIE_NAME']}={serializer.dumps(dict(session))}", token


def test_a_burst_through_both_machines_never_oversells(app, servers):
    course = make_course(capacity=CAPACITY, waitlist_capacity=STUDENTS)
    db.session.commit()
    course_id = course.id
    seed_students(app, STUDENTS)
    logins = [user.get_id() for user in db.session.scalars(
        select(User).where(User.email.like("load%")).order_by(User.id))]
    credentials = [signed_in(app, login_id) for login_id in logins]

    def post(n: int):
        cookie, token = credentials[n]
        request = Request(f"{servers[n % 2]}/courses/{course_id}/enroll",  # alternated
                          data=urlencode({"csrf_token": token}).encode(),
                          headers={"Cookie": cookie})
        try:
            with build_opener(NoRedirect).open(request, timeout=60) as response:
                return response.status
        except HTTPError as exc:
            return exc.code

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(post, range(len(credentials))))
    assert statuses == [303] * STUDENTS
    db.session.rollback()
    counts = dict(db.session.execute(
        select(Enrollment.status, func.count()).where(Enrollment.course_id == course_id)
        .group_by(Enrollment.status)).all())
    assert counts == {Status.ENROLLED: CAPACITY, Status.WAITLISTED: STUDENTS - CAPACITY}
