"""enroll_many: the same decisions as one-by-one enroll, in a fixed number of queries."""
import pytest

from enrollment import services
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import Action, Enrollment, Source, Status
from enrollment.services import EnrollmentRefused, Override
from tests.factories import NOW, at


def batch(pairs, **kw):
    kw.setdefault("source", Source.IMPORT)
    with write_transaction(db.session):
        return services.enroll_many(pairs, actor=None, now=NOW, **kw)


def test_batch_fills_seats_then_waitlist_then_refuses(make_course, make_student):
    course = make_course(capacity=2, waitlist_capacity=1)
    students = [make_student() for _ in range(4)]
    results = batch([(s, course) for s in students])
    assert [r.status for r in results[:3]] == [Status.ENROLLED, Status.ENROLLED,
                                               Status.WAITLISTED]
    assert isinstance(results[3], EnrollmentRefused) and results[3].code == "course_full"
    assert results[2].waitlist_seq == 1
    history = services.history_for_course(course)
    assert [e.action for e in history] == [Action.IMPORTED] * 3


def test_batch_sees_its_own_earlier_rows(make_course, make_term, make_student):
    term = make_term()
    a = make_course(term=term, days="M", start_time=at("09:00"), end_time=at("10:00"))
    b = make_course(term=term, days="M", start_time=at("09:30"), end_time=at("10:30"))
    student = make_student(max_credits=3)
    other = make_student()
    results = batch([(student, a), (student, b), (student, a), (other, a)])
    assert results[0].status == Status.ENROLLED
    assert {r.code for r in results[1].reasons} == {"time_conflict", "credit_limit"}
    assert results[2].code == "already_enrolled"
    assert results[3].status == Status.ENROLLED


def test_batch_checks_prerequisites_for_staff(make_course, make_term, make_student,
                                              make_staff):
    term = make_term()
    intro = make_course(term=term, code="CS101")
    advanced = make_course(term=term, code="CS201")
    advanced.prerequisites.append(intro)
    ready, not_ready = make_student(), make_student()
    with write_transaction(db.session):
        services.complete(ready, intro, "A", actor=None, now=NOW)
    results = batch([(ready, advanced), (not_ready, advanced)], source=Source.STAFF)
    assert results[0].status == Status.ENROLLED
    assert results[1].code == "missing_prerequisite" and "CS101" in results[1].message
    results = batch([(not_ready, advanced)], source=Source.STAFF,
                    override={Override.PREREQUISITES}, reason="Equivalent course elsewhere")
    assert results[0].status == Status.ENROLLED


def test_batch_matches_one_by_one(make_course, make_term, make_student):
    """The same requests, one by one and as a batch, end in the same table."""
    def build():
        term = make_term()
        courses = [make_course(term=term, capacity=2, waitlist_capacity=2, credits=4,
                               days="MTWRF"[i], start_time=at("09:00"), end_time=at("10:00"))
                   for i in range(3)]
        students = [make_student(max_credits=8) for _ in range(6)]
        return [(s, c) for s in students for c in courses]

    def table(pairs):
        ids = {c.id for _, c in pairs}
        db.session.expire_all()
        rows = db.session.query(Enrollment).filter(Enrollment.course_id.in_(ids)).all()
        index = {c.id: i for i, c in enumerate(dict.fromkeys(c for _, c in pairs))}
        students = {s.id: i for i, s in enumerate(dict.fromkeys(s for s, _ in pairs))}
        return sorted((students[r.student_id], index[r.course_id], r.status, r.waitlist_seq)
                      for r in rows)

    one_by_one = build()
    for student, course in one_by_one:
        try:
            with write_transaction(db.session):
                services.enroll(student, course, actor=None, now=NOW, source=Source.IMPORT)
        except EnrollmentRefused:
            pass
    batched = build()
    batch(batched)
    assert table(one_by_one) == table(batched)


@pytest.mark.parametrize("size", [3, 30])
def test_batch_runs_a_fixed_number_of_queries(size, make_course, make_term, make_student,
                                              count_queries):
    term = make_term()
    courses = [make_course(term=term, capacity=size) for _ in range(3)]
    courses[1].prerequisites.append(courses[0])
    pairs = [(make_student(), courses[i % 3]) for i in range(size)]
    db.session.commit()
    with write_transaction(db.session), count_queries() as q:
        services.enroll_many(pairs, actor=None, now=NOW, source=Source.IMPORT)
    # lock (courses, and on PostgreSQL the students), seats, users, links, 2 x
    # prerequisites skipped for imports; inserts are batched
    assert q.count <= 9
