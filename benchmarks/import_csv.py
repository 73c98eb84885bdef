"""Bulk import speed: `flask import-csv enrollments` against raw INSERTs of the same rows.

For each backend, builds a school of `--students` students and two large courses in a scratch
database (SQLite file; a throwaway PostgreSQL database when the server is reachable), writes an
enrollments file of 2 × students rows, and times, in the same run:

- the floor: the same links and their audit rows written by raw multi-row INSERTs (DB-API)
  in one transaction, with no checks, then rolled back;
- the product: `flask import-csv enrollments FILE` in a child process (every row checked
  first, then written through the rules), with the child's peak resident memory.

    python benchmarks/import_csv.py [--students 50000] [--no-postgres]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime

import sqlalchemy as sa

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks.enroll import make_database  # noqa: E402
from enrollment import create_app  # noqa: E402
from enrollment.extensions import db  # noqa: E402
from enrollment.models import Student, User  # noqa: E402
from tests import factories  # noqa: E402

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
CODES = ("BULK1", "BULK2")

CHILD = """
import resource, sys, time
from enrollment import create_app
from enrollment.cli.imports import import_csv
app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "SECRET_KEY": "bench",
                  "FIXED_NOW": sys.argv[3]})
started = time.perf_counter()
result = app.test_cli_runner().invoke(import_csv, ["enrollments", sys.argv[2]])
elapsed = time.perf_counter() - started
assert result.exit_code == 0, result.output[-2000:]
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def build(url: str, students: int, path: str) -> list[tuple[int, int]]:
    """The school and the file; returns the (student id, course id) pairs of the file."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        db.create_all()
        term = factories.make_term(code="BULK27")
        courses = [factories.make_course(term=term, code=code, capacity=students, credits=1)
                   for code in CODES]
        db.session.commit()
        for start in range(0, students, 10_000):
            batch = range(start, min(start + 10_000, students))
            db.session.execute(sa.insert(User), [
                {"email": f"bulk{i}@example.edu", "name": f"Bulk Student {i}",
                 "role": "student", "active": True, "created_at": NOW,
                 "session_token": f"t{i}"} for i in batch])
        ids = dict(db.session.execute(sa.select(User.email, User.id)).all())
        for start in range(0, students, 10_000):
            db.session.execute(sa.insert(Student), [
                {"user_id": ids[f"bulk{i}@example.edu"], "student_number": f"N{i:07d}",
                 "program": "History", "max_credits": 18}
                for i in range(start, min(start + 10_000, students))])
        db.session.commit()
        numbers = dict(db.session.execute(sa.select(Student.student_number, Student.id)).all())
        pairs = []
        with open(path, "w", encoding="utf-8") as out:
            out.write("term,code,student_number\n")
            for course in courses:
                for i in range(students):
                    out.write(f"BULK27,{course.code},N{i:07d}\n")
                    pairs.append((numbers[f"N{i:07d}"], course.id))
        db.engine.dispose()
    return pairs


def floor(url: str, pairs: list[tuple[int, int]]) -> float:
    """Seconds to write the links and one audit row each with raw multi-row INSERTs (DB-API,
    a few thousand rows per statement), the fastest plain way to write them."""
    engine = sa.create_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    p = "?" if sqlite else "%s"
    stamp = "2027-01-10 12:00:00.000000" if sqlite else NOW.replace(tzinfo=None)
    statements = [
        ("INSERT INTO enrollments (student_id, course_id, status, source, created_at, "
         "status_changed_at, updated_at) VALUES ", f"({p}, {p}, 'enrolled', 'import', {p}, {p}, {p})",
         [(s, c, stamp, stamp, stamp) for s, c in pairs]),
        ("INSERT INTO enrollment_events (at, student_id, course_id, action, status_after, "
         "reason, student_label, course_label) VALUES ",
         f"({p}, {p}, {p}, 'imported', 'enrolled', 'Imported.', '', '')",
         [(stamp, s, c) for s, c in pairs]),
    ]
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        cursor = raw.cursor()
        started = time.perf_counter()
        for head, group, rows in statements:
            per = 30_000 // len(rows[0])
            for start in range(0, len(rows), per):
                chunk = rows[start:start + per]
                cursor.execute(head + ", ".join([group] * len(chunk)),
                               tuple(v for row in chunk for v in row))
        elapsed = time.perf_counter() - started
        raw.rollback()
    engine.dispose()
    return elapsed


def product(url: str, path: str) -> tuple[float, int]:
    done = subprocess.run([sys.executable, "-c", CHILD, url, path, NOW.isoformat()],
                          capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    elapsed, peak_kib = done.stdout.split()
    return float(elapsed), int(peak_kib)


def run(name: str, url: str, students: int, workdir: str) -> None:
    path = os.path.join(workdir, f"{name}-enrollments.csv")
    pairs = build(url, students, path)
    size = os.path.getsize(path) / 1e6
    raw = floor(url, pairs)
    seconds, peak_kib = product(url, path)
    rows = len(pairs)
    print(f"[{name}] {rows} rows ({size:.1f} MB): import-csv {rows / seconds:8.0f} rows/s vs "
          f"raw INSERTs {rows / raw:8.0f} rows/s = {raw / seconds:5.1%}; "
          f"peak memory of the import {peak_kib / 1024:.0f} MiB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        for backend in ("sqlite",) if args.no_postgres else ("sqlite", "postgresql"):
            try:
                url, drop = make_database(backend, workdir)
            except sa.exc.OperationalError as exc:
                print(f"[{backend}] skipped: {str(exc.orig).strip().splitlines()[0]}")
                continue
            try:
                run(backend, url, args.students, workdir)
            finally:
                drop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
