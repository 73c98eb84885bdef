"""Waitlist offers (terms in offer mode): offer on a freed seat, accept, decline, expiry."""
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from enrollment import services
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import Action, Enrollment, EnrollmentEvent, Status, WaitlistMode
from enrollment.services import EnrollmentRefused, periodic
from tests.factories import NOW
from tests.web_helpers import flashes


def tx(fn, *args, **kw):
    kw.setdefault("now", NOW)
    kw.setdefault("actor", None)
    with write_transaction(db.session):
        return fn(*args, **kw)


def link_of(student, course):
    return db.session.get(Enrollment, (student.id, course.id), populate_existing=True)


def status(student, course):
    link = link_of(student, course)
    return link.status if link else None


def events(course):
    db.session.expire_all()
    return [(e.action, e.student_id, e.status_before, e.status_after)
            for e in services.history_for_course(course)]


@pytest.fixture
def offer_course(make_course, make_term):
    def _make(capacity=1, waitlist_capacity=5, hours=24, **kw):
        term = make_term(waitlist_mode=WaitlistMode.OFFER, offer_hours=hours)
        return make_course(term=term, capacity=capacity, waitlist_capacity=waitlist_capacity,
                           **kw)
    return _make


def full_with_waitlist(course, make_student, waiting=2):
    seated = make_student()
    tx(services.enroll, seated, course)
    others = [make_student() for _ in range(waiting)]
    for s in others:
        tx(services.enroll, s, course)
    return seated, others


def test_a_drop_in_offer_mode_offers_the_seat(offer_course, make_student):
    course = offer_course(hours=48)
    a, (w1, w2) = full_with_waitlist(course, make_student)
    result = tx(services.drop, a, course)
    assert result.promoted == [] and [li.student_id for li in result.offered] == [w1.id]
    link = link_of(w1, course)
    assert link.status == Status.OFFERED and link.waitlist_seq is None
    assert link.offer_expires_at == NOW + timedelta(hours=48)
    assert status(w2, course) == Status.WAITLISTED
    assert services.waitlist_position(link_of(w2, course)) == 1
    assert events(course)[-2:] == [
        (Action.DROPPED, a.id, Status.ENROLLED, None),
        (Action.OFFERED, w1.id, Status.WAITLISTED, Status.OFFERED)]


def test_auto_mode_promotes_as_before(make_course, make_student):
    course = make_course(capacity=1)
    a, (w1, _) = full_with_waitlist(course, make_student)
    result = tx(services.drop, a, course)
    assert [li.student_id for li in result.promoted] == [w1.id] and result.offered == []
    assert status(w1, course) == Status.ENROLLED
    assert link_of(w1, course).offer_expires_at is None


def test_an_offered_seat_counts_against_capacity(offer_course, make_student):
    course = offer_course()
    a, (w1,) = full_with_waitlist(course, make_student, waiting=1)
    tx(services.drop, a, course)
    seats = services.seat_count(course.id, now=NOW)
    assert (seats.enrolled, seats.offered, seats.taken, seats.waitlisted) == (0, 1, 1, 0)
    newcomer = make_student()
    assert tx(services.enroll, newcomer, course).status == Status.WAITLISTED
    assert status(w1, course) == Status.OFFERED


def test_accept_enrolls(offer_course, make_student):
    course = offer_course()
    a, (w1, w2) = full_with_waitlist(course, make_student)
    tx(services.drop, a, course)
    outcome = tx(services.accept_offer, w1, course, now=NOW + timedelta(hours=1))
    assert not outcome.expired and outcome.link.status == Status.ENROLLED
    link = link_of(w1, course)
    assert link.status == Status.ENROLLED and link.offer_expires_at is None
    assert status(w2, course) == Status.WAITLISTED
    assert events(course)[-1] == (Action.OFFER_ACCEPTED, w1.id, Status.OFFERED, Status.ENROLLED)


def test_accept_rechecks_conflicts_and_keeps_the_offer(offer_course, make_course, make_student):
    course = offer_course(days="MW", start_time=time(9), end_time=time(10))
    a, (w1,) = full_with_waitlist(course, make_student, waiting=1)
    tx(services.drop, a, course)
    clash = make_course(term=course.term, days="M", start_time=time(9, 30),
                        end_time=time(11))
    tx(services.enroll, w1, clash)
    with pytest.raises(EnrollmentRefused) as refused:
        tx(services.accept_offer, w1, course)
    assert refused.value.code == "time_conflict"
    assert status(w1, course) == Status.OFFERED


