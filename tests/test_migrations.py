"""The migrations build the same schema as the models, on SQLite and PostgreSQL, both ways."""
import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from enrollment import create_app
from enrollment.extensions import db
from tests.conftest import _pg_server_url


@pytest.fixture
def empty_database_url(backend, pg_database, tmp_path):
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    server = _pg_server_url()
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"enrollment_migrate_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def schema_diff():
    with db.engine.connect() as conn:
        return compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)


def table_names():
    return set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_matches_models_and_downgrade_round_trips(empty_database_url):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade()
        assert table_names() == set(db.metadata.tables)
        assert schema_diff() == []
        downgrade(revision="base")
        assert table_names() == set()
        upgrade()
        assert schema_diff() == []
        db.engine.dispose()


def test_audit_status_backfill(empty_database_url):
    """Events written before the status columns get them from their action and reason."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="918e7a9d1eb3")
        rows = [("enrolled", "Enrolled."), ("imported", "Waitlisted at position 2."),
                ("dropped", "Dropped."), ("removed_by_staff", "Left the waitlist. Moved."),
                ("promoted", "A seat became free."), ("completed", "Grade A.")]
        with db.engine.begin() as conn:
            for action, reason in rows:
                conn.execute(sa.text(
                    "INSERT INTO enrollment_events (at, action, reason, student_label, "
                    "course_label) VALUES ('2027-01-01 00:00:00', :a, :r, '', '')"),
                    {"a": action, "r": reason})
        upgrade()
        with db.engine.connect() as conn:
            got = conn.execute(sa.text(
                "SELECT status_before, status_after FROM enrollment_events ORDER BY id")).all()
        assert [tuple(r) for r in got] == [
            (None, "enrolled"), (None, "waitlisted"), ("enrolled", None), ("waitlisted", None),
            ("waitlisted", "enrolled"), (None, "completed")]
        db.engine.dispose()


def test_session_tokens_for_existing_users_and_a_round_trip_with_data(empty_database_url):
    """Rebuilding `users` (SQLite batch mode) works while students reference it."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="b0f82d093b29")
        with db.engine.begin() as conn:
            for n in (1, 2):
                conn.execute(sa.text(
                    "INSERT INTO users (id, email, name, role, active, created_at) VALUES "
                    "(:n, :e, 'U', 'student', :t, '2027-01-01 00:00:00')"),
                    {"n": n, "e": f"u{n}@example.edu", "t": True})
                conn.execute(sa.text("INSERT INTO students (user_id, student_number, program, "
                                     "max_credits) VALUES (:n, :s, '', 18)"),
                             {"n": n, "s": f"S{n}"})
        upgrade()
        downgrade(revision="b0f82d093b29")
        upgrade()
        with db.engine.connect() as conn:
            tokens = conn.execute(sa.text("SELECT session_token FROM users")).scalars().all()
            students = conn.execute(sa.text("SELECT count(*) FROM students")).scalar()
        assert len(set(tokens)) == 2 and all(len(t) == 32 for t in tokens)
        assert students == 2
        assert schema_diff() == []
        db.engine.dispose()


def trigger_names() -> set[str]:
    query = ("SELECT name FROM sqlite_master WHERE type = 'trigger'"
             if db.engine.dialect.name == "sqlite" else
             "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
    with db.engine.connect() as conn:
        return set(conn.execute(sa.text(query)).scalars())


def test_the_summary_triggers_exist_after_upgrade_as_after_create_all(empty_database_url):
    """A later migration that rebuilds `enrollments` or `enrollment_events` (SQLite batch
    mode drops a table's triggers) must create the triggers again: the migrated schema has the
    same triggers as `create_all`."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade()
        migrated = trigger_names()
        downgrade(revision="base")
        db.create_all()
        created = trigger_names()
        db.drop_all()
        db.engine.dispose()
    assert migrated == created and len(created) >= 2
