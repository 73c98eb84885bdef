"""Every student, instructor and staff page at full size, beside a bare endpoint.

Seeds the full-size demo school (`flask seed-demo`, timed: it should stay under a minute)
into a fresh SQLite file, then requests each page in-process as the demo account that sees
it and prints its median requests per second, its ratio to a bare endpoint that renders the
same layout without touching the database (goal: every page at least 5 % of it), and the SQL
statements it runs. The statistics page is also set beside the catalog (goal: at least 25 %).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sqlalchemy as sa  # noqa: E402
from flask import render_template_string  # noqa: E402

from enrollment import create_app  # noqa: E402
from enrollment.cli import demo_catalog  # noqa: E402
from enrollment.extensions import db  # noqa: E402
from enrollment.models import Course, Enrollment, Status, Student, User  # noqa: E402
from tests.test_concurrency_http import session_cookie  # noqa: E402

BARE = """{% extends "base.html" %}{% block content %}<table>{% for i in range(25) %}
<tr><td>{{ i }}</td><td>Course {{ i }}</td></tr>{% endfor %}</table>{% endblock %}"""


def timed(client, url: str, n: int) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url)
        response.get_data()
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times)


def statements(app, client, url: str) -> int:
    seen = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args: seen.append(1)  # noqa: E731
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        client.get(url).get_data()
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    return len(seen)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--courses", type=int, default=2_000)
    parser.add_argument("--requests", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        app = create_app({"SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir}/bench.sqlite3"})
        app.add_url_rule("/bare", "bare", lambda: render_template_string(BARE))
        with app.app_context():
            db.create_all()
        started = time.perf_counter()
        seeded = app.test_cli_runner().invoke(args=["seed-demo", "--students", str(args.students),
                                                    "--courses", str(args.courses)])
        assert seeded.exit_code == 0, seeded.output
        print(f"seed-demo --students {args.students} --courses {args.courses}: "
              f"{time.perf_counter() - started:.1f} s")
        with app.app_context():
            def login(email):
                user = db.session.scalar(sa.select(User).where(User.email == email))
                return session_cookie(app, user.get_id()).split("=", 1)[1]

            student = login(demo_catalog.DEMO_STUDENTS[0][0])
            instructor_email = demo_catalog.DEMO_INSTRUCTORS[0][0]
            instructor = login(instructor_email)
            staff = login(demo_catalog.STAFF_LOGIN[0])
            # The biggest roster of the current term, and a course the instructor teaches.
            biggest = db.session.execute(
                sa.select(Enrollment.course_id, sa.func.count())
                .where(Enrollment.status == Status.ENROLLED).group_by(Enrollment.course_id)
                .order_by(sa.func.count().desc()).limit(1)).first()
            taught = db.session.scalar(sa.select(Course.id).join(Course.instructor_user)
                                       .where(User.email == instructor_email).limit(1))
            some_student = db.session.scalar(sa.select(Student.id).limit(1))
        course = biggest[0]
        pages = [
            ("anonymous", None, "/bare"),
            ("student", student, "/courses"),
            ("student", student, "/courses?q=intro"),
            ("student", student, "/courses?page=40"),
            ("student", student, f"/courses/{course}"),
            ("student", student, "/me/schedule"),
            ("student", student, "/me/notifications"),
            ("instructor", instructor, "/teach/"),
            ("instructor", instructor, f"/teach/courses/{taught}"),
            ("staff", staff, "/reports/"),
            ("staff", staff, "/reports/enrollment"),
            ("staff", staff, f"/reports/courses/{course}/roster"),
            ("staff", staff, f"/reports/courses/{course}/roster.csv"),
            ("staff", staff, f"/reports/students/{some_student}"),
            ("staff", staff, "/admin/"),
            ("staff", staff, "/admin/course/"),
            ("staff", staff, "/admin/student/"),
            ("staff", staff, "/admin/enrollment/"),
            ("staff", staff, f"/admin/course/roster/?id={course}"),
        ]
        print(f"{args.students} students, {args.courses} courses; median of {args.requests} "
              f"requests; biggest roster {biggest[1]} students")
        bare = None
        seconds = {}
        for who, cookie, url in pages:
            client = app.test_client()
            if cookie:
                client.set_cookie("session", cookie)
            timed(client, url, 2)  # warm up
            t = timed(client, url, args.requests)
            seconds[url] = t
            count = statements(app, client, url)
            if bare is None:
                bare = t
                print(f"{'bare endpoint (layout, no queries)':44s} {1 / t:7.0f} req/s")
                continue
            share = bare / t
            print(f"{who:10s} {url:33s} {1 / t:7.1f} req/s  {share:6.1%} of bare "
                  f"{'ok ' if share >= 0.05 else 'LOW'}  {count:3d} statements")
        stats = seconds["/courses"] / seconds["/reports/enrollment"]
        print(f"statistics page vs catalog: {stats:.0%} (goal 25%) "
              f"{'ok' if stats >= 0.25 else 'LOW'}")
        with app.app_context():
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
