"""The catalog as a student reads it: search as people type it, each row with the viewer's
own status, and the term's state instead of seats that cannot be taken."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from enrollment.extensions import db
from tests.web_helpers import complete, enroll, text


def codes(client, q: str) -> list[str]:
    html = client.get("/courses", query_string={"q": q}).text
    return re.findall(r'<span class="course-code">([^<]+)</span>', html)


@pytest.mark.parametrize("q, found", [
    ("math 151", ["MATH151"]), ("MATH151", ["MATH151"]), ("Math151", ["MATH151"]),
    ("m a t h 1 5 1", ["MATH151"]), ("intro programming", ["CS101"]),
    ("PROGRAMMING intro", ["CS101"]), ("151", ["MATH151"]), ("math 999", []),
    ("50%", []), ("cs 1", ["CS101"]), ("calculus", ["MATH151"]),
])
def test_search_ignores_case_and_spaces_and_matches_title_words(client, make_course, q,
                                                                found):
    make_course(code="MATH151", title="Calculus I")
    make_course(code="CS101", title="Introduction to Programming")
    db.session.commit()
    assert codes(client, q) == found


def test_rows_show_the_viewers_own_status(client, login, make_course, make_student, make_term):
    term = make_term()
    mine = make_course(term=term, code="CS101")
    waiting = make_course(term=term, code="CS102", capacity=1)
    past = make_course(term=make_term(enrollment_opens=datetime(2026, 1, 1, tzinfo=UTC),
                                      enrollment_closes=datetime(2026, 1, 31, tzinfo=UTC),
                                      drop_deadline=datetime(2026, 2, 1, tzinfo=UTC),
                                      classes_start=date(2026, 2, 1),
                                      classes_end=date(2026, 5, 1)), code="CS100")
    make_course(term=term, code="CS103")
    student = make_student()
    enroll(make_student(), waiting)
    enroll(make_student(), waiting)
    enroll(student, mine)
    enroll(student, waiting)
    complete(student, past, "A-")
    db.session.commit()
    assert "viewer-badge" not in client.get("/courses").text  # anonymous: nothing of theirs
    login(student.user)
    html = client.get("/courses").text
    rows = dict(zip(["CS101", "CS102", "CS103", "CS100"], [
        text(html.split(f'<span class="course-code">{code}</span>', 1)[1].split(
            "course-row", 1)[0]) for code in ("CS101", "CS102", "CS103", "CS100")], strict=True))
    assert "Enrolled" in rows["CS101"]
    assert "Waitlisted #2" in rows["CS102"]
    assert "Completed (A-)" in rows["CS100"]
    assert "Enrolled" not in rows["CS103"] and "Waitlisted" not in rows["CS103"]


def test_a_closed_or_not_yet_open_term_says_so_instead_of_seats(client, make_course, make_term):
    closed = make_term(enrollment_opens=datetime(2026, 9, 1, tzinfo=UTC),
                       enrollment_closes=datetime(2026, 9, 30, tzinfo=UTC))
    later = make_term(enrollment_opens=datetime(2027, 3, 1, tzinfo=UTC),
                      enrollment_closes=datetime(2027, 3, 31, tzinfo=UTC),
                      drop_deadline=datetime(2027, 4, 15, tzinfo=UTC))
    make_course(term=closed, code="OLD100", capacity=30)
    make_course(term=later, code="NEW100", capacity=30)
    db.session.commit()
    shown = text(client.get("/courses").text)
    assert "Enrollment closed" in shown
    assert "Opens 01 Mar 2027" in shown
    assert "30 of 30 left" not in shown  # the closed term's row is no longer green
