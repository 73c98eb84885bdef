"""The instructors migration on a database with accounts: the role's CHECK constraint takes
`instructor` after the upgrade (and refuses it before), on SQLite (batch mode) and
PostgreSQL; the downgrade turns instructors back into students."""
import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from enrollment import create_app
from enrollment.extensions import db
from tests.test_migrations import empty_database_url, schema_diff  # noqa: F401

BEFORE = "f7d4a5b6c8e9"
INSTRUCTORS = "a8e5b6c7d9f0"  # accounts written by hand here lack later required columns


def add_user(conn, n: int, role: str) -> None:
    conn.execute(sa.text(
        "INSERT INTO users (id, email, name, role, active, created_at, session_token) VALUES "
        "(:n, :e, 'U', :r, :t, '2027-01-01 00:00:00', :s)"),
        {"n": n, "e": f"u{n}@example.edu", "r": role, "t": True, "s": f"{n:032d}"})


def roles():
    with db.engine.connect() as conn:
        return conn.execute(sa.text("SELECT role FROM users ORDER BY id")).scalars().all()


def test_the_role_constraint_follows_the_migration(empty_database_url):  # noqa: F811
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            add_user(conn, 1, "staff")
            conn.execute(sa.text("INSERT INTO students (user_id, student_number, program, "
                                 "max_credits) VALUES (1, 'S1', '', 18)"))
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
            add_user(conn, 2, "instructor")
        upgrade(revision=INSTRUCTORS)
        with db.engine.begin() as conn:
            add_user(conn, 2, "instructor")
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
            add_user(conn, 3, "teacher")
        assert roles() == ["staff", "instructor"]
        upgrade()
        assert schema_diff() == []
        downgrade(revision=BEFORE)
        assert roles() == ["staff", "student"]
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM students")).scalar() == 1
        db.engine.dispose()
