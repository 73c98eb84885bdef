"""The enroll and drop requests run a fixed, small number of SQL statements, whatever the data:
the user and student in one query, the course once (locked), the seats and the facts of every
rule in one query each, and the writes (registration day depends on it)."""
from __future__ import annotations

from datetime import timedelta

from enrollment import services
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import Appointment
from enrollment.services.reservations import set_reservation
from tests.factories import NOW, at
from tests.web_helpers import complete, enroll

ENROLL_AT_MOST = 6


def school(make_term, make_course, make_student, *, size: int):
    """A course with prerequisites (passed), a student with `size` other courses in the term
    and completions, a non-blocking hold, an appointment already open, and a reservation; the
    course has `size` students enrolled."""
    past, term = make_term(code=f"PAST{size}"), make_term()
    course = make_course(term=term, capacity=2 * size + 2, waitlist_capacity=size,
                         days="MWF", start_time=at("09:00"), end_time=at("09:50"))
    for n in range(2):
        required = make_course(term=past, code=f"REQ{size}{n}")
        course.prerequisites.append(required)
    student = make_student(max_credits=200, program="History")
    for required in course.prerequisites:
        complete(student, required)
    for n in range(size):
        other = make_course(term=term, credits=1, days="TR", start_time=at(f"{7 + n:02d}:00"),
                            end_time=at(f"{7 + n:02d}:50"))
        enroll(student, other, staff=True)
        enroll(make_student(), course, staff=True)
    with write_transaction(db.session):
        services.place_hold(student, "Library", reason="Overdue book", blocks_registration=False,
                            actor=None, now=NOW)
        set_reservation(course, "Physics", 1, NOW + timedelta(days=3), actor=None, now=NOW)
    db.session.add(Appointment(term_id=term.id, student_id=student.id,
                               opens_at=NOW - timedelta(hours=1)))
    db.session.commit()
    return course, student


def test_enroll_and_drop_statements_do_not_grow(client, login, make_term, make_course,
                                                make_student, count_queries):
    counts = []
    for size in (1, 12):
        course, student = school(make_term, make_course, make_student, size=size)
        course_id, user = course.id, student.user
        login(user)
        db.session.remove()  # the request starts from nothing, as in production
        with count_queries() as enrolled:
            response = client.post(f"/courses/{course_id}/enroll")
        assert response.status_code == 303
        assert "You are enrolled" in client.get(response.headers["Location"]).text
        db.session.remove()
        with count_queries() as dropped:
            assert client.post(f"/courses/{course_id}/drop").status_code == 303
        assert enrolled.count <= ENROLL_AT_MOST, enrolled.statements
        counts.append((enrolled.count, dropped.count))
    assert counts[0] == counts[1]


def test_joining_the_waitlist_counts_no_more(client, login, make_course, make_student,
                                             count_queries):
    course = make_course(capacity=1, waitlist_capacity=3)
    enroll(make_student(), course)
    enroll(make_student(), course)
    student = make_student()
    db.session.commit()
    course_id = course.id
    login(student.user)
    db.session.remove()
    with count_queries() as q:
        response = client.post(f"/courses/{course_id}/enroll")
    assert response.status_code == 303
    assert q.count <= ENROLL_AT_MOST, q.statements
    assert "position 2" in client.get(response.headers["Location"]).text
