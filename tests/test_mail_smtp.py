"""Mail through a real SMTP server on loopback (aiosmtpd): the headers and both parts, UTF-8
names, a stable Message-ID across retries, an outage (retried with backoff, then delivered
once), failure after 5 tries, a sender killed mid-delivery (`kill -9`), two senders racing,
the reminder of an offer already settled, and the student's choice honoured."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from enrollment import services
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import Action, Notification, Status
from enrollment.services import audit, mail, outbox
from tests.factories import NOW, make_course, make_enrollment, make_student
from tests.smtp_support import SmtpServer

ROOT = Path(__file__).resolve().parent.parent
SENDER = "Registrar <registrar@example.edu>"
SUBPROCESS_TIMEOUT = 60


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def mail_app(make_app, smtp):
    app = make_app(MAIL_DEFAULT_SENDER=SENDER, **smtp.config())
    with app.app_context():
        yield app
        db.session.rollback()


def enroll_one(name="Zoë Ångström", email="zoe@example.edu", **student):
    course = make_course(code="CS101", title="Programmation Ⅰ — café")
    person = make_student(name=name, email=email, **student)
    db.session.commit()
    with write_transaction(db.session):
        services.enroll(person, course, actor=person.user, now=NOW)
    return person, course


def notifications():
    db.session.commit()  # a new snapshot: other processes wrote meanwhile (SQLite WAL)
    return list(db.session.scalars(select(Notification).order_by(Notification.id)))


def test_a_mail_to_the_student_alone_with_both_parts(mail_app, smtp):
    person, course = enroll_one()
    report = outbox.deliver_due(NOW)
    assert report.counts["mail"] == {"sent": 1}
    [got] = smtp.recorder.received
    [notification] = notifications()
    assert got.rcpt_tos == ["zoe@example.edu"] and got.mail_from == "registrar@example.edu"
    message = got.message
    assert message["From"] == SENDER and message["To"] == "zoe@example.edu"
    assert message["Subject"] == "CS101 Programmation Ⅰ — café: you are enrolled (Zoë Ångström)"
    assert message["Message-ID"] == f"<{notification.key}@enrollment>"
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Dear Zoë Ångström," in plain and "Dear Zoë Ångström," in html
    assert f"/courses/{course.id}" in plain and "<a href=" in html
    assert notification.state == "sent" and notification.sent_at == NOW
    assert notification.attempts == 1
    assert outbox.deliver_due(NOW).summary() == "nothing due"  # sent once
    assert len(smtp.recorder.received) == 1


def test_an_outage_is_retried_with_backoff_then_delivered_once(mail_app, smtp):
    enroll_one()
    smtp.stop()
    report = outbox.deliver_due(NOW)
    assert report.counts["mail"] == {"retry": 1}
    [n] = notifications()
    assert n.attempts == 1 and n.due_at == NOW + timedelta(minutes=1)
    assert "ConnectionRefusedError" in n.last_error
    # Not due yet: nothing is tried.
    assert outbox.deliver_due(NOW + timedelta(seconds=30)).summary() == "nothing due"
    outbox.deliver_due(NOW + timedelta(minutes=1))
    [n] = notifications()
    assert n.attempts == 2 and n.due_at == NOW + timedelta(minutes=3)  # then 2 minutes
    smtp.start()  # the server is back
    later = NOW + timedelta(minutes=3)
    assert outbox.deliver_due(later).counts["mail"] == {"sent": 1}
    assert outbox.deliver_due(later + timedelta(hours=1)).summary() == "nothing due"
    [n] = notifications()
    assert n.state == "sent" and n.last_error == "" and n.attempts == 3
    assert smtp.recorder.message_ids() == [f"<{n.key}@enrollment>"]


def test_a_temporary_refusal_is_retried_and_five_failures_fail_it(mail_app, smtp):
    enroll_one()
    smtp.recorder.mode = "tempfail"
    moment, states = NOW, []
    for _ in range(5):
        report = outbox.deliver_due(moment)
        states += list(report.counts["mail"])
        [n] = notifications()
        moment = n.due_at
    assert states == ["retry"] * 4 + ["failed"]
    assert n.state == "failed" and n.attempts == 5 and "451" in n.last_error
    assert [n.due_at - NOW for n in notifications()][0] == timedelta(minutes=1 + 2 + 4 + 8)
    smtp.recorder.mode = "accept"
    assert outbox.deliver_due(moment + timedelta(days=1)).summary() == "nothing due"
    assert smtp.recorder.received == []


def test_the_server_login(make_app):
    server = SmtpServer(login=("registrar", "12345")).start()
    try:
        app = make_app(MAIL_USERNAME="registrar", MAIL_PASSWORD="12345", **server.config())
        with app.app_context():
            enroll_one()
            assert outbox.deliver_due(NOW).counts["mail"] == {"sent": 1}
            assert len(server.recorder.received) == 1
    finally:
        server.stop()


def test_confirmations_off_send_nothing_but_staff_changes_go(mail_app, smtp):
    person, course = enroll_one(mail_confirmations=False)
    other = make_course(code="CS102", title="Two")
    db.session.commit()
    with write_transaction(db.session):
        services.enroll(person, other, actor=None, now=NOW, source=services.Source.STAFF,
                        reason="Registrar")
    outbox.deliver_due(NOW)
    assert [r.message["Subject"].split(":")[0] for r in smtp.recorder.received] == ["CS102 Two"]


def test_a_rolled_back_change_mails_nothing(mail_app, smtp):
    course, person = make_course(), make_student()
    db.session.commit()
    with pytest.raises(RuntimeError):
        with write_transaction(db.session):
            services.enroll(person, course, actor=person.user, now=NOW)
            raise RuntimeError("fails after the enroll")
    assert outbox.deliver_due(NOW).summary() == "nothing due"
    assert smtp.recorder.received == []


def test_the_reminder_of_a_settled_offer_is_not_sent(mail_app, smtp):
    course = make_course(code="CS300", title="Offers")
    pending, settled = make_student(name="Still Pending"), make_student(name="Accepted Already")
    expires = NOW + timedelta(hours=24)
    links = {}
    for person in (pending, settled):
        links[person.id] = make_enrollment(student=person, course=course,
                                           status=Status.OFFERED, offer_expires_at=expires)
        audit.record(Action.OFFERED, person, course, actor=None, now=NOW,
                     before=Status.WAITLISTED, after=Status.OFFERED)
    db.session.commit()
    outbox.deliver_due(NOW)  # the two offers
    assert len(smtp.recorder.received) == 2
    link = links[settled.id]
    link.status, link.offer_expires_at = Status.ENROLLED, None
    db.session.commit()
    reminder_time = expires - mail.REMINDER_BEFORE
    assert outbox.deliver_due(reminder_time).counts["mail"] == {"sent": 2}
    assert [r.rcpt_tos for r in smtp.recorder.received[2:]] == [[pending.user.email]]
    assert "expires soon" in smtp.recorder.received[2].message["Subject"]
    states = {(n.student_id, n.kind): mail.delivery_state(n) for n in notifications()}
    assert states[(settled.id, "offer_expiring")] == "not needed"
    assert states[(pending.id, "offer_expiring")] == "sent"


# --- other processes: a sender killed mid-delivery, senders racing -------------------------
def _env(app, smtp, now) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    env.update(DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], SECRET_KEY="subprocess",
               FLASK_FIXED_NOW=now.isoformat(), MAIL_SERVER="127.0.0.1",
               MAIL_PORT=str(smtp.port), MAIL_DEFAULT_SENDER=SENDER)
    return env


def _deliver_command() -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "enrollment", "notifications", "deliver"]


@pytest.mark.sqlite_file
def test_a_sender_killed_mid_delivery_leaves_one_message_id(make_app, smtp):
    app = make_app(MAIL_DEFAULT_SENDER=SENDER, **smtp.config())
    with app.app_context():
        enroll_one()
        db.session.commit()
        smtp.recorder.mode = "stall_once"  # accepts the message, then does not answer
        sender = subprocess.Popen(_deliver_command(), cwd=ROOT, env=_env(app, smtp, NOW),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            stalled = smtp.recorder.stalled.wait(SUBPROCESS_TIMEOUT)
            sender.send_signal(signal.SIGKILL)
        finally:
            if sender.poll() is None:
                sender.kill()
            out, err = sender.communicate(timeout=10)
        assert stalled, err
        assert sender.returncode == -signal.SIGKILL
        [n] = notifications()
        assert n.state == "pending" and n.attempts == 1 and n.claimed_until is not None
        # Once the dead sender's lease is over, the next run sends it again, same Message-ID.
        later = NOW + outbox.LEASE + timedelta(seconds=1)
        done = subprocess.run(_deliver_command(), cwd=ROOT, env=_env(app, smtp, later),
                              capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT)
        assert done.returncode == 0, done.stderr
        assert "mail: 1 sent" in done.stdout
        [n] = notifications()
        assert n.state == "sent"
        ids = smtp.recorder.message_ids()
        assert len(ids) >= 1 and set(ids) == {f"<{n.key}@enrollment>"}


@pytest.mark.sqlite_file
def test_two_senders_racing_send_each_message_once(make_app, smtp):
    app = make_app(MAIL_DEFAULT_SENDER=SENDER, **smtp.config())
    with app.app_context():
        course = make_course(capacity=100)
        people = [make_student(name=f"Racer {i}") for i in range(30)]
        db.session.commit()
        for person in people:
            with write_transaction(db.session):
                services.enroll(person, course, actor=person.user, now=NOW)
        outbox.fan_out(NOW)
        senders = [subprocess.Popen(_deliver_command(), cwd=ROOT, env=_env(app, smtp, NOW),
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for _ in range(2)]
        for sender in senders:
            out, err = sender.communicate(timeout=SUBPROCESS_TIMEOUT)
            assert sender.returncode == 0, err
        keys = {f"<{n.key}@enrollment>" for n in notifications()}
        ids = smtp.recorder.message_ids()
        assert len(keys) == 30 and sorted(ids) == sorted(keys)  # each once, none lost
        assert all(n.state == "sent" for n in notifications())
