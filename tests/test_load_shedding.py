"""Load is shed, never crashed: a write that cannot get its lock within WRITE_WAIT_SECONDS
gets the busy page (503 with Retry-After) at once, and nothing is changed."""
from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from enrollment import create_app
from enrollment.extensions import db
from enrollment.models import Enrollment

pytestmark = [pytest.mark.sqlite_file, pytest.mark.config(WRITE_WAIT_SECONDS=0.5)]


def hold_the_lock(database_url, course_id):
    """Another writer in the middle of a long transaction on the course."""
    engine = sa.create_engine(database_url, poolclass=sa.NullPool,
                              isolation_level="AUTOCOMMIT")
    conn = engine.connect()
    if engine.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")
        conn.exec_driver_sql(f"SELECT id FROM courses WHERE id = {int(course_id)} FOR UPDATE")
    return engine, conn


def test_a_write_that_cannot_get_its_lock_in_time_gets_the_busy_page(
        app, client, login, make_course, make_student, database_url):
    course, student = make_course(), make_student()
    db.session.commit()
    course_id = course.id
    login(student.user)
    engine, holder = hold_the_lock(database_url, course_id)
    try:
        started = time.monotonic()
        response = client.post(f"/courses/{course_id}/enroll")
        waited = time.monotonic() - started
        json = client.post(f"/courses/{course_id}/enroll",
                           headers={"Accept": "application/json"})
    finally:
        holder.exec_driver_sql("ROLLBACK")
        holder.close()
        engine.dispose()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    page = response.get_data(as_text=True)
    assert "very busy" in page and "Nothing was changed" in page and "2 seconds" in page
    assert waited < 5  # bounded by WRITE_WAIT_SECONDS, not by a 30-second timeout
    assert json.status_code == 503 and json.get_json()["status"] == 503
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 0
    # The lock is free again: the same request now succeeds.
    assert client.post(f"/courses/{course_id}/enroll").status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 1


@pytest.mark.parametrize("value", ["soon", "0", "-1", "9999"])
def test_a_bad_wait_is_a_one_line_startup_error(value):
    with pytest.raises(SystemExit) as info:
        create_app({"TESTING": True, "SECRET_KEY": "x", "WRITE_WAIT_SECONDS": value,
                    "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert "WRITE_WAIT_SECONDS" in str(info.value.code) and "\n" not in str(info.value.code)
