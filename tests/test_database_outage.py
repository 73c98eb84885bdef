"""A database outage: every request gets 503 with Retry-After, one log line each, and the app
recovers by itself when the database is back. Runs against a private PostgreSQL server."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from enrollment import create_app
from enrollment.extensions import db
from enrollment.models import Enrollment
from tests import factories
from tests.private_postgres import private_postgres  # noqa: F401  (fixture)
from tests.test_concurrency_http import session_cookie

pytestmark = pytest.mark.slow


@pytest.fixture
def outage_app(private_postgres):  # noqa: F811
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                      "SQLALCHEMY_DATABASE_URI": private_postgres.url, "WTF_CSRF_ENABLED": False,
                      "FIXED_NOW": factories.NOW})
    with app.app_context():
        db.create_all()
        course = factories.make_course(capacity=5)
        student = factories.make_student()
        db.session.commit()
        ids = {"course": course.id, "cookie": session_cookie(app, student.user.get_id())}
        db.session.remove()
    yield app, private_postgres, ids
    with app.app_context():
        db.engine.dispose()


def test_every_request_gets_503_during_an_outage_and_the_app_recovers(outage_app, caplog):
    app, server, ids = outage_app
    client = app.test_client()
    client.set_cookie("session", ids["cookie"].split("=", 1)[1])
    course = ids["course"]
    assert client.get(f"/courses/{course}").status_code == 200

    server.stop()
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        answers = [client.get("/courses"), client.get(f"/courses/{course}"),
                   client.get("/me/schedule"), client.post(f"/courses/{course}/enroll"),
                   client.get("/courses", headers={"Accept": "application/json"})]
    for answer in answers:
        assert answer.status_code == 503, answer.request.path
        assert answer.headers["Retry-After"].isdigit()
    assert "briefly unavailable" in answers[0].get_data(as_text=True)
    assert answers[-1].get_json() == {"error": "The database cannot be reached right now.",
                                      "status": 503}
    outage_lines = [r for r in caplog.records if "database unavailable" in r.getMessage()]
    assert len(outage_lines) == len(answers)
    assert all(r.exc_info is None for r in outage_lines)  # one line each, no traceback

    server.start()
    assert client.post(f"/courses/{course}/enroll").status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 1


def test_an_import_whose_database_disappears_says_so_in_one_line(outage_app, tmp_path,
                                                                 monkeypatch):
    """The database goes away between the check of the file and its writing."""
    from enrollment.cli import imports as cli_imports

    app, server, _ids = outage_app
    real_plan = cli_imports.plan_import

    def plan_then_outage(*args, **kwargs):
        plan = real_plan(*args, **kwargs)
        server.stop()
        return plan

    monkeypatch.setattr(cli_imports, "plan_import", plan_then_outage)
    path = tmp_path / "terms.csv"
    path.write_text("code,name,enrollment_opens,enrollment_closes,drop_deadline\n"
                    "2030SP,Spring 2030,2030-01-01,2030-01-31,2030-02-15\n")
    result = app.test_cli_runner().invoke(cli_imports.import_csv, ["terms", str(path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "database" in lines[0] and "nothing was imported" in lines[0]


@pytest.mark.config(SQLALCHEMY_ECHO=True)
def test_sql_logging_never_shows_password_hashes_or_session_tokens(app, client, make_student,
                                                                    caplog):
    student = make_student()
    db.session.commit()
    with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
        client.post("/auth/login", data={"email": student.user.email,
                                         "password": factories.PASSWORD})
        client.post("/auth/logout")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "SELECT" in logged  # the statements are logged
    db.session.refresh(student.user)
    for secret in (student.user.password_hash, student.user.session_token, factories.PASSWORD):
        assert secret not in logged


def _kill_the_apps_connections(server) -> None:
    """What a database restart or a firewall does to idle connections: the server ends them."""
    import sqlalchemy as sa

    engine = sa.create_engine(server.url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    engine.dispose()


def test_an_idle_connection_the_server_ended_is_replaced_unseen(outage_app, monkeypatch):
    """No ping per checkout; a connection idle long enough is pinged, and a dead one is
    replaced before the request uses it. Without that check (the control, with a threshold
    the test never reaches) the same request fails with 503 and the next one works."""
    from enrollment import database

    app, server, ids = outage_app
    client = app.test_client()
    page = f"/courses/{ids['course']}"
    assert client.get(page).status_code == 200

    monkeypatch.setattr(database, "IDLE_PING_SECONDS", 3600.0)
    _kill_the_apps_connections(server)
    assert client.get(page).status_code == 503  # the control: the dead connection was used
    assert client.get(page).status_code == 200  # and the pool replaced it

    monkeypatch.setattr(database, "IDLE_PING_SECONDS", 0.0)
    _kill_the_apps_connections(server)
    assert client.get(page).status_code == 200
