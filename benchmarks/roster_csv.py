"""Roster CSV export: the web export against the same query written by hand.

Builds a course with 5,000 students (enrolled, a waitlist and a few completed) in a scratch
SQLite file and, when the server is reachable, a throwaway PostgreSQL database; then times,
side by side in the same run, the full `/reports/courses/<id>/roster.csv` response (through
the Flask test client: login, course lookup, streamed body) and a hand-written version (the
DB-API cursor and the `csv` module). Both must produce the same bytes. Prints the times and
the ratio, and the peak Python memory of each; exits 1 when a ratio is over --max-ratio.

    python benchmarks/roster_csv.py [--students 5000] [--repeat 9] [--max-ratio 1.5]

PostgreSQL: BENCH_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres);
`--no-postgres` skips it. The benchmark's data set is written with bulk Core inserts, like the
demo seeding (the rules engine is not what is measured here).
"""
from __future__ import annotations

import argparse
import csv
import gc
import io
import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from enrollment import create_app  # noqa: E402
from enrollment.extensions import db  # noqa: E402
from enrollment.models import (  # noqa: E402
    Course,
    Department,
    Enrollment,
    Role,
    Student,
    Term,
    User,
)

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
FIRST = ["Ana", "Bram", "Chloé", "Dmitri", "Eun-ji", "Farah", "Gus", "Hiroshi", "Ines", "Jamal",
         "Kasia", "Liam", "Møller", "Nia", "Oscar", "Priya", "Quinn", "Rūta", "Søren", "Tomás"]
LAST = ["Okafor", "Nguyen", "García", "Smith", "Østergaard", "Kowalski", "Haddad", "Ito",
        "Müller", "O'Brien", "Papadopoulos", "Rossi", "Şahin", "Teo", "Umarov", "Varga"]

HAND_SQL = """
SELECT s.student_number, u.name, u.email, s.program, e.status, e.waitlist_seq,
       e.status_changed_at
FROM enrollments e JOIN students s ON s.id = e.student_id JOIN users u ON u.id = s.user_id
WHERE e.course_id = {param}
ORDER BY CASE WHEN e.status = 'enrolled' THEN 0 WHEN e.status = 'waitlisted' THEN 1 ELSE 2 END,
         e.waitlist_seq, lower(u.name), u.name, s.student_number
"""
HEADER = ["student_number", "name", "email", "program", "status", "waitlist_position",
          "enrolled_at"]
STARTS = frozenset("=+-@\t\r")


def build(n: int) -> tuple[int, int]:
    """A 2027SP course with `n` students: 96 % enrolled, 3 % waitlisted, 1 % completed."""
    rng = random.Random(5000)
    term = Term(code="2027SP", name="Spring 2027", enrollment_opens=NOW - timedelta(days=9),
                enrollment_closes=NOW + timedelta(days=20), drop_deadline=NOW + timedelta(days=35),
                classes_start=date(2027, 2, 1), classes_end=date(2027, 5, 14))
    dept = Department(code="CS", name="Computer Science")
    enrolled_n, waitlisted_n = n * 96 // 100, n * 3 // 100
    course = Course(term=term, department=dept, code="CS101", title="Programming",
                    capacity=enrolled_n, waitlist_capacity=waitlisted_n, credits=3)
    staff = User(email="registrar@example.edu", name="Registrar", role=Role.STAFF)
    db.session.add_all([term, dept, course, staff])
    db.session.commit()
    users, students, links = [], [], []
    for i in range(1, n + 1):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        if i % 997 == 0:
            name = "=HYPERLINK(\"http://example.com\")"  # neutralised in both versions
        users.append({"id": i + 1, "email": f"student{i}@example.edu", "name": name,
                      "role": "student", "active": True, "created_at": NOW})
        students.append({"id": i, "user_id": i + 1, "student_number": f"S{i:07d}",
                         "program": rng.choice(["Computer Science", "Mathematics", "Physics"]),
                         "max_credits": 18})
        at = NOW - timedelta(minutes=rng.randrange(0, 9 * 24 * 60))
        if i <= enrolled_n:
            status, seq = "enrolled", None
        elif i <= enrolled_n + waitlisted_n:
            status, seq = "waitlisted", i - enrolled_n
        else:
            status, seq = "completed", None
        links.append({"student_id": i, "course_id": course.id, "status": status,
                      "waitlist_seq": seq, "source": "self", "created_at": at,
                      "status_changed_at": at, "updated_at": at,
                      "grade": "A" if status == "completed" else None})
    db.session.execute(sa.insert(User), users)
    db.session.execute(sa.insert(Student), students)
    db.session.execute(sa.insert(Enrollment), links)
    db.session.commit()
    return course.id, staff.get_id()


