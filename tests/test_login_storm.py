"""A login storm on a real gunicorn: every request gets an answer in time, none a 5xx.

Each login costs a password hash (scrypt, ~100 ms of a core). Past the shared hashing budget
(`PASSWORD_HASH_LIMIT`) a login is answered at once with 429, `Retry-After` and a page that
says when to come back, before any hashing, so the queue drains instead of growing.
"""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor, wait
from http.client import HTTPException
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import Request

import pytest

from enrollment.auth.throttle import BUSY_SIGNING_IN, limiter
from enrollment.extensions import db
from tests.factories import PASSWORD
from tests.test_load_gunicorn import OPENER, REQUEST_TIMEOUT, Gunicorn
from tests.test_load_gunicorn import server_env as server_env  # the fixture

LOGINS = 160
THREADS = 32
STORM_TIMEOUT = 90


def post_login(url: str, email: str):
    """(status, Retry-After, body) of one login POST, or the connection error's name."""
    data = urlencode({"email": email, "password": PASSWORD}).encode()
    req = Request(f"{url}/auth/login", data=data, method="POST",
                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with OPENER.open(req, timeout=REQUEST_TIMEOUT) as response:
            return response.status, response.headers.get("Retry-After"), ""
    except HTTPError as exc:
        return exc.code, exc.headers.get("Retry-After"), exc.read().decode(errors="replace")
    except (URLError, HTTPException, ConnectionError, TimeoutError, OSError) as exc:
        return type(getattr(exc, "reason", exc)).__name__, None, ""


@pytest.mark.slow
@pytest.mark.sqlite_file
def test_a_login_storm_is_shed_with_429_not_queued(app, make_student, server_env, tmp_path):
    emails = [make_student(email=f"storm{n:03d}@example.edu").user.email for n in range(40)]
    db.session.commit()
    env = {**server_env, "FLASK_PASSWORD_HASH_LIMIT": "4 per second",
           "FLASK_RATELIMIT_ENABLED": "true"}
    server = Gunicorn(2, env, tmp_path / "gunicorn.log")
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            futures = [pool.submit(post_login, server.url, emails[n % len(emails)])
                       for n in range(LOGINS)]
            _, pending = wait(futures, timeout=STORM_TIMEOUT)
            assert not pending, f"{len(pending)} logins unanswered after {STORM_TIMEOUT} s"
        answers = [f.result() for f in futures]
    finally:
        server.stop()
    statuses = [status for status, _, _ in answers]
    assert set(statuses) <= {303, 429}, sorted(set(map(str, statuses)))
    assert statuses.count(303) >= 1 and statuses.count(429) >= LOGINS // 4, statuses
    for status, retry_after, body in answers:
        if status == 429:
            assert retry_after and int(retry_after) >= 1
            assert BUSY_SIGNING_IN in body.replace("&#39;", "'")
            assert re.search(r"Try again in \d+ seconds?\.", body)


@pytest.mark.config(RATELIMIT_ENABLED=True, PASSWORD_HASH_LIMIT="2 per minute",
                    LOGIN_LIMIT_PER_ACCOUNT="100 per minute",
                    LOGIN_LIMIT_PER_ADDRESS="100 per minute",
                    REGISTER_LIMIT_PER_ADDRESS="100 per minute")
def test_past_the_hashing_budget_no_password_is_checked(client, make_student, monkeypatch):
    limiter.reset()
    student = make_student(email="ada@example.edu")
    db.session.commit()
    checked = []
    real = type(student.user).check_password
    monkeypatch.setattr(type(student.user), "check_password",
                        lambda user, password: checked.append(1) or real(user, password))

    def login(address):
        return client.post("/auth/login", data={"email": "ada@example.edu",
                                                "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": address})

    assert login("10.0.0.1").status_code == 303
    client.post("/auth/logout")
    # A registration takes from the same budget (it hashes the new password).
    client.post("/auth/register", data={"name": "Alan Turing", "email": "alan@example.edu",
                                        "password": "a-long-password-1",
                                        "confirm": "a-long-password-1"},
                environ_base={"REMOTE_ADDR": "10.0.0.2"})
    client.post("/auth/logout")
    refused = login("10.0.0.3")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert BUSY_SIGNING_IN in refused.get_data(as_text=True).replace("&#39;", "'")
    assert checked == [1]  # only the first login's password was checked