def test_accept_without_an_offer_is_refused(offer_course, make_student):
    course = offer_course()
    a, (w1,) = full_with_waitlist(course, make_student, waiting=1)
    for who in (a, w1):
        with pytest.raises(EnrollmentRefused) as refused:
            tx(services.accept_offer, who, course)
        assert refused.value.code == "not_offered"


def test_decline_offers_the_seat_to_the_next(offer_course, make_student):
    course = offer_course()
    a, (w1, w2) = full_with_waitlist(course, make_student)
    tx(services.drop, a, course)
    outcome = tx(services.decline_offer, w1, course)
    assert [li.student_id for li in outcome.offered] == [w2.id]
    assert status(w1, course) is None and status(w2, course) == Status.OFFERED
    assert events(course)[-2:] == [
        (Action.OFFER_DECLINED, w1.id, Status.OFFERED, None),
        (Action.OFFERED, w2.id, Status.WAITLISTED, Status.OFFERED)]
    # They may join again, at the end of the line.
    assert tx(services.enroll, w1, course).status == Status.WAITLISTED


def test_expiry_is_settled_by_the_next_change(offer_course, make_student):
    course = offer_course(hours=2)
    a, (w1, w2) = full_with_waitlist(course, make_student)
    tx(services.drop, a, course)
    later = NOW + timedelta(hours=2)  # exactly offer_hours later: expired
    newcomer = make_student()
    assert tx(services.enroll, newcomer, course, now=later).status == Status.WAITLISTED
    assert status(w1, course) is None and status(w2, course) == Status.OFFERED
    assert link_of(w2, course).offer_expires_at == later + timedelta(hours=2)
    assert events(course)[-3:] == [
        (Action.OFFER_EXPIRED, w1.id, Status.OFFERED, None),
        (Action.OFFERED, w2.id, Status.WAITLISTED, Status.OFFERED),
        (Action.WAITLISTED, newcomer.id, None, Status.WAITLISTED)]


def test_accepting_an_expired_offer_settles_it(offer_course, make_student):
    course = offer_course(hours=1)
    a, (w1, w2) = full_with_waitlist(course, make_student)
    tx(services.drop, a, course)
    outcome = tx(services.accept_offer, w1, course, now=NOW + timedelta(hours=3))
    assert outcome.expired and [li.student_id for li in outcome.offered] == [w2.id]
    assert status(w1, course) is None and status(w2, course) == Status.OFFERED


def test_flask_tick_settles_expired_offers(app, runner, offer_course, make_student):
    course = offer_course(hours=1)
    a, (w1, w2) = full_with_waitlist(course, make_student)
    tx(services.drop, a, course)
    db.session.commit()
    app.config["FIXED_NOW"] = (NOW + timedelta(minutes=30)).isoformat()
    result = runner.invoke(args=["tick"])
    assert "settle expired offers: 0 expired offers" in result.output
    app.config["FIXED_NOW"] = (NOW + timedelta(hours=1, minutes=5)).isoformat()
    result = runner.invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    assert "settle expired offers: 1 expired offer, 1 new offer, 0 promoted" in result.output
    assert status(w1, course) is None and status(w2, course) == Status.OFFERED
    assert periodic.courses_with_expired_offers(NOW + timedelta(hours=1, minutes=5)) == []


def test_skipped_students_keep_their_place(offer_course, make_course, make_student):
    course = offer_course(days="TR", start_time=time(9), end_time=time(10))
    a, (w1, w2) = full_with_waitlist(course, make_student)
    clash = make_course(term=course.term, days="T", start_time=time(9), end_time=time(10))
    tx(services.enroll, w1, clash)
    tx(services.drop, a, course)
    assert status(w1, course) == Status.WAITLISTED and status(w2, course) == Status.OFFERED
    skipped = [e for e in services.history_for_course(course) if e.action == Action.REFUSED]
    assert len(skipped) == 1 and skipped[0].student_id == w1.id
    assert skipped[0].reason.startswith("Skipped for an offer:")
    assert (skipped[0].status_before, skipped[0].status_after) == (Status.WAITLISTED,) * 2


def test_a_capacity_raise_offers_seats(offer_course, make_student):
    course = offer_course()
    _, (w1, w2) = full_with_waitlist(course, make_student)
    result = tx(services.set_capacity, course, 3)
    assert {li.student_id for li in result.offered} == {w1.id, w2.id}
    assert services.seat_count(course.id, now=NOW).offered == 2


