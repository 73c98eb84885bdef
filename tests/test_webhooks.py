"""Webhooks end to end: changes fan out to subscribed endpoints, and a real HTTP receiver on
127.0.0.1 gets each call signed (verified with the `standardwebhooks` package), retried with
backoff on the app's clock, and recorded in the delivery log."""
from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from enrollment import clock, services
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import (
    Action,
    CourseEvent,
    EnrollmentEvent,
    Status,
    WebhookDelivery,
    WebhookEndpoint,
)
from enrollment.services import course_changes, outbox, webhooks
from tests.factories import NOW

pytestmark = pytest.mark.config(WEBHOOKS_ALLOW_PRIVATE=True)


class Receiver:
    """An HTTP server on a free port of 127.0.0.1 that records every POST and answers with
    the next of `statuses` (then 200)."""

    def __init__(self):
        self.calls: list[dict] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8")
                receiver.calls.append({"path": self.path, "headers": dict(self.headers),
                                       "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/enrollment?k=1"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.running = True

    def stop(self):
        if self.running:
            self.running = False
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=5)

    def verified(self, secret: str) -> list[dict]:
        """Every call's payload, each verified against its signature (raises if one fails)."""
        return [Webhook(secret).verify(call["body"], call["headers"]) for call in self.calls]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


def add_endpoint(url: str, events="") -> WebhookEndpoint:
    with write_transaction(db.session):
        endpoint = webhooks.create_endpoint(url, events=events, actor=None, private_ok=True)
    return endpoint


def enroll(student, course, now=NOW):
    with write_transaction(db.session):
        return services.enroll(student, course, actor=student.user, now=now)


def drop(student, course, now=NOW):
    with write_transaction(db.session):
        return services.drop(student, course, actor=student.user, now=now)


def deliver(now=None):
    db.session.commit()
    report = outbox.deliver_due(now or clock.now())
    db.session.expire_all()
    return report


def deliveries() -> list[WebhookDelivery]:
    db.session.commit()
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_enroll_waitlist_promotion_and_drop_are_posted_signed(receiver, make_course,
                                                             make_student):
    course = make_course(capacity=1, waitlist_capacity=5)
    ann, bob = make_student(), make_student()
    db.session.commit()
    endpoint = add_endpoint(receiver.url)
    enroll(ann, course)
    enroll(bob, course)
    drop(ann, course)  # bob is promoted into the freed seat

    report = deliver()

    assert report.counts["webhooks"] == {"sent": 4}
    payloads = receiver.verified(endpoint.secret)
    assert [(p["type"], p["data"]["student_number"], p["data"]["status"],
             p["data"]["previous_status"]) for p in payloads] == [
        ("enrollment.created", ann.student_number, "enrolled", None),
        ("enrollment.created", bob.student_number, "waitlisted", None),
        ("enrollment.deleted", ann.student_number, None, "enrolled"),
        ("enrollment.updated", bob.student_number, "enrolled", "waitlisted"),
    ]
    first = payloads[0]
    assert first["data"]["course"] == {"id": course.id, "code": course.code,
                                       "term": course.term.code}
    assert first["data"]["at"].startswith("2027-01-10T12:00:00")
    # The timestamp is real time (the app's clock is frozen in 2027).
    assert not first["timestamp"].startswith("2027")
    call = receiver.calls[0]
    assert call["path"] == "/hooks/enrollment?k=1"
    assert call["headers"]["Content-Type"] == "application/json"
    assert call["headers"]["webhook-signature"].startswith("v1,")
    ids = [c["headers"]["webhook-id"] for c in receiver.calls]
    assert len(set(ids)) == 4 and all(i.startswith("msg_") for i in ids)
    log = deliveries()
    assert [(d.state, d.attempts, d.last_status, d.last_error) for d in log] == \
        [("sent", 1, 200, "")] * 4
    # The body sent is the one written at fan-out, byte for byte.
    assert [c["body"] for c in receiver.calls] == [d.body for d in log]

    # Nothing is sent twice.
    assert deliver().counts.get("webhooks") is None
    assert len(receiver.calls) == 4


def test_a_course_change_is_course_updated(receiver, make_course, make_student):
    course = make_course(capacity=3, location="Room 1")
    student = make_student()
    db.session.commit()
    endpoint = add_endpoint(receiver.url, events="course.updated")
    enroll(student, course)
    with write_transaction(db.session):
        before = course_changes.snapshot(course)
        course.location = "Library 115"
        course_changes.record_change(course, before, actor=None, now=NOW)
    # A change written directly, as any other writer of the table would.
    with write_transaction(db.session):
        db.session.add(CourseEvent(at=NOW, course_id=course.id, changes="Status changed",
                                   course_label=f"{course.term.code} {course.code}"))

    deliver()

    payloads = receiver.verified(endpoint.secret)
    assert [p["type"] for p in payloads] == ["course.updated", "course.updated"]
    data = payloads[0]["data"]
    assert data["id"] == course.id and data["code"] == course.code
    assert data["term"] == course.term.code and data["title"] == course.title
    assert data["location"] == "Library 115" and "Library 115" in data["changes"]
    assert data["capacity"] == 3
    assert data["seats"] == {"taken": 1, "free": 2, "waitlisted": 0}
    assert {"days", "start_time", "end_time"} <= data.keys()


def test_endpoints_get_only_the_types_they_subscribe_to(receiver, make_course, make_student):
    course = make_course()
    student = make_student()
    db.session.commit()
    deleted_only = add_endpoint(receiver.url.replace("enrollment", "deleted"),
                                events="enrollment.deleted")
    everything = add_endpoint(receiver.url.replace("enrollment", "all"))
    inactive = add_endpoint(receiver.url.replace("enrollment", "off"))
    inactive.active = False
    db.session.commit()
    enroll(student, course)
    drop(student, course)

    deliver()

    got = [(c["path"].split("?")[0], json.loads(c["body"])["type"]) for c in receiver.calls]
    assert sorted(got) == [("/hooks/all", "enrollment.created"),
                           ("/hooks/all", "enrollment.deleted"),
                           ("/hooks/deleted", "enrollment.deleted")]
    assert {d.endpoint_id for d in deliveries()} == {deleted_only.id, everything.id}


def test_a_retry_sends_the_same_id_and_body_and_is_logged(receiver, app, make_course,
                                                         make_student):
    course = make_course()
    student = make_student()
    db.session.commit()
    endpoint = add_endpoint(receiver.url)
    enroll(student, course)
    receiver.statuses = [500]

    assert deliver(NOW).counts["webhooks"] == {"retry": 1}
    [row] = deliveries()
    assert (row.state, row.attempts, row.last_status) == ("pending", 1, 500)
    assert "HTTP 500" in row.last_error
    assert row.due_at == NOW + timedelta(minutes=1)
    # Not due yet: nothing is sent before the backoff has passed.
    app.config["FIXED_NOW"] = NOW + timedelta(seconds=59)
    assert deliver().counts.get("webhooks") is None
    assert len(receiver.calls) == 1

    app.config["FIXED_NOW"] = NOW + timedelta(minutes=1)
    assert deliver().counts["webhooks"] == {"sent": 1}
    [row] = deliveries()
    assert (row.state, row.attempts, row.last_status, row.last_error) == ("sent", 2, 200, "")
    assert row.sent_at == NOW + timedelta(minutes=1)
    first, second = receiver.calls
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"] \
        == f"msg_{row.key}"
    assert first["body"] == second["body"]
    receiver.verified(endpoint.secret)  # both verify


def test_an_endpoint_that_fails_then_is_down_is_marked_failed_after_five_tries(
        receiver, app, make_course, make_student):
    course = make_course()
    student = make_student()
    db.session.commit()
    add_endpoint(receiver.url)
    enroll(student, course)
    receiver.statuses = [500]
    now = NOW
    assert deliver(now).counts["webhooks"] == {"retry": 1}
    receiver.stop()  # nobody listens on the port any more

    # 1 minute after the first try, then 2, 4, 8: the fifth try is the last.
    for attempt, wait, state in [(2, 1, "retry"), (3, 2, "retry"), (4, 4, "retry"),
                                 (5, 8, "failed")]:
        now += timedelta(minutes=wait)
        app.config["FIXED_NOW"] = now
        assert deliver().counts["webhooks"] == {state: 1}, attempt
        [row] = deliveries()
        assert row.attempts == attempt
        assert row.last_status is None
        assert "no answer" in row.last_error
    assert row.state == "failed" and row.failed_at == now
    now += timedelta(days=1)
    app.config["FIXED_NOW"] = now
    assert deliver().counts.get("webhooks") is None
    assert deliveries()[0].attempts == 5


def test_a_private_address_is_refused_when_sending_unless_allowed(receiver, app, make_course,
                                                                  make_student):
    course = make_course()
    student = make_student()
    db.session.commit()
    add_endpoint(receiver.url)
    enroll(student, course)
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = False

    assert deliver().counts["webhooks"] == {"retry": 1}
    [row] = deliveries()
    assert "refused" in row.last_error and "loopback" in row.last_error
    assert receiver.calls == []


def test_event_types_of_every_action():
    def event(action, before, after):
        return EnrollmentEvent(action=action, status_before=before, status_after=after)

    W, E, OF, C = Status.WAITLISTED, Status.ENROLLED, Status.OFFERED, Status.COMPLETED
    cases = [
        (Action.ENROLLED, None, E, "enrollment.created"),
        (Action.WAITLISTED, None, W, "enrollment.created"),
        (Action.ADDED_BY_STAFF, None, E, "enrollment.created"),
        (Action.IMPORTED, None, C, "enrollment.created"),
        (Action.PROMOTED, W, E, "enrollment.updated"),
        (Action.OFFERED, W, OF, "enrollment.updated"),
        (Action.OFFER_ACCEPTED, OF, E, "enrollment.updated"),
        (Action.COMPLETED, E, C, "enrollment.updated"),
        (Action.COMPLETED, C, C, "enrollment.updated"),  # a grade changed
        (Action.DROPPED, E, None, "enrollment.deleted"),
        (Action.DROPPED, W, None, "enrollment.deleted"),
        (Action.REMOVED_BY_STAFF, C, None, "enrollment.deleted"),
        (Action.OFFER_DECLINED, OF, None, "enrollment.deleted"),
        (Action.OFFER_EXPIRED, OF, None, "enrollment.deleted"),
        (Action.REFUSED, W, W, None),  # a promotion skipped: the student keeps their place
        (Action.REFUSED, None, None, None),
    ]
    for action, before, after, expected in cases:
        assert webhooks.event_type_for(event(action, before, after)) == expected, action


def test_a_skipped_promotion_makes_no_webhook(app, make_course, make_student):
    course = make_course()
    student = make_student()
    db.session.commit()
    add_endpoint("http://127.0.0.1:9/hook")
    with write_transaction(db.session):
        skipped = EnrollmentEvent(at=NOW, student_id=student.id, course_id=course.id,
                                  action=Action.REFUSED, status_before=Status.WAITLISTED,
                                  status_after=Status.WAITLISTED, reason="time conflict")
        db.session.add(skipped)
    outbox.fan_out(NOW)
    assert deliveries() == []
    db.session.refresh(skipped)
    assert skipped.fanned_out_at is not None


def test_the_endpoints_are_read_once_per_fan_out_batch(app, make_course, make_student,
                                                       count_queries):
    course = make_course()
    students = [make_student() for _ in range(6)]
    db.session.commit()
    add_endpoint("http://127.0.0.1:9/a")
    add_endpoint("http://127.0.0.1:9/b", events="enrollment.created")

    def fan_out(events):
        with write_transaction(db.session):
            rows = [EnrollmentEvent(at=NOW, student_id=s.id, course_id=course.id,
                                    action=Action.ENROLLED, status_after=Status.ENROLLED)
                    for s in events]
            db.session.add_all(rows)
            db.session.flush()
            for row in rows:  # what the mail fan-out loads for the same events
                assert row.student is not None and row.course.term is not None
            with count_queries() as queries:
                made = [d for row in rows for d in webhooks.deliveries_for_event(row, NOW)]
            db.session.add_all(made)
        return queries.count, len(made)

    few, made_few = fan_out(students[:2])
    many, made_many = fan_out(students[2:])
    assert (made_few, made_many) == (4, 8)
    assert few == many == 1


def test_a_host_name_is_called_on_the_addresses_it_was_checked_at(receiver, make_course,
                                                                  make_student):
    course = make_course()
    student = make_student()
    db.session.commit()
    # localhost may resolve to ::1 first; the receiver listens on 127.0.0.1 only.
    endpoint = add_endpoint(receiver.url.replace("127.0.0.1", "localhost"))
    enroll(student, course)
    assert deliver().counts["webhooks"] == {"sent": 1}
    [payload] = receiver.verified(endpoint.secret)
    assert payload["type"] == "enrollment.created"
    assert receiver.calls[0]["headers"]["Host"] == f"localhost:{receiver.server.server_port}"
