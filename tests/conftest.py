"""Fixtures: an app with empty tables per test on SQLite (in memory) or PostgreSQL (a throwaway
database per worker). Apps are shared by the tests of a worker that use the same config; see
`make_app` for what is reset between tests.

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
from flask import Flask, g, request_started, template_rendered
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


@pytest.fixture(scope="session")
def _app_cache(pg_database):
    """Apps built in this worker, by config. Building one costs ~0.3 s (Flask-Admin mostly),
    more than most tests, so tests with the same config share one and only its rows are reset.
    Depends on `pg_database` so that the engines close before the database is dropped."""
    apps: dict[str, Flask] = {}
    yield apps
    for app in apps.values():
        _dispose(app)


@pytest.fixture
def make_app(database_url, pg_database, _app_cache, request):
    """An app for this test's database and config (`make_app(**overrides)`), tables empty.

    Each call empties the tables again, as a fresh database would be. A `sqlite_file` test
    (threads, a live server: real commits on many connections) gets an app of its own, closed
    after the test, so that its pool is not kept open for the rest of the run.
    """
    own = request.node.get_closest_marker("sqlite_file") is not None
    handed_out: dict[Flask, dict] = {}

    def _make(**overrides):
        config = {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
            "FIXED_NOW": factories.NOW,
            "PASSWORD_MIN_LENGTH": 10,
            # One limiter serves every app of a process: a test that turns limits on must not
            # leave the shared hashing budget (tests/test_login_storm.py) to the next ones.
            "PASSWORD_HASH_LIMIT": "10000 per second",
        }
        config.update(overrides)
        key = repr(sorted(config.items()))
        app = None if own else _app_cache.get(key)
        if app is None:
            app = _build_app(config, create_tables=not pg_database)
            if not own:
                _app_cache[key] = app
        # A test may change the config (move the clock, say): the next test must not see it.
        handed_out.setdefault(app, dict(app.config))
        with app.app_context():
            _empty_tables()
        _reset_rate_limits(app)
        return app

    yield _make
    for app, config in handed_out.items():
        app.config.clear()
        app.config.update(config)
        if own:
            _dispose(app)


def _build_app(config: dict, *, create_tables: bool) -> Flask:
    app = create_app(config)
    with app.app_context():
        if create_tables:
            db.create_all()
    # Test requests reuse the test's pushed app context, and with it `g`, where Flask-Login
    # caches the user: forget it at every request, or one client's user leaks into the next.
    request_started.connect(_forget_cached_user, app)
    return app


def _dispose(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _forget_cached_user(sender, **extra):
    g.pop("_login_user", None)


def _reset_rate_limits(app: Flask) -> None:
    """Flask-Limiter keeps its settings (on or off, the storage) on its one module-level object,
    from the app it was initialised for last, which need not be this one: initialise it for
    this app again. It adds its hooks to an app only once, and in-memory counters start at
    zero, as in a new app. An app built with the limiter off has no hooks: nothing to do.
    """
    for limiter in app.extensions.get("limiter", ()):
        limiter.init_app(app)


def _empty_tables() -> None:
    """Delete every row and restart the ids at 1, as in a new database.

    DELETE, not TRUNCATE: on PostgreSQL a TRUNCATE of the eight tables takes 130-200 ms (new
    files for each table), a DELETE of the few rows a test writes about 2 ms. SQLite reuses
    ids from max(rowid) + 1, so an empty table starts at 1 again; PostgreSQL's sequences
    (which rolled-back inserts advance too) are set back explicitly.
    """
    tables = list(reversed(db.metadata.sorted_tables))  # children before parents
    with db.engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            # A connection left in a transaction by a broken test would block the DELETE
            # forever: fail in seconds instead of hanging the run.
            conn.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
        for table in tables:
            conn.execute(table.delete())
        if postgres:
            serials = ", ".join(f"('{t.name}', '{t.autoincrement_column.name}')"
                                for t in tables if t.autoincrement_column is not None)
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence(t, c), 1, false) FROM (VALUES {serials})"
                " AS serial(t, c)")


@pytest.fixture
def app(make_app, request):
    marker = request.node.get_closest_marker("config")
    app = make_app(**(marker.kwargs if marker else {}))
    with app.app_context():
        yield app
        db.session.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def live_server(app):
    """Serve `app` in a thread (mark the test `sqlite_file` on SQLite); yields its base URL."""
    db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # `shutdown` waits for the loop to look at its flag: every 0.5 s by default, per test.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
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
def import_file(runner, tmp_path):
    """`import_file(kind, content, *args)`: `flask import-csv KIND FILE [ARGS]` on the content
    (text or bytes); the session is expired afterwards, so the test reads what was written."""
    from enrollment.cli.imports import import_csv

    def _run(kind, content, *args):
        path = tmp_path / f"{kind}.csv"
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        result = runner.invoke(import_csv, [kind, str(path), *args])
        assert "Traceback" not in result.output
        db.session.expire_all()
        return result
    return _run


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


@pytest.fixture
def make_enrollment(app):
    return factories.make_enrollment


def pytest_sessionfinish(session, exitstatus):
    """Under CI=true nothing may be skipped: the PostgreSQL run and browser tests must run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if IN_CI and skipped and session.exitstatus == 0:
        reporter.write_line(f"CI=true: {len(skipped)} test(s) skipped; failing the run.", red=True)
        session.exitstatus = 1


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_file: use a SQLite file instead of :memory: "
                            "and an app of the test's own (threads, live servers)")
    config.addinivalue_line("markers", "config(**values): app config overrides for this test")