def hand_written(course_id: int) -> bytes:
    """The same roster written by hand: one cursor, the csv module, no ORM, no Flask."""
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        sqlite = db.engine.dialect.name == "sqlite"
        cursor.execute(HAND_SQL.format(param="?" if sqlite else "%s"), (course_id,))
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(HEADER)
        position = 0
        for number, name, email, program, status, _seq, changed in cursor:
            if sqlite:
                changed = datetime.fromisoformat(changed)
            if status == "waitlisted":
                position += 1
                pos = position
            else:
                pos = ""
            writer.writerow([
                "'" + number if number[:1] in STARTS else number,
                "'" + name if name[:1] in STARTS else name,
                "'" + email if email[:1] in STARTS else email,
                "'" + program if program[:1] in STARTS else program,
                status, pos, changed.isoformat(timespec="seconds") + "Z",
            ])
        cursor.close()
        return out.getvalue().encode("utf-8")
    finally:
        raw.close()


def web_export(client, course_id: int) -> bytes:
    response = client.get(f"/reports/courses/{course_id}/roster.csv")
    assert response.status_code == 200, response.status_code
    return response.get_data()


def web_stream(client, course_id: int) -> int:
    """Read the streamed response piece by piece, as a browser download does; bytes read."""
    response = client.get(f"/reports/courses/{course_id}/roster.csv", buffered=False)
    size = sum(len(piece) for piece in response.response)
    response.close()
    return size


def timed(fn) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds of this process) of one call."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def peak_memory(fn) -> int:
    gc.collect()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def run(url: str, label: str, args) -> float:
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                      "WTF_CSRF_ENABLED": False, "FIXED_NOW": NOW})
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        course_id, staff_login = build(args.students)
        print(f"[{label}] built {args.students} enrollments in "
              f"{time.perf_counter() - started:.1f}s")
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = staff_login
            session["_fresh"] = True
        ours, theirs = web_export(client, course_id), hand_written(course_id)
        if ours != theirs:
            raise SystemExit(f"[{label}] the two versions differ: the benchmark is not fair")
        lines = ours.count(b"\r\n") - 1
        # Interleave the runs so that both see the same machine load; the best run of each is
        # the least disturbed by other processes.
        ours_runs, hand_runs = [], []
        for _ in range(args.repeat):
            ours_runs.append(timed(lambda: web_export(client, course_id)))
            hand_runs.append(timed(lambda: hand_written(course_id)))
        best_ours, best_hand = min(w for w, _ in ours_runs), min(w for w, _ in hand_runs)
        ratio = best_ours / best_hand
        cpu_ratio = min(c for _, c in ours_runs) / max(min(c for _, c in hand_runs), 1e-9)
        ours_times, hand_times = [w for w, _ in ours_runs], [w for w, _ in hand_runs]
        mem_ours = peak_memory(lambda: web_stream(client, course_id))
        mem_hand = peak_memory(lambda: hand_written(course_id))
        print(f"[{label}] {lines} rows, {len(ours) / 1024:.0f} KiB, best of {args.repeat}: "
              f"web export {best_ours * 1000:.1f} ms (median "
              f"{statistics.median(ours_times) * 1000:.1f}), hand-written "
              f"{best_hand * 1000:.1f} ms (median {statistics.median(hand_times) * 1000:.1f}); "
              f"ratio {ratio:.2f}x (limit {args.max_ratio}x); CPU time of this process "
              f"ratio {cpu_ratio:.2f}x")
        print(f"[{label}] peak Python memory: web export read as a stream "
              f"{mem_ours / 1024:.0f} KiB, hand-written (whole file in memory) "
              f"{mem_hand / 1024:.0f} KiB")
        db.session.remove()
        db.engine.dispose()
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=25)
    parser.add_argument("--max-ratio", type=float, default=1.5)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    ratios = {}
    with tempfile.TemporaryDirectory() as tmp:
        ratios["sqlite"] = run(f"sqlite:///{os.path.join(tmp, 'bench.sqlite3')}", "sqlite", args)
    if not args.no_postgres:
        server = sa.make_url(os.environ.get("BENCH_POSTGRES_URL", DEFAULT_PG))
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        name = f"enrollment_bench_{uuid.uuid4().hex[:8]}"
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        except sa.exc.OperationalError as exc:
            print(f"[postgresql] skipped: not reachable ({str(exc.orig).strip().splitlines()[0]})")
        else:
            try:
                url = server.set(database=name).render_as_string(hide_password=False)
                ratios["postgresql"] = run(url, "postgresql", args)
            finally:
                with admin.connect() as conn:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    over = {k: r for k, r in ratios.items() if r > args.max_ratio}
    if over:
        print("FAIL: over the limit: " + ", ".join(f"{k} {r:.2f}x" for k, r in over.items()))
        return 1
    print("OK: " + ", ".join(f"{k} {r:.2f}x" for k, r in ratios.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
