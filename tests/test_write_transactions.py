"""Write transactions: nothing committed outside the lock, and concurrent writers queue.

`write_transaction` refuses to start over unflushed changes (they would be committed before
the lock is taken). On SQLite every transaction of a request that may write begins
immediately, so writers other than the rules engine (an admin save, a registration) wait
their turn instead of failing with "database is locked".
"""
from concurrent.futures import ThreadPoolExecutor
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, build_opener

import pytest
from sqlalchemy import func, select

from enrollment import services
from enrollment.database import PendingChanges, write_transaction
from enrollment.extensions import db
from enrollment.models import Department, Enrollment, EnrollmentEvent
from tests.factories import NOW, make_course, make_staff, make_student
from tests.test_concurrency_http import NoRedirect, session_cookie


def test_unflushed_changes_are_refused_before_anything_is_committed(app, make_course,
                                                                    make_student):
    course, student = make_course(), make_student()
    db.session.commit()
    course.title = "Renamed outside the transaction"
    with pytest.raises(PendingChanges), write_transaction(db.session):
        services.enroll(student, course, actor=None, now=NOW)
    db.session.rollback()
    assert db.session.get(type(course), course.id).title != "Renamed outside the transaction"
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 0
    assert db.session.scalar(select(func.count()).select_from(EnrollmentEvent)) == 0


def test_a_new_object_is_pending_too(app, make_student):
    db.session.add(Department(code="NEW", name="Not flushed"))
    with pytest.raises(PendingChanges), write_transaction(db.session):
        pass
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Department)) == 0


def test_flushed_changes_and_untouched_objects_are_fine(app, make_course, make_student):
    course, student = make_course(), make_student()  # flushed by the factories
    course.title = course.title  # the same value: not a change
    with write_transaction(db.session):
        services.enroll(student, course, actor=None, now=NOW)
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 1


ADMIN_WRITES = 40
ENROLLS = 40


@pytest.mark.sqlite_file
@pytest.mark.slow
@pytest.mark.config(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 16, "max_overflow": 8},
                    WTF_CSRF_ENABLED=False)
def test_admin_saves_and_enrolls_at_once_all_succeed(app, live_server):
    """Admin creates (Flask-Admin's own save) race enroll requests: every one succeeds."""
    staff = make_staff(email="racer@example.edu")
    course = make_course(capacity=ENROLLS, waitlist_capacity=0)
    students = [make_student() for _ in range(ENROLLS)]
    staff_cookie = session_cookie(app, staff.get_id())
    student_cookies = [session_cookie(app, s.user.get_id()) for s in students]
    course_id = course.id
    db.session.commit()
    opener = build_opener(NoRedirect)

    def post(path, cookie, form=None):
        request = Request(f"{live_server}{path}", data=urlencode(form or {}).encode(),
                          method="POST", headers={"Cookie": cookie})
        try:
            with opener.open(request, timeout=60) as response:
                return response.status
        except HTTPError as exc:  # redirects arrive as HTTPError without a handler
            return exc.code

    jobs = []
    for n in range(max(ADMIN_WRITES, ENROLLS)):
        if n < ADMIN_WRITES:
            jobs.append(("/admin/department/new/", staff_cookie,
                         {"code": f"RACE{n}", "name": f"Race department {n}"}))
        if n < ENROLLS:
            jobs.append((f"/courses/{course_id}/enroll", student_cookies[n], None))
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda job: post(*job), jobs))

    # A refused admin save renders the form again (200) with "database is locked".
    assert statuses.count(302) == ADMIN_WRITES and statuses.count(303) == ENROLLS, statuses
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Department)
                             .where(Department.code.like("RACE%"))) == ADMIN_WRITES
    assert db.session.scalar(select(func.count()).select_from(Enrollment)
                             .where(Enrollment.course_id == course_id)) == ENROLLS
