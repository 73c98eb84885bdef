"""Every page a student, instructor or staff member reads runs the same SQL statements at two
school sizes: nothing is loaded per row (lists and exports forbid lazy loads)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from enrollment.cli import demo_catalog
from enrollment.cli.seed import seed_demo
from enrollment.extensions import db
from enrollment.models import Course, Enrollment, Status, Student, User
from tests.test_concurrency_http import session_cookie

pytestmark = pytest.mark.slow

PAGES = [
    ("student", "/courses"),
    ("student", "/courses?q=intro"),
    ("student", "/courses?page=2"),
    ("student", "/courses/{course}"),
    ("student", "/me/schedule"),
    ("student", "/me/notifications"),
    ("instructor", "/teach/"),
    ("instructor", "/teach/courses/{taught}"),
    ("staff", "/reports/"),
    ("staff", "/reports/enrollment"),
    ("staff", "/reports/enrollment.csv"),
    ("staff", "/reports/courses/{course}/roster"),
    ("staff", "/reports/courses/{course}/roster.csv"),
    ("staff", "/reports/courses/{course}/roster.xlsx"),
    ("staff", "/reports/students/{student}"),
    ("staff", "/admin/"),
    ("staff", "/admin/course/"),
    ("staff", "/admin/student/"),
    ("staff", "/admin/enrollment/"),
    ("staff", "/admin/audit/"),
    ("staff", "/admin/hold/"),
    ("staff", "/admin/reservation/"),
    ("staff", "/admin/term/"),
    ("staff", "/admin/department/"),
    ("staff", "/admin/user/"),
    ("staff", "/admin/outbox/"),
    ("staff", "/admin/course/roster/?id={course}"),
    ("staff", "/admin/enrollment/export/csv/"),
    ("staff", "/admin/course/export/csv/"),
    ("staff", "/admin/student/export/csv/"),
]


def statements_per_page(app, count_queries, *, students: int, courses: int) -> dict[str, int]:
    result = app.test_cli_runner().invoke(seed_demo, ["--students", str(students),
                                                      "--courses", str(courses)])
    assert result.exit_code == 0, result.output
    logins = {"student": demo_catalog.DEMO_STUDENTS[0][0],
              "instructor": demo_catalog.DEMO_INSTRUCTORS[0][0],
              "staff": demo_catalog.STAFF_LOGIN[0]}
    cookies = {role: session_cookie(app, db.session.scalar(
        sa.select(User).where(User.email == email)).get_id()).split("=", 1)[1]
        for role, email in logins.items()}
    ids = {
        # The course with the most enrolled students, one the instructor teaches, a student.
        "course": db.session.execute(
            sa.select(Enrollment.course_id).where(Enrollment.status == Status.ENROLLED)
            .group_by(Enrollment.course_id).order_by(sa.func.count().desc()).limit(1)).scalar(),
        "taught": db.session.scalar(sa.select(Course.id).join(Course.instructor_user).where(
            User.email == logins["instructor"]).limit(1)),
        "student": db.session.scalar(sa.select(Student.id).order_by(Student.id.desc()).limit(1)),
    }
    db.session.remove()
    counts = {}
    for role, page in PAGES:
        url = page.format(**ids)
        client = app.test_client()
        client.set_cookie("session", cookies[role])
        client.get(url)  # once to warm up what is cached per process
        db.session.remove()
        with count_queries() as counted:
            response = client.get(url)
            response.get_data()
        assert response.status_code == 200, (url, response.status_code)
        db.session.remove()
        counts[page] = counted.count
    return counts


def test_every_page_runs_the_same_statements_at_two_sizes(make_app, count_queries):
    small = statements_per_page(make_app(), count_queries, students=60, courses=60)
    large = statements_per_page(make_app(), count_queries, students=500, courses=150)
    assert large == small