def test_the_audit_rebuilds_the_table(offer_course, make_student):
    course = offer_course(capacity=2, hours=1)
    seated = [make_student() for _ in range(2)]
    waiting = [make_student() for _ in range(3)]
    for s in seated + waiting:
        tx(services.enroll, s, course)
    tx(services.drop, seated[0], course)
    tx(services.decline_offer, waiting[0], course)
    tx(services.drop, seated[1], course, now=NOW + timedelta(minutes=5))
    tx(services.accept_offer, waiting[1], course, now=NOW + timedelta(minutes=10))
    periodic.settle_expired_offers(NOW + timedelta(hours=2))
    replayed = {}
    for e in services.history_for_course(course):
        assert replayed.get(e.student_id) == e.status_before, e
        replayed[e.student_id] = e.status_after
    table = {li.student_id: li.status for li in db.session.scalars(
        select(Enrollment).where(Enrollment.course_id == course.id))}
    assert {k: v for k, v in replayed.items() if v is not None} == table


# --- the web ------------------------------------------------------------------------------

def test_course_page_accept_and_decline(client, login, offer_course, make_student):
    course = offer_course()
    a, (w1, w2) = full_with_waitlist(course, make_student)
    tx(services.drop, a, course)
    db.session.commit()
    login(w1.user)
    page = client.get(f"/courses/{course.id}").text
    assert f'action="/courses/{course.id}/accept"' in page
    assert f'href="/courses/{course.id}/decline"' in page and "accept it by" in page
    confirm = client.get(f"/courses/{course.id}/decline")
    assert confirm.status_code == 200 and "Yes, decline the seat" in confirm.text
    assert "Offered — accept by" in client.get("/courses").text
    schedule = client.get("/me/schedule").text
    assert "Seats offered to you" in schedule and f"/courses/{course.id}/accept" in schedule
    response = client.post(f"/courses/{course.id}/accept")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/courses/{course.id}")
    assert "you are enrolled" in flashes(client.get(response.headers["Location"]))[0]
    assert status(w1, course) == Status.ENROLLED
    # Nothing offered any more: the decline is refused with a message, nothing changes.
    response = client.post(f"/courses/{course.id}/decline")
    assert response.status_code == 303
    assert "no seat offered" in flashes(client.get(response.headers["Location"]))[0]
    assert client.get(f"/courses/{course.id}/decline").status_code == 303


def test_web_decline(client, login, offer_course, make_student):
    course = offer_course()
    a, (w1, w2) = full_with_waitlist(course, make_student)
    tx(services.drop, a, course)
    db.session.commit()
    login(w1.user)
    response = client.post(f"/courses/{course.id}/decline")
    assert response.status_code == 303
    message = flashes(client.get(response.headers["Location"]))[0]
    assert "You declined the seat offered" in message and "next student" in message
    assert status(w1, course) is None and status(w2, course) == Status.OFFERED


def test_staff_see_offers_on_the_roster(client, login, make_staff, offer_course, make_student):
    course = offer_course()
    a, (w1, w2) = full_with_waitlist(course, make_student)
    tx(services.drop, a, course)
    db.session.commit()
    login(make_staff())
    editor = client.get(f"/admin/course/roster/?id={course.id}").text
    assert 'id="group-offered"' in editor
    assert editor.index('id="group-offered"') < editor.index('id="group-waitlisted"')
    report = client.get(f"/reports/courses/{course.id}/roster.csv").text.splitlines()
    rows = [line.split(",") for line in report[1:]]
    assert [r[4] for r in rows] == ["offered", "waitlisted"]
    assert rows[0][5] == "" and rows[1][5] == "1"


def test_terms_csv_waitlist_mode(runner, tmp_path):
    header = ("code,name,enrollment_opens,enrollment_closes,drop_deadline,waitlist_mode,"
              "offer_hours\n")
    bad = tmp_path / "bad.csv"
    bad.write_text(header + "T1,One,2027-01-01,2027-01-31,2027-02-15,sometimes,24\n"
                            "T2,Two,2027-01-01,2027-01-31,2027-02-15,offer,0\n")
    result = runner.invoke(args=["import-csv", "terms", str(bad)])
    assert result.exit_code == 1
    assert "line 2: waitlist_mode:" in result.output and "auto, offer" in result.output
    assert "line 3: offer_hours:" in result.output
    good = tmp_path / "good.csv"
    good.write_text(header + "T1,One,2027-01-01,2027-01-31,2027-02-15,OFFER,12\n"
                             "T2,Two,2027-01-01,2027-01-31,2027-02-15,,\n")
    result = runner.invoke(args=["import-csv", "terms", str(good)])
    assert result.exit_code == 0, result.output
    from enrollment.models import Term
    terms = {t.code: (t.waitlist_mode, t.offer_hours) for t in db.session.scalars(select(Term))}
    assert terms == {"T1": (WaitlistMode.OFFER, 12), "T2": (WaitlistMode.AUTO, 24)}
    assert db.session.scalar(select(func.count()).select_from(EnrollmentEvent)) == 0


