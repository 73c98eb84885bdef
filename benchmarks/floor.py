"""The floor of the enroll and drop benchmarks: the least a correct locked enroll can do.

A Flask app with the product's session cookie (same secret, same signing) and nothing else:
POST /floor/<course>/enroll takes the course lock (BEGIN IMMEDIATE on SQLite, FOR UPDATE on
PostgreSQL), counts the seats, inserts the link and its audit row, commits, and answers 303;
/drop deletes the link and inserts its audit row. No rules, no ORM, no CSRF, no templates.
Served by gunicorn with the same settings as the product: `gunicorn 'benchmarks.floor:create_app()'`.
"""
from __future__ import annotations

import os
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Flask, abort, redirect, session

from enrollment.config import database_uri


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    engine = sa.create_engine(database_uri(os.environ["DATABASE_URL"]),
                              pool_size=5, max_overflow=0)
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        @sa.event.listens_for(engine, "connect")
        def _connect(dbapi_connection, record):
            dbapi_connection.isolation_level = None
            dbapi_connection.execute("PRAGMA busy_timeout = 30000")
            dbapi_connection.execute("PRAGMA journal_mode = WAL")
            dbapi_connection.execute("PRAGMA synchronous = NORMAL")

    p = "?" if sqlite else "%s"
    lock = f"SELECT capacity FROM courses WHERE id = {p}" + ("" if sqlite else " FOR UPDATE")
    count = f"SELECT count(*) FROM enrollments WHERE course_id = {p} AND status = 'enrolled'"
    add = ("INSERT INTO enrollments (student_id, course_id, status, source, created_at, "
           f"status_changed_at, updated_at) VALUES ({p}, {p}, 'enrolled', 'self', {p}, {p}, {p})")
    remove = f"DELETE FROM enrollments WHERE student_id = {p} AND course_id = {p}"
    event = ("INSERT INTO enrollment_events (at, student_id, course_id, action, reason, "
             f"student_label, course_label) VALUES ({p}, {p}, {p}, {p}, '', '', '')")

    def student_id() -> int:
        user = str(session.get("_user_id", "")).partition(":")[0]
        if not user.isdigit():
            abort(401)
        return int(user)  # the benchmark's students have the same id as their user

    if not sqlite:
        @sa.event.listens_for(engine, "connect")
        def _autocommit(dbapi_connection, record):
            dbapi_connection.autocommit = True  # BEGIN and COMMIT are ours

    def locked(course_id: int, work) -> None:
        """BEGIN, lock the course, `work(cursor)`, COMMIT (ROLLBACK on an error)."""
        raw = engine.raw_connection()
        cur = raw.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE" if sqlite else "BEGIN")
            cur.execute(lock, (course_id,))
            cur.fetchone()
            work(cur)
            cur.execute("COMMIT")
        except Exception:
            cur.execute("ROLLBACK")
            raise
        finally:
            cur.close()
            raw.close()

    @app.post("/floor/<int:course_id>/enroll")
    def enroll(course_id: int):
        sid, now = student_id(), datetime.now(UTC).replace(tzinfo=None)

        def work(cur):
            cur.execute(count, (course_id,))
            cur.fetchone()
            cur.execute(add, (sid, course_id, now, now, now))
            cur.execute(event, (now, sid, course_id, "enrolled"))
        locked(course_id, work)
        return redirect(f"/courses/{course_id}", code=303)

    @app.post("/floor/<int:course_id>/drop")
    def drop(course_id: int):
        sid, now = student_id(), datetime.now(UTC).replace(tzinfo=None)

        def work(cur):
            cur.execute(remove, (sid, course_id))
            cur.execute(event, (now, sid, course_id, "dropped"))
        locked(course_id, work)
        return redirect(f"/courses/{course_id}", code=303)

    @app.get("/floor/bare")
    def bare():
        return "ok"

    return app
