"""Fixtures: a fresh app per test on SQLite (in memory) or PostgreSQL (a throwaway database).

Choose the backend with `--backend=postgresql` (or TEST_BACKEND=postgresql). The PostgreSQL
server is TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres); a
database is created for the run and dropped at the end. Outside CI an unreachable server skips
the PostgreSQL run with a printed reason; under CI=true it fails.
"""
from __future__ import annotations

import os
import threading
import uuid
import warnings

import pytest
import sqlalchemy as sa
from flask import g, request_started, template_rendered
from sqlalchemy.exc import SAWarning
from werkzeug.serving import make_server

from enrollment import create_app
from enrollment.extensions import db
from tests import factories

warnings.simplefilter("error", SAWarning)

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def pytest_addoption(parser):
    parser.addoption("--backend", default=os.environ.get("TEST_BACKEND", "sqlite"),
                     choices=["sqlite", "postgresql"], help="database backend for the suite")


def pytest_report_header(config):
    return f"database backend: {config.getoption('--backend')}"


@pytest.fixture(scope="session")
def backend(pytestconfig) -> str:
    return pytestconfig.getoption("--backend")


def _pg_server_url() -> sa.URL:
    return sa.make_url(os.environ.get("TEST_POSTGRES_URL", DEFAULT_PG))


@pytest.fixture(scope="session")
def pg_database(backend):
    """A throwaway PostgreSQL database for the session (None on SQLite)."""
    if backend != "postgresql":
        yield None
        return
    server = _pg_server_url()
    admin_engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"enrollment_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin_engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        admin_engine.dispose()
        message = f"PostgreSQL is not reachable at {server.render_as_string()}: {exc.orig}"
        if IN_CI:
            pytest.fail(message + " (required under CI=true)", pytrace=False)
        pytest.skip(message)
    url = server.set(database=name)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        db.metadata.create_all(conn)
    engine.dispose()
    yield url.render_as_string(hide_password=False)
    with admin_engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin_engine.dispose()


@pytest.fixture
def database_url(backend, pg_database, tmp_path, request) -> str:
    """The URL for one test: in-memory SQLite, a SQLite file (marker `sqlite_file`) or PG."""
    if pg_database:
        return pg_database
    if request.node.get_closest_marker("sqlite_file"):
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    return "sqlite://"


@pytest.fixture
def make_app(database_url, pg_database):
    """Build an app for this test's database; tables exist and are empty."""
    apps = []

    def _make(**overrides):
        config = {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
            "FIXED_NOW": factories.NOW,
            "PASSWORD_MIN_LENGTH": 10,
        }
        config.update(overrides)
        app = create_app(config)
        with app.app_context():
            if pg_database:
                _truncate_all()
            else:
                db.create_all()
        apps.append(app)
        return app

    yield _make
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _truncate_all():
    names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture
def app(make_app, request):
    marker = request.node.get_closest_marker("config")
    app = make_app(**(marker.kwargs if marker else {}))
    # Test requests reuse this pushed app context, and with it `g`, where Flask-Login caches
    # the user: forget it at every request, or one client's user leaks into the next request.
    request_started.connect(_forget_cached_user, app)
    with app.app_context():
        yield app
        db.session.rollback()
    request_started.disconnect(_forget_cached_user, app)


def _forget_cached_user(sender, **extra):
    g.pop("_login_user", None)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def live_server(app):
    """Serve `app` in a thread (mark the test `sqlite_file` on SQLite); yields its base URL."""
    db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def login(client):
    """Log a test client in as a user (through the session, no form)."""

    def _login(user, c=None):
        c = c or client
        with c.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return c

    return _login


@pytest.fixture
def templates(app):
    """Templates rendered during the test, with their contexts."""
    recorded = []

    def record(sender, template, context, **extra):
        recorded.append((template, context))

    template_rendered.connect(record, app)
    yield recorded
    template_rendered.disconnect(record, app)


@pytest.fixture
def count_queries(app):
    """Context manager counting SQL statements: `with count_queries() as q: ...; q.count`."""
    from contextlib import contextmanager

    class Counter:
        def __init__(self):
            self.statements = []

        @property
        def count(self):
            return len(self.statements)

    @contextmanager
    def _count():
        counter = Counter()

        def before(conn, cursor, statement, parameters, context, executemany):
            if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK",
                                                         "SAVEPOINT", "RELEASE", "PRAGMA")):
                counter.statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", before)

    return _count


# Factories as fixtures, bound to the test's app context.
@pytest.fixture
def make_term(app):
    return factories.make_term


@pytest.fixture
def make_department(app):
    return factories.make_department


@pytest.fixture
def make_course(app):
    return factories.make_course


@pytest.fixture
def make_student(app):
    return factories.make_student


@pytest.fixture
def make_staff(app):
    return factories.make_staff


def pytest_sessionfinish(session, exitstatus):
    """Under CI=true nothing may be skipped: the PostgreSQL run and browser tests must run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if IN_CI and skipped and session.exitstatus == 0:
        reporter.write_line(f"CI=true: {len(skipped)} test(s) skipped; failing the run.", red=True)
        session.exitstatus = 1


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_file: use a SQLite file instead of :memory:")
    config.addinivalue_line("markers", "config(**values): app config overrides for this test")
