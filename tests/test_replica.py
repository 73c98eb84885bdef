"""DATABASE_REPLICA_URL against a real streaming replica on loopback (`initdb` for a primary,
`pg_basebackup -R` for its standby): the catalog's and the reports' GET reads go to the
replica, while accounts, every seat decision and a browser's reads right after it wrote go to
the primary. Replay is paused on the replica to tell the two apart."""
from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from enrollment.clock import parse_datetime
from enrollment.extensions import db
from enrollment.models import Course, Enrollment, Status
from enrollment.replica import engine as replica_engine
from enrollment.services import enroll
from tests import factories
from tests.conftest import _build_app
from tests.private_postgres import PrivateServer
from tests.test_concurrency_http import session_cookie

pytestmark = pytest.mark.slow


def _wait_for(engine, condition: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with engine.connect() as conn:
                if conn.scalar(sa.text(condition)):
                    return
        except sa.exc.DBAPIError:
            pass  # the standby is still starting, or the table is not replayed yet
        time.sleep(0.1)
    raise AssertionError(f"the replica did not reach: {condition}")


@pytest.fixture
def replicated_app():
    primary = PrivateServer().init()
    primary.start()
    replica = None
    try:
        replica = PrivateServer().replica_of(primary)
        replica.start()
        app = _build_app({"TESTING": True, "SECRET_KEY": "test-secret",
                          "SQLALCHEMY_DATABASE_URI": primary.url,
                          "DATABASE_REPLICA_URL": replica.url,
                          "WTF_CSRF_ENABLED": False, "FIXED_NOW": factories.NOW},
                         create_tables=True)
        with app.app_context():
            yield app, replica_engine(app)
            db.session.remove()
            db.engine.dispose()
            replica_engine(app).dispose()
    finally:
        if replica is not None:
            replica.remove()
        primary.remove()


def _client(app, user):
    client = app.test_client()
    client.set_cookie("session", session_cookie(app, user.get_id()).split("=", 1)[1])
    return client


def test_catalog_and_reports_read_the_replica_and_seat_decisions_the_primary(replicated_app):
    app, replica = replicated_app
    course = factories.make_course(capacity=1, waitlist_capacity=5, title="Title as replicated")
    first, second = factories.make_student(), factories.make_student()
    staff = factories.make_staff()
    db.session.commit()
    course_id, first_id, second_id = course.id, first.id, second.id
    _wait_for(replica, "SELECT (SELECT count(*) FROM users) = 3 "
                       "AND (SELECT count(*) FROM courses) = 1")

    with replica.connect() as conn:
        conn.execute(sa.text("SELECT pg_wal_replay_pause()"))
    # On the primary only: the one seat is taken, the course renamed, a new account made.
    enroll(first, db.session.get(Course, course_id), actor=first.user,
           now=parse_datetime(factories.NOW))
    db.session.get(Course, course_id).title = "Title on the primary"
    newcomer = factories.make_student(name="Newly Registered")
    db.session.commit()

    # The catalog and the reports read the replica: the old title, the seat still free.
    reader = _client(app, second.user)
    listing = reader.get("/courses").get_data(as_text=True)
    assert "Title as replicated" in listing and "Title on the primary" not in listing
    report = _client(app, staff).get("/reports/").get_data(as_text=True)
    assert "Title as replicated" in report
    # Accounts are read on the primary, even in a request that reads the replica.
    page = _client(app, newcomer.user).get("/courses").get_data(as_text=True)
    assert "Newly Registered" in page and "Title as replicated" in page

    # The seat decision reads the primary: the course is full there, so the second student
    # is waitlisted, not enrolled past capacity on the replica's stale count.
    answer = reader.post(f"/courses/{course_id}/enroll")
    assert answer.status_code == 303
    links = dict(db.session.execute(sa.select(Enrollment.student_id, Enrollment.status)
                                    .where(Enrollment.course_id == course_id)).all())
    assert links == {first_id: Status.ENROLLED, second_id: Status.WAITLISTED}

    # Right after it wrote, that browser reads the primary: it sees its own waitlist entry.
    own = reader.get(f"/courses/{course_id}").get_data(as_text=True)
    assert "Title on the primary" in own and "waitlist" in own.lower()
    # Another visitor still reads the replica until it catches up. (Test requests share the
    # test's session: end it, as each real request ends its own, so no object is reused.)
    db.session.remove()
    anonymous = app.test_client()
    assert "Title as replicated" in anonymous.get(f"/courses/{course_id}").get_data(as_text=True)

    with replica.connect() as conn:
        conn.execute(sa.text("SELECT pg_wal_replay_resume()"))
    _wait_for(replica, f"SELECT count(*) = 2 FROM enrollments WHERE course_id = {course_id}")
    db.session.remove()
    assert "Title on the primary" in anonymous.get(f"/courses/{course_id}").get_data(as_text=True)
