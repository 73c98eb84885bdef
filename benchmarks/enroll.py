"""Enroll throughput: the rules engine (lock, every rule, audit) vs a hand-written baseline.

The baseline does the least a correct enrollment needs, in raw SQL on the same engine: take
the lock, count the seats, insert the link and its audit row, commit. The engine does all
that plus the window, duplicate, conflict, prerequisite and credit checks. Prints operations
per second for both and the ratio.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sqlalchemy as sa  # noqa: E402

from enrollment import create_app, services  # noqa: E402
from enrollment.database import write_transaction  # noqa: E402
from enrollment.extensions import db  # noqa: E402
from enrollment.models import Course, Student  # noqa: E402
from tests import factories  # noqa: E402

PG_SERVER = os.environ.get("TEST_POSTGRES_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def make_database(backend: str, workdir: str) -> tuple[str, callable]:
    if backend == "sqlite":
        return f"sqlite:///{workdir}/bench.sqlite3", lambda: None
    server = sa.make_url(PG_SERVER)
    name = f"enrollment_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop():
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return server.set(database=name).render_as_string(hide_password=False), drop


def setup(n_courses: int, n_students: int):
    term = factories.make_term()
    dept = factories.make_department()
    courses = [factories.make_course(term=term, department=dept, capacity=n_students,
                                     waitlist_capacity=0, credits=1)
               for _ in range(n_courses)]
    students = [factories.make_student(max_credits=n_courses + 1) for _ in range(n_students)]
    db.session.commit()
    return [c.id for c in courses], [s.id for s in students]


def engine_run(pairs) -> float:
    start = time.perf_counter()
    for student_id, course_id in pairs:
        with write_transaction(db.session):
            services.enroll(db.session.get(Student, student_id), db.session.get(Course, course_id),
                            actor=None, now=factories.NOW)
    return time.perf_counter() - start


def baseline_run(pairs, backend: str) -> float:
    lock = "" if backend == "sqlite" else " FOR UPDATE"
    begin = "BEGIN IMMEDIATE" if backend == "sqlite" else "BEGIN"
    now = factories.NOW.replace(tzinfo=None)
    raw = db.engine.raw_connection()
    try:
        if backend == "sqlite":
            raw.isolation_level = None
        else:
            raw.autocommit = True
        cur = raw.cursor()
        p = "?" if backend == "sqlite" else "%s"
        start = time.perf_counter()
        for student_id, course_id in pairs:
            cur.execute(begin)
            cur.execute(f"SELECT capacity FROM courses WHERE id = {p}{lock}", (course_id,))
            capacity = cur.fetchone()[0]
            cur.execute(f"SELECT count(*) FROM enrollments WHERE course_id = {p} "
                        "AND status = 'enrolled'", (course_id,))
            assert cur.fetchone()[0] < capacity
            cur.execute("INSERT INTO enrollments (student_id, course_id, status, source, "
                        f"created_at, status_changed_at, updated_at) VALUES ({p}, {p}, "
                        f"'enrolled', 'self', {p}, {p}, {p})",
                        (student_id, course_id, now, now, now))
            cur.execute("INSERT INTO enrollment_events (at, student_id, course_id, action, "
                        "reason, student_label, course_label) VALUES "
                        f"({p}, {p}, {p}, 'enrolled', '', '', '')", (now, student_id, course_id))
            cur.execute("COMMIT")
        return time.perf_counter() - start
    finally:
        raw.close()


def clear():
    with db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM enrollment_events"))
        conn.execute(sa.text("DELETE FROM enrollments"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--courses", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        url, drop_database = make_database(args.backend, workdir)
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
        try:
            with app.app_context():
                db.create_all()
                course_ids, student_ids = setup(args.courses, args.students)
                pairs = [(s, c) for c in course_ids for s in student_ids]
                engine_times, base_times = [], []
                for _ in range(args.rounds):
                    clear()
                    base_times.append(baseline_run(pairs, args.backend))
                    clear()
                    db.session.expire_all()
                    engine_times.append(engine_run(pairs))
                db.session.remove()
                db.engine.dispose()
        finally:
            drop_database()
    base, eng = statistics.median(base_times), statistics.median(engine_times)
    n = len(pairs)
    print(f"backend: {args.backend}; {n} enrollments per round, median of {args.rounds} rounds")
    print(f"baseline (raw SQL: lock, count, insert link + audit): {n / base:8.0f} enrollments/s")
    print(f"rules engine (every rule, audit, ORM):                {n / eng:8.0f} enrollments/s")
    print(f"ratio engine/baseline time: {eng / base:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
