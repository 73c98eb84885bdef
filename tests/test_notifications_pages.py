"""/me/notifications (the student's messages and choices), the admin's mail outbox, the
commands (`flask notifications deliver`, `flask tick`, `flask worker --help`) and the mail
settings."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from enrollment import create_app, services
from enrollment.cli.notifications import deliver, worker
from enrollment.cli.tick import tick
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import Notification, Student
from enrollment.services import outbox
from tests.admin_support import staff_client_fixture, staff_fixture  # noqa: F401
from tests.factories import NOW
from tests.web_helpers import flashes, text


def own_enroll(student, course):
    with write_transaction(db.session):
        services.enroll(student, course, actor=student.user, now=NOW)


@pytest.fixture
def mailed(make_course, make_student):
    """A student with one message (their enroll) and another student with one."""
    course = make_course(code="CS101", title="Programming I")
    student = make_student(name="Zoë Ångström")
    other = make_student(name="Other Person")
    db.session.commit()
    own_enroll(student, course)
    own_enroll(other, course)
    outbox.fan_out(NOW)
    return student, other, course


def test_the_page_lists_the_students_own_messages_with_their_state(client, login, mailed):
    student, other, course = mailed
    login(student.user)
    page = client.get("/me/notifications")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    body = text(page.text)
    assert "CS101 Programming I: you are enrolled (Zoë Ångström)" in body
    assert "pending" in body and "Other Person" not in body
    assert "cannot be turned off" in body


def test_newest_first_and_paginated(client, login, make_course, make_student):
    student = make_student()
    courses = [make_course(code=f"P{n:02d}", title=f"Course {n}") for n in range(23)]
    db.session.commit()
    for course in courses:
        own_enroll(student, course)
    outbox.fan_out(NOW)
    login(student.user)
    first = client.get("/me/notifications").text
    codes = re.findall(r"(P\d\d) Course \d+: you are enrolled", first)
    assert len(codes) == 20 and codes[0] == "P22" and codes[-1] == "P03"
    assert "page 1 of 2" in first
    second = client.get("/me/notifications?page=2").text
    assert re.findall(r"(P\d\d) Course \d+: you are enrolled", second) == ["P02", "P01", "P00"]
    for bad in ("0", "-1", "x", "99999999999999999999"):
        assert client.get(f"/me/notifications?page={bad}").status_code == 200


def test_turning_confirmations_off_and_on(client, login, mailed):
    student = mailed[0]
    login(student.user)
    response = client.post("/me/notifications", data={})
    assert response.status_code == 303
    assert "are off" in flashes(client.get(response.headers["Location"]))[0]
    db.session.expire_all()
    assert db.session.get(Student, student.id).mail_confirmations is False
    page = client.get("/me/notifications").text
    assert 'name="mail_confirmations"' in page and "checked" not in page.split(
        'name="mail_confirmations"')[1].split(">")[0]
    client.post("/me/notifications", data={"mail_confirmations": "y"})
    db.session.expire_all()
    assert db.session.get(Student, student.id).mail_confirmations is True


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_the_choice_needs_the_csrf_token(client, login, mailed):
    student = mailed[0]
    login(student.user)
    assert client.post("/me/notifications", data={}).status_code == 400
    db.session.expire_all()
    assert db.session.get(Student, student.id).mail_confirmations is True
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                      r'name="csrf_token"[^>]*value="([^"]+)"',
                      client.get("/me/notifications").text)
    value = token.group(1) or token.group(2)
    assert client.post("/me/notifications", data={"csrf_token": value}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Student, student.id).mail_confirmations is False


def test_the_admin_outbox_lists_filters_and_shows_the_words(staff_client, mailed):
    student, other, course = mailed
    listing = staff_client.get("/admin/outbox/")
    assert listing.status_code == 200
    assert "Zoë Ångström" in listing.text and "Other Person" in listing.text
    assert "pending" in listing.text
    one = db.session.scalar(select(Notification).where(Notification.student_id == student.id))
    details = staff_client.get(f"/admin/outbox/details/?id={one.id}")
    assert details.status_code == 200
    assert "Dear Zoë Ångström," in details.text and f"&lt;{one.key}@enrollment&gt;" in \
        details.text
    for query in ("flt0_state_is=sent", "flt0_state_is=failed", "flt0_kind_is=offered"):
        page = staff_client.get(f"/admin/outbox/?{query}")
        assert page.status_code == 200 and "Zoë Ångström" not in page.text, query
    assert "Zoë Ångström" in staff_client.get("/admin/outbox/?flt0_state_is=pending").text
    by_number = staff_client.get(
        f"/admin/outbox/?flt0_student_number_equals={student.student_number}").text
    assert "Zoë Ångström" in by_number and "Other Person" not in by_number
    by_code = staff_client.get("/admin/outbox/?flt0_course_code_equals=NOPE").text
    assert "Zoë Ångström" not in by_code
    assert staff_client.get("/admin/outbox/?flt0_state_is=bogus").status_code == 200
    assert staff_client.get("/admin/outbox/details/?id=abc").status_code in (302, 400)
    # Read-only: no create, edit or delete.
    assert staff_client.get("/admin/outbox/new/").status_code in (302, 403, 404)
    assert staff_client.post("/admin/outbox/delete/", data={"id": one.id}).status_code in (
        302, 403, 404, 405)
    assert db.session.get(Notification, one.id) is not None


def test_non_staff_cannot_read_the_outbox(client, login, mailed):
    student = mailed[0]
    one = db.session.scalar(select(Notification))
    assert client.get("/admin/outbox/").status_code == 302
    login(student.user)
    assert client.get("/admin/outbox/").status_code == 403
    assert client.get(f"/admin/outbox/details/?id={one.id}").status_code == 403


def test_deliver_without_a_mail_server_keeps_the_mail(runner, mailed):
    result = runner.invoke(deliver)
    assert result.exit_code == 0, result.output
    assert "MAIL_SERVER is not set" in result.output
    db.session.expire_all()
    assert {n.state for n in db.session.scalars(select(Notification))} == {"pending"}
    assert all(n.attempts == 0 for n in db.session.scalars(select(Notification)))


def test_tick_fans_out_and_says_so(runner, make_course, make_student):
    student = make_student()
    course = make_course()
    db.session.commit()
    own_enroll(student, course)
    result = runner.invoke(tick)
    assert result.exit_code == 0, result.output
    assert "deliver notifications and webhooks: nothing due" in result.output
    assert db.session.scalar(select(Notification.kind)) == "enrolled"


def test_worker_help_names_the_options(runner):
    result = runner.invoke(worker, ["--help"])
    assert result.exit_code == 0 and "--workers" in result.output
    assert runner.invoke(worker, ["--workers", "0"]).exit_code == 2


@pytest.mark.parametrize("prefix", ["", "FLASK_"])
def test_mail_settings_read_plain_and_prefixed(monkeypatch, prefix):
    for name, value in {"DATABASE_URL": "sqlite://", "SECRET_KEY": "k",
                        "MAIL_SERVER": "smtp.example.edu", "MAIL_PORT": "587",
                        "MAIL_USE_TLS": "yes", "MAIL_USERNAME": "registrar",
                        "MAIL_PASSWORD": "12345",
                        "MAIL_DEFAULT_SENDER": "Registrar <registrar@example.edu>",
                        "SITE_URL": "https://enroll.example.edu/"}.items():
        monkeypatch.setenv(prefix + name, value)
    config = create_app().config
    assert (config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_USE_TLS"],
            config["MAIL_USE_SSL"]) == ("smtp.example.edu", 587, True, False)
    assert (config["MAIL_USERNAME"], config["MAIL_PASSWORD"]) == ("registrar", "12345")
    assert config["MAIL_DEFAULT_SENDER"] == "Registrar <registrar@example.edu>"
    assert config["SITE_URL"] == "https://enroll.example.edu"


def test_mail_defaults(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    config = create_app({"SECRET_KEY": "k"}).config
    assert config["MAIL_SERVER"] is None and config["MAIL_PORT"] == 25
    assert config["MAIL_USE_TLS"] is False and config["MAIL_USE_SSL"] is False
    assert config["SITE_URL"] == "http://127.0.0.1:5000"


@pytest.mark.parametrize("name, value, message", [
    ("MAIL_PORT", "smtp", "MAIL_PORT 'smtp' is not a whole number from 1 to 65535"),
    ("MAIL_PORT", "70000", "MAIL_PORT 70000 is not a whole number"),
    ("MAIL_DEFAULT_SENDER", "nobody", "MAIL_DEFAULT_SENDER 'nobody' is not a mail address"),
    ("SITE_URL", "enroll.example.edu", "SITE_URL 'enroll.example.edu' is not the site's"),
    ("SITE_URL", "ftp://x", "SITE_URL 'ftp://x' is not the site's address"),
])
def test_bad_mail_settings_name_themselves(monkeypatch, name, value, message):
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as info:
        create_app({"CHECK_DATABASE": False, "SECRET_KEY": "k"})
    assert message in str(info.value.code)


def test_tls_and_ssl_together_are_refused(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.setenv("MAIL_USE_TLS", "true")
    monkeypatch.setenv("FLASK_MAIL_USE_SSL", "1")
    with pytest.raises(SystemExit) as info:
        create_app({"CHECK_DATABASE": False, "SECRET_KEY": "k"})
    assert "MAIL_USE_TLS and MAIL_USE_SSL are both on" in str(info.value.code)