def test_admin_term_form_sets_the_waitlist_mode(client, login, make_staff):
    from enrollment.models import Term
    login(make_staff())
    row = {"code": "2027FA", "name": "Fall 2027", "enrollment_opens": "2027-08-01 09:00",
           "enrollment_closes": "2027-08-31", "drop_deadline": "2027-09-15 17:00",
           "classes_start": "", "classes_end": "", "waitlist_mode": "offer", "offer_hours": "0"}
    refused = client.post("/admin/term/new/", data=row)
    assert refused.status_code == 200 and "must be between 1 and 336" in refused.text
    assert db.session.scalar(select(Term.id)) is None
    created = client.post("/admin/term/new/", data={**row, "offer_hours": "36"})
    assert created.status_code == 302
    term = db.session.scalar(select(Term))
    assert (term.waitlist_mode, term.offer_hours) == (WaitlistMode.OFFER, 36)
    form = client.get(f"/admin/term/edit/?id={term.id}").text
    assert '<option selected value="offer">' in form or 'value="offer" selected' in form


def test_reports_count_offered_seats_as_taken(client, login, make_staff, offer_course,
                                              make_student):
    from enrollment.catalog.forms import CourseFilter
    from enrollment.reports import queries as report_queries
    course = offer_course(capacity=2)
    seated = [make_student() for _ in range(2)]
    waiting = make_student()
    for s in [*seated, waiting]:
        tx(services.enroll, s, course)
    tx(services.drop, seated[0], course)
    stats = {s.id: s for s in report_queries.course_stats(CourseFilter())}
    stat = stats[course.id]
    assert (stat.enrolled, stat.offered, stat.waitlisted, stat.fill_rate) == (1, 1, 0, 1.0)
    db.session.commit()
    login(make_staff())
    page = client.get(f"/reports/courses/{course.id}/roster").text
    assert 'id="count-offered"' in page and "status-offered" in page


def test_enrolling_again_while_offered_says_so(client, login, offer_course, make_student):
    course = offer_course()
    a, (w1,) = full_with_waitlist(course, make_student, waiting=1)
    tx(services.drop, a, course)
    db.session.commit()
    login(w1.user)
    response = client.post(f"/courses/{course.id}/enroll")
    assert response.status_code == 303
    message = flashes(client.get(response.headers["Location"]))[0]
    assert "is held for you until" in message and "accept or decline" in message
    assert status(w1, course) == Status.OFFERED


def test_staff_withdraw_an_offer(offer_course, make_student, make_staff):
    course = offer_course()
    a, (w1, w2) = full_with_waitlist(course, make_student)
    tx(services.drop, a, course)
    staff = make_staff()
    course.term.drop_deadline = NOW + timedelta(minutes=30)
    db.session.commit()
    result = tx(services.drop, w1, course, actor=staff, by_staff=True,
                now=NOW + timedelta(hours=1))  # past the drop deadline: an offer is no seat
    assert result.previous_status == Status.OFFERED
    assert [li.student_id for li in result.offered] == [w2.id]
    assert events(course)[-2][:4] == (Action.REMOVED_BY_STAFF, w1.id, Status.OFFERED, None)
    with pytest.raises(EnrollmentRefused) as refused:
        tx(services.complete, w2, course, "A", actor=staff)
    assert refused.value.code == "not_enrolled"


def test_a_staff_promotion_settles_expired_offers_first(offer_course, make_student):
    course = offer_course(hours=1)
    a, (w1, w2, w3) = full_with_waitlist(course, make_student, waiting=3)
    tx(services.drop, a, course)
    later = NOW + timedelta(hours=2)
    tx(services.promote, w3, course, reason="Needs it to graduate", now=later)
    assert status(w1, course) is None  # expired: its seat went to the promoted student
    assert status(w3, course) == Status.ENROLLED and status(w2, course) == Status.WAITLISTED
    assert [e[0] for e in events(course)[-2:]] == [Action.OFFER_EXPIRED, Action.PROMOTED]
