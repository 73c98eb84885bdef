"""Failed logins and registrations are refused with 429 past a limit, per account and address."""
from __future__ import annotations

import os
import re
import uuid

import pytest
import redis

from enrollment import create_app
from enrollment.auth.throttle import limiter
from enrollment.extensions import db
from tests.factories import NOW, PASSWORD

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
LIMITS = {"RATELIMIT_ENABLED": True, "LOGIN_LIMIT_PER_ACCOUNT": "3 per minute",
          "LOGIN_LIMIT_PER_ADDRESS": "6 per minute", "REGISTER_LIMIT_PER_ADDRESS": "2 per minute",
          "PASSWORD_HASH_LIMIT": "1000 per second"}  # the storm budget: tests/test_login_storm.py
pytestmark = pytest.mark.config(**LIMITS)


@pytest.fixture(autouse=True)
def _fresh_counters(app):
    limiter.reset()


def login(client, email, password, address="10.0.0.1"):
    return client.post("/auth/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_wrong_passwords_for_one_account_are_refused_then_even_the_right_one(client, make_student):
    student = make_student(email="ada@example.edu")
    db.session.commit()
    statuses = [login(client, "ada@example.edu", "wrong-password-1").status_code
                for _ in range(3)]
    assert statuses == [400, 400, 400]
    refused = login(client, "ADA@example.edu ", "wrong-password-1")  # the same account
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    text = refused.get_data(as_text=True)
    assert re.search(r"Try again in \d+ seconds?\.", text)
    # Straight after, the right password is refused too: the account waits out its window.
    assert login(client, "ada@example.edu", PASSWORD).status_code == 429
    assert student.user.get_id() not in str(client.get_cookie("session"))
    # Another account from another address is not affected.
    other = make_student(email="grace@example.edu")
    db.session.commit()
    assert login(client, "grace@example.edu", PASSWORD, "10.0.0.2").status_code == 303
    assert other.user.name


def test_successful_logins_do_not_count(client, make_student):
    make_student(email="ada@example.edu")
    db.session.commit()
    for _ in range(8):
        assert login(client, "ada@example.edu", PASSWORD).status_code == 303
        client.post("/auth/logout")


def test_many_accounts_from_one_address_are_refused(client):
    statuses = [login(client, f"nobody{n}@example.edu", "wrong-password-1").status_code
                for n in range(7)]
    assert statuses == [400] * 6 + [429]
    # Another address still gets through.
    assert login(client, "nobody@example.edu", "wrong-password-1", "10.0.0.9").status_code == 400


def test_answers_do_not_tell_which_emails_exist(client, make_student):
    make_student(email="ada@example.edu")
    db.session.commit()
    pages = {}
    for email in ("ada@example.edu", "nobody@example.edu"):
        answers = [login(client, email, "wrong-password-1", f"10.1.{len(pages)}.1")
                   for _ in range(4)]
        # The form echoes the email typed; everything else must be the same.
        pages[email] = [(a.status_code, re.sub(r"\d+ seconds?", "N", a.get_data(as_text=True))
                         .replace(email, "EMAIL")) for a in answers]
    assert pages["ada@example.edu"] == pages["nobody@example.edu"]


def test_failed_registrations_are_throttled(client, make_student):
    make_student(email="taken@example.edu")
    db.session.commit()
    form = {"name": "X", "email": "taken@example.edu", "password": "long-enough-42",
            "confirm": "long-enough-42"}
    statuses = [client.post("/auth/register", data=form).status_code for _ in range(3)]
    assert statuses == [400, 400, 429]


@pytest.mark.config(**LIMITS, WTF_CSRF_ENABLED=True)
def test_the_csrf_token_is_renewed_at_login(client, make_student):
    make_student(email="ada@example.edu")
    db.session.commit()
    page = client.get("/auth/login").get_data(as_text=True)
    before = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"',
                       page)[1]
    done = client.post("/auth/login", data={"email": "ada@example.edu", "password": PASSWORD,
                                            "csrf_token": before})
    assert done.status_code == 303
    # The token from before the login no longer works for a logged-in POST.
    assert client.post("/auth/logout", data={"csrf_token": before}).status_code == 400
    page = client.get("/courses").get_data(as_text=True)
    after = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    assert after != before
    assert client.post("/auth/logout", data={"csrf_token": after}).status_code == 303


def _redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError as exc:
        message = f"Redis is not reachable at {url}: {exc}"
        if IN_CI:
            pytest.fail(message + " (required under CI=true)", pytrace=False)
        pytest.skip(message)
    return url


def test_limits_hold_across_app_instances_sharing_redis(database_url):
    """Two app processes (here two app objects) alternate requests; the count is shared."""
    url = _redis_url()
    config = {"TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": database_url,
              "WTF_CSRF_ENABLED": False, "FIXED_NOW": NOW, **LIMITS, "REDIS_URL": url}
    apps = [create_app(config), create_app(config)]
    for app in apps:
        with app.app_context():
            db.create_all()
    clients = [app.test_client() for app in apps]
    # The Redis database outlives the test: an account and address of this run only.
    run = uuid.uuid4()
    email, address = f"ada-{run.hex}@example.edu", f"10.{run.int % 250}.{run.int % 249}.7"
    statuses = [login(clients[n % 2], email, "wrong-password-1", address).status_code
                for n in range(4)]
    assert statuses == [400, 400, 400, 429]
    for app in apps:
        with app.app_context():
            db.engine.dispose()
