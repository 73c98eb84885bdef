"""Registration day: enroll and drop over HTTP against the floor, side by side in one run.

Seeds a school of distinct logged-in students (their session cookies and CSRF tokens made
with the server's key), serves the product with gunicorn (sync workers) and the floor
(`benchmarks/floor.py`: the same session cookie, a locked count and two inserts in raw SQL,
nothing else) with the same settings on the same database, and drives each with wrk: every
request a different student posting enroll (then drop) with the session and CSRF checks on.
Prints throughput and p99 latency beside the floor's, as ratios.

    .venv/bin/python benchmarks/registration_day.py [--backend postgresql] [--workers 4]
"""
from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from flask import g, session  # noqa: E402
from flask_wtf.csrf import generate_csrf  # noqa: E402

from benchmarks.enroll import make_database  # noqa: E402
from enrollment import create_app  # noqa: E402
from enrollment.extensions import db  # noqa: E402
from enrollment.models import Course, Enrollment, EnrollmentEvent, Student, User  # noqa: E402
from tests import factories  # noqa: E402

THREADS = 2


@dataclass
class Figure:
    name: str
    requests_per_s: float
    p99_ms: float
    errors: int
    links: int | None = None  # enrollments in the database after an enroll phase


def seed(n_students: int, n_courses: int) -> list[int]:
    """A term open now, courses without meeting times (no conflicts), students who may take
    every course; Core inserts. Returns the course ids."""
    term = factories.make_term()
    dept = factories.make_department()
    courses = [Course(term=term, department=dept, code=f"B{i:04d}", title=f"Bench {i}",
                      credits=1, capacity=n_students, waitlist_capacity=0)
               for i in range(n_courses)]
    db.session.add_all(courses)
    db.session.commit()
    now = factories.NOW
    for start in range(1, n_students + 1, 10_000):
        ids = range(start, min(start + 10_000, n_students + 1))
        db.session.execute(sa.insert(User), [
            {"id": i, "email": f"s{i}@bench.example.edu", "name": f"Student {i}",
             "password_hash": "x", "role": "student", "active": True, "created_at": now,
             "session_token": f"t{i}"} for i in ids])
        db.session.execute(sa.insert(Student), [
            {"id": i, "user_id": i, "student_number": f"B{i:07d}", "program": "Bench",
             "max_credits": n_courses + 1} for i in ids])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        for table in ("users", "students"):
            db.session.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {n_students})"))
        db.session.commit()
    return [c.id for c in courses]


def credentials(app, n_students: int) -> list[tuple[str, str]]:
    """(Cookie header, CSRF token) per student, signed as the server signs them."""
    serializer = app.session_interface.get_signing_serializer(app)
    name = app.config["SESSION_COOKIE_NAME"]
    found = []
    with app.test_request_context():
        for i in range(1, n_students + 1):
            session.clear()
            session["_user_id"], session["_fresh"] = f"{i}:t{i}", True
            token = generate_csrf()
            found.append((f"{name}={serializer.dumps(dict(session))}", token))
            g.pop("csrf_token", None)  # generate_csrf keeps one per request
    return found


def write_lines(path: Path, rows) -> None:
    path.write_text("".join(f"{p}\t{c}\t{b}\n" for p, c, b in rows))


class Server:
    def __init__(self, app_spec: str, env: dict, workers: int, log: Path):
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", app_spec, "--bind", "127.0.0.1:0",
             "--workers", str(workers), "--worker-class", "sync", "--chdir", str(ROOT),
             "--error-logfile", "-", "--no-control-socket"],
            env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            match = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", log.read_text())
            if match and log.read_text().count("Booting worker") >= workers:
                self.url = match[1]
                time.sleep(1.0)
                return
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not start:\n{log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)


def wrk(url: str, lines: Path, *, seconds: int, connections: int) -> tuple[float, float, int]:
    env = {**os.environ, "BENCH_LINES": str(lines), "BENCH_THREADS": str(THREADS)}
    out = subprocess.run(
        ["wrk", f"-t{THREADS}", f"-c{connections}", f"-d{seconds}s", "--latency",
         "-s", str(ROOT / "benchmarks" / "requests.lua"), url],
        env=env, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       out)
    failed = (int(errors[1]) if errors else 0) + (sum(map(int, socket.groups())) if socket
                                                  else 0)
    return rps, p99, failed


def clear() -> None:
    with db.engine.begin() as conn:
        conn.execute(sa.delete(EnrollmentEvent))
        conn.execute(sa.delete(Enrollment))


def links() -> list[tuple[int, int]]:
    with db.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(
            sa.select(Enrollment.student_id, Enrollment.course_id))]


def run(args) -> list[tuple[Figure, Figure]]:
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        url, drop_database = make_database(args.backend, str(work))
        secret = secrets.token_hex(16)
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secret,
                          "CHECK_DATABASE": False})
        try:
            with app.app_context():
                db.create_all()
                course_ids = seed(args.students, args.courses)
                creds = credentials(app, args.students)
            env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
            env.update({"DATABASE_URL": url, "FLASK_SQLALCHEMY_DATABASE_URI": url,
                        "SECRET_KEY": secret, "FLASK_FIXED_NOW": factories.NOW.isoformat()})
            pairs = [(i + 1, course_ids[i % len(course_ids)]) for i in range(args.students)]
            results, enrolled = [], {}
            for action in ("enroll", "drop"):
                figures = {}
                for name, spec, prefix in (("floor", "benchmarks.floor:create_app()", "/floor"),
                                           ("product", "enrollment:create_app()", "/courses")):
                    with app.app_context():
                        if action == "enroll":
                            clear()
                            todo = pairs
                        else:  # drop what the enroll phase of the same server enrolled
                            todo = enrolled[name]
                    lines = work / f"{name}-{action}.txt"
                    write_lines(lines, [(f"{prefix}/{c}/{action}", creds[s - 1][0],
                                         f"csrf_token={creds[s - 1][1]}") for s, c in todo])
                    server = Server(spec, env, args.workers, work / f"{name}.log")
                    try:
                        rps, p99, failed = wrk(server.url, lines, seconds=args.seconds,
                                               connections=args.connections)
                    finally:
                        server.stop()
                    figures[name] = Figure(f"{action} ({name})", rps, p99, failed)
                    if action == "enroll":
                        with app.app_context():
                            enrolled[name] = links()
                        figures[name].links = len(enrolled[name])
                results.append((figures["product"], figures["floor"]))
            with app.app_context():
                db.engine.dispose()
        finally:
            drop_database()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--courses", type=int, default=2_000)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is needed (apt-get install wrk)", file=sys.stderr)
        return 2
    for product, floor in run(args):
        print(f"{args.backend:10} {args.workers} workers  {product.name:18} "
              f"{product.requests_per_s:7.0f}/s vs {floor.requests_per_s:7.0f}/s "
              f"= {product.requests_per_s / floor.requests_per_s:5.0%}   "
              f"p99 {product.p99_ms:6.1f} ms vs {floor.p99_ms:6.1f} ms "
              f"= {product.p99_ms / floor.p99_ms:4.1f}x   "
              f"failed {product.errors}/{floor.errors}"
              + (f"   enrolled {product.links}/{floor.links}" if product.links is not None
                 else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
