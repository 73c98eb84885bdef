"""The whole stack under a race: parallel HTTP enroll requests to a real threaded server.

Each request loads the user through Flask-Login (a read transaction) before the view runs; the
view's write_transaction must still lock from its start, so the course is never overbooked.
"""
from concurrent.futures import ThreadPoolExecutor
from urllib.error import HTTPError
from urllib.request import HTTPRedirectHandler, Request, build_opener

import pytest
from sqlalchemy import func, select

from enrollment.extensions import db
from enrollment.models import Enrollment, EnrollmentEvent, Status
from tests.factories import make_course, make_student

pytestmark = [pytest.mark.sqlite_file, pytest.mark.slow,
              pytest.mark.config(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 24, "max_overflow": 8})]

REQUESTS = 100
WORKERS = 16
CAPACITY = 10


class NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def session_cookie(app, user_id: str) -> str:
    serializer = app.session_interface.get_signing_serializer(app)
    value = serializer.dumps({"_user_id": user_id, "_fresh": True})
    return f"{app.config['SESSION_COOKIE_NAME']}={value}"


def test_parallel_http_enrolls_respect_capacity(app, live_server):
    course = make_course(capacity=CAPACITY, waitlist_capacity=REQUESTS)
    students = [make_student() for _ in range(REQUESTS)]
    cookies = [session_cookie(app, s.user.get_id()) for s in students]
    course_id = course.id
    db.session.commit()
    opener = build_opener(NoRedirect)

    def post(cookie):
        request = Request(f"{live_server}/courses/{course_id}/enroll", data=b"",
                          method="POST", headers={"Cookie": cookie})
        try:
            with opener.open(request, timeout=60) as response:
                return response.status
        except HTTPError as exc:  # the 303 redirect arrives as an HTTPError without a handler
            return exc.code

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        statuses = list(pool.map(post, cookies))

    assert statuses == [303] * REQUESTS
    db.session.rollback()
    counts = dict(db.session.execute(
        select(Enrollment.status, func.count()).where(Enrollment.course_id == course_id)
        .group_by(Enrollment.status)).all())
    assert counts == {Status.ENROLLED: CAPACITY, Status.WAITLISTED: REQUESTS - CAPACITY}
    assert db.session.scalar(select(func.count()).select_from(EnrollmentEvent)) == REQUESTS
