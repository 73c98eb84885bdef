"""Co-requisites: a course taken with another of its term, enrolled together or already held;
dropping one that another enrolled course needs is refused unless both go together."""
from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import func, select

from enrollment import services
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import Enrollment, EnrollmentEvent, Source, Status
from enrollment.services import EnrollmentRefused, Override
from tests.factories import NOW
from tests.web_helpers import complete, enroll, flashes


def pair(make_course, **lecture):
    """A lecture LEC1 that must be taken with its lab LAB1 (one way), in one term."""
    lab = make_course(code="LAB1", credits=1)
    course = make_course(term=lab.term, code="LEC1", corequisites=[lab], **lecture)
    return course, lab


def links(student) -> dict[str, Status]:
    rows = db.session.execute(select(Enrollment).where(Enrollment.student_id == student.id))
    return {link.course.code: link.status for link in rows.scalars()}


def events() -> int:
    return db.session.scalar(select(func.count()).select_from(EnrollmentEvent))


def enroll_together(student, *courses, **kwargs):
    with write_transaction(db.session):
        locked = services.together_courses(courses[0].id, [c.id for c in courses[1:]])
        return services.enroll_together(student, locked, actor=None, now=NOW, **kwargs)


def drop_together(student, *courses, **kwargs):
    with write_transaction(db.session):
        locked = services.together_courses(courses[0].id, [c.id for c in courses[1:]])
        return services.drop_together(student, locked, actor=None, now=NOW, **kwargs)


def test_a_course_alone_is_refused_without_its_corequisite(make_course, make_student):
    course, lab = pair(make_course)
    student = make_student()
    with pytest.raises(EnrollmentRefused) as refused, write_transaction(db.session):
        services.enroll(student, course, actor=None, now=NOW)
    [reason] = refused.value.reasons
    assert reason.code == "missing_corequisite" and reason.override == Override.COREQUISITES
    assert reason.message == ("LEC1 must be taken with LAB1 (co-requisite): You are not "
                              "enrolled in it this term and have not completed it. Enroll in "
                              "LEC1 and LAB1 together.")
    assert links(student) == {} and events() == 0
    # The lab needs nothing: alone it is fine, and then the lecture is too.
    assert enroll(student, lab) == Status.ENROLLED
    assert enroll(student, course) == Status.ENROLLED


def test_a_waitlisted_corequisite_is_not_enough_a_passed_one_is(make_course, make_student,
                                                              make_term):
    course, lab = pair(make_course)
    lab.capacity = 0
    db.session.flush()
    waiting = make_student()
    assert enroll(waiting, lab) == Status.WAITLISTED
    [reason] = services.enrollment_blockers(waiting, course, now=NOW)
    assert reason.code == "missing_corequisite"
    # A passed completion of the code in an earlier term satisfies it; a failed one does not.
    earlier = make_course(term=make_term(code="OLD"), code="LAB1")
    failed, passed = make_student(), make_student()
    complete(failed, earlier, "F")
    complete(passed, earlier, "C")
    assert [r.code for r in services.enrollment_blockers(failed, course, now=NOW)] == [
        "missing_corequisite"]
    assert services.enrollment_blockers(passed, course, now=NOW) == []


def test_enrolling_together_takes_both_or_neither(make_course, make_student):
    course, lab = pair(make_course)
    student = make_student()
    made = enroll_together(student, course, lab)
    assert [(link.course_id, link.status) for link in made] == [
        (course.id, Status.ENROLLED), (lab.id, Status.ENROLLED)]
    assert links(student) == {"LEC1": Status.ENROLLED, "LAB1": Status.ENROLLED}
    reasons = [e.reason for e in db.session.scalars(
        select(EnrollmentEvent).order_by(EnrollmentEvent.id))]
    assert reasons == ["Enrolled. Together with LAB1.", "Enrolled. Together with LEC1."]

    # A full lab refuses the whole request: nothing is enrolled, nobody waitlisted.
    full_course, full_lab = pair(make_course)
    full_lab.capacity = 0
    db.session.flush()
    other = make_student()
    before = events()
    with pytest.raises(EnrollmentRefused) as refused:
        enroll_together(other, full_course, full_lab)
    assert [r.code for r in refused.value.reasons] == ["course_full"]
    assert "LAB1 has no free seat" in refused.value.message
    assert links(other) == {} and events() == before


def test_together_the_courses_count_each_other_for_time_and_credits(make_course,
                                                                  make_student):
    course, lab = pair(make_course, days="MW", start_time=time(9), end_time=time(10))
    lab.days, lab.start_time, lab.end_time = "M", time(9, 30), time(11)
    db.session.flush()
    student = make_student(max_credits=3)
    with pytest.raises(EnrollmentRefused) as refused:
        enroll_together(student, course, lab)
    assert {r.code for r in refused.value.reasons} == {"time_conflict", "credit_limit"}
    assert links(student) == {}


def test_with_must_name_courses_of_the_same_term(make_course, make_student, make_term):
    course, _ = pair(make_course)
    elsewhere = make_course(term=make_term(code="OTHER"), code="LAB9")
    student = make_student()
    with pytest.raises(EnrollmentRefused) as refused:
        enroll_together(student, course, elsewhere)
    assert refused.value.code == "with_other_term"
    assert "LAB9 is not in" in refused.value.message
    with pytest.raises(EnrollmentRefused) as missing, write_transaction(db.session):
        services.together_courses(course.id, [10_000_000])
    assert missing.value.code == "with_invalid"
    assert links(student) == {}


def test_staff_override_the_corequisite_with_a_reason(make_course, make_student):
    course, _ = pair(make_course)
    student = make_student(name="Ada Lovelace")
    with pytest.raises(EnrollmentRefused) as refused, write_transaction(db.session):
        services.enroll(student, course, actor=None, now=NOW, source=Source.STAFF)
    assert refused.value.reasons[0].message.startswith(
        "LEC1 must be taken with LAB1 (co-requisite): Ada Lovelace is not enrolled in it")
    with write_transaction(db.session):
        link = services.enroll(student, course, actor=None, now=NOW, source=Source.STAFF,
                               override={Override.COREQUISITES}, reason="Lab waived")
    assert link.status == Status.ENROLLED
    assert "Overrode: corequisites." in services.history_for_student(student)[-1].reason


def test_an_instructor_permission_lifts_the_corequisite_once(make_course, make_student):
    course, _ = pair(make_course)
    student = make_student()
    with write_transaction(db.session):
        services.grant_permission(course, student, ["corequisites"], reason="Lab next term",
                                  actor=None, now=NOW)
    assert enroll(student, course) == Status.ENROLLED
    assert "Overrode: corequisites." in services.history_for_student(student)[-1].reason


def test_dropping_a_corequisite_in_use_is_refused_unless_both_go(make_course, make_student):
    course, lab = pair(make_course)
    student = make_student()
    enroll_together(student, course, lab)
    before = events()
    with pytest.raises(EnrollmentRefused) as refused, write_transaction(db.session):
        services.drop(student, lab, actor=None, now=NOW)
    assert refused.value.code == "corequisite_in_use"
    assert refused.value.message == ("LAB1 cannot be dropped alone: LEC1 (which you are "
                                     "taking) needs it as a co-requisite. Drop LAB1 and LEC1 "
                                     "together.")
    assert links(student) == {"LEC1": Status.ENROLLED, "LAB1": Status.ENROLLED}
    assert events() == before
    # Dropping both in one request works, in either order of the request.
    drop_together(student, lab, course)
    assert links(student) == {}
    # The lecture alone may always go: nothing needs it.
    enroll_together(student, course, lab)
    with write_transaction(db.session):
        services.drop(student, course, actor=None, now=NOW)
    assert links(student) == {"LAB1": Status.ENROLLED}


def test_a_corequisite_passed_before_may_be_dropped_and_staff_may_override(
        make_course, make_student, make_term):
    course, lab = pair(make_course)
    passed, other = make_student(), make_student(name="Grace Hopper")
    complete(passed, make_course(term=make_term(code="OLD"), code="LAB1"), "B")
    lab.repeatable = True
    db.session.flush()
    for student in (passed, other):
        enroll_together(student, course, lab)
    with write_transaction(db.session):
        services.drop(passed, lab, actor=None, now=NOW)
    with pytest.raises(EnrollmentRefused) as refused, write_transaction(db.session):
        services.drop(other, lab, actor=None, now=NOW, by_staff=True)
    assert "(which Grace Hopper is taking)" in refused.value.message
    assert refused.value.reasons[0].override == Override.COREQUISITES
    with write_transaction(db.session):
        services.drop(other, lab, actor=None, now=NOW, by_staff=True,
                      override={Override.COREQUISITES}, reason="Lab waived")
    assert links(other) == {"LEC1": Status.ENROLLED}


def test_a_waitlisted_course_keeps_its_corequisite(make_course, make_student):
    """A course the student waits for was admitted on its co-requisite: dropping that alone
    would seat them later without it."""
    course, lab = pair(make_course, capacity=0)
    student = make_student()
    enroll(student, lab)
    assert enroll(student, course) == Status.WAITLISTED
    with pytest.raises(EnrollmentRefused) as refused, write_transaction(db.session):
        services.drop(student, lab, actor=None, now=NOW)
    assert refused.value.code == "corequisite_in_use"


def test_a_failed_drop_together_changes_nothing(make_course, make_student):
    course, lab = pair(make_course)
    lonely = make_course(term=course.term, code="OTHER1")
    student = make_student()
    enroll_together(student, course, lab)
    before = events()
    with pytest.raises(EnrollmentRefused) as refused:
        drop_together(student, lab, course, lonely)  # not enrolled in OTHER1
    assert refused.value.code == "not_enrolled"
    assert links(student) == {"LEC1": Status.ENROLLED, "LAB1": Status.ENROLLED}
    assert events() == before


def test_the_batch_decides_like_the_single_enroll(make_course, make_student):
    course, lab = pair(make_course)
    student = make_student()
    with write_transaction(db.session):
        [refused] = services.enroll_many([(student, course)], actor=None, now=NOW,
                                         source=Source.STAFF)
    assert [r.code for r in refused.reasons] == ["missing_corequisite"]
    assert refused.reasons[0].message == (
        services.enrollment_blockers(student, course, now=NOW)[0].message.replace(
            "You are", f"{student.name} is").replace("have not", "has not"))
    # Imports record decisions made elsewhere: co-requisites are not checked, as prerequisites.
    with write_transaction(db.session):
        [link] = services.enroll_many([(student, course)], actor=None, now=NOW)
    assert link.status == Status.ENROLLED


# --- the site: the `with` field, the course page, the drop confirmation ----------------------

def test_the_course_page_offers_enrolling_together(client, login, make_course, make_student):
    course, lab = pair(make_course)
    student = make_student()
    db.session.commit()
    login(student.user)
    page = client.get(f"/courses/{course.id}").text
    assert 'data-code="missing_corequisite"' in page
    assert "Enroll in LEC1 and LAB1 together" in page
    assert f'name="with" value="{lab.id}"' in page
    response = client.post(f"/courses/{course.id}/enroll", data={"with": [str(lab.id)]})
    assert response.status_code == 303
    assert flashes(client.get(response.headers["Location"])) == [
        f"You are enrolled in LEC1 {course.title} and LAB1 {lab.title} together."]
    assert links(student) == {"LEC1": Status.ENROLLED, "LAB1": Status.ENROLLED}
    # The co-requisite is listed with the student's status in it.
    page = client.get(f"/courses/{course.id}").text
    assert "Co-requisites" in page and "LAB1" in page


def test_the_site_refuses_a_lone_drop_and_drops_both_together(client, login, make_course,
                                                            make_student):
    course, lab = pair(make_course)
    student = make_student()
    enroll_together(student, course, lab)
    db.session.commit()
    login(student.user)
    confirm = client.get(f"/courses/{lab.id}/drop").text
    assert "LEC1 needs LAB1" in confirm and f'name="with" value="{course.id}"' in confirm
    response = client.post(f"/courses/{lab.id}/drop")
    assert response.status_code == 303
    [message] = flashes(client.get(response.headers["Location"]))
    assert message.startswith(f"You could not drop LAB1 {lab.title}: LAB1 cannot be dropped "
                              "alone")
    response = client.post(f"/courses/{lab.id}/drop", data={"with": [str(course.id)]})
    assert response.status_code == 303
    assert flashes(client.get(response.headers["Location"])) == [
        f"You dropped LAB1 {lab.title} and LEC1 {course.title} together."]
    assert links(student) == {}


@pytest.mark.parametrize("value", ["abc", "-1", "99999999999", "1 2"])
def test_a_with_that_is_not_a_course_id_is_a_400(client, login, make_course, make_student,
                                                 value):
    course, _ = pair(make_course)
    student = make_student()
    db.session.commit()
    login(student.user)
    assert client.post(f"/courses/{course.id}/enroll", data={"with": value}).status_code == 400
    assert links(student) == {}


def test_a_with_of_no_course_or_another_term_is_a_message(client, login, make_course,
                                                        make_student, make_term):
    course, _ = pair(make_course)
    elsewhere = make_course(term=make_term(code="OTHER"), code="LAB9")
    student = make_student()
    db.session.commit()
    login(student.user)
    for value, words in ((str(elsewhere.id), "must be of the same term"),
                         ("123456", "There is no course 123456")):
        response = client.post(f"/courses/{course.id}/enroll", data={"with": value})
        assert response.status_code == 303
        [message] = flashes(client.get(response.headers["Location"]))
        assert words in message
    assert links(student) == {}
    assert client.post("/courses/123457/enroll", data={"with": str(course.id)}
                       ).status_code == 404


# --- the courses CSV: the `corequisites` column ---------------------------------------------

TERM_CSV = """code,name,enrollment_opens,enrollment_closes,drop_deadline,classes_start,classes_end
2027SP,Spring 2027,2027-01-01T00:00:00Z,2027-01-31,2027-02-15T23:59+00:00,,
2027SU,Summer 2027,2027-05-01T00:00:00Z,2027-05-31,2027-06-15T23:59+00:00,,
"""
COURSE_HEADER = "term,code,title,department,credits,capacity,corequisites\n"


@pytest.fixture
def run_import(import_file):
    assert import_file("terms", TERM_CSV).exit_code == 0
    return import_file


def course_by(term: str, code: str):
    from enrollment.models import Course, Term
    return db.session.scalar(select(Course).join(Term).where(Term.code == term,
                                                             Course.code == code))


def test_the_courses_csv_links_corequisites_both_ways_and_updates_them(run_import):
    result = run_import("courses", COURSE_HEADER + "2027SP,PHY1,Physics,PHY,4,30,PHY1L\n"
                                                   "2027SP,PHY1L,Physics lab,PHY,1,15,PHY1\n"
                                                   "2027SP,MATH1,Calculus,MA,4,30,\n")
    assert result.exit_code == 0, result.output
    assert [c.code for c in course_by("2027SP", "PHY1").corequisites] == ["PHY1L"]
    assert [c.code for c in course_by("2027SP", "PHY1L").corequisites] == ["PHY1"]
    assert course_by("2027SP", "MATH1").corequisites == []
    # A re-import names the change; an empty cell removes them; no column leaves them.
    again = COURSE_HEADER + "2027SP,MATH1,Calculus,MA,4,30,PHY1\n2027SP,PHY1L,Physics lab,PHY,1,15,\n"
    preview = run_import("courses", again, "--dry-run")
    assert "course 2027SP MATH1: corequisites" in preview.output, preview.output
    result = run_import("courses", again)
    assert result.exit_code == 0, result.output
    assert [c.code for c in course_by("2027SP", "MATH1").corequisites] == ["PHY1"]
    assert course_by("2027SP", "PHY1L").corequisites == []
    result = run_import("courses", "term,code,title,department,credits,capacity\n"
                                   "2027SP,MATH1,Calculus,MA,4,30\n")
    assert result.exit_code == 0, result.output
    assert [c.code for c in course_by("2027SP", "MATH1").corequisites] == ["PHY1"]


def test_bad_corequisite_cells_are_line_errors_and_nothing_is_written(run_import):
    from enrollment.models import Course

    assert run_import("courses", COURSE_HEADER + "2027SU,OLD1,Old,PHY,3,30,\n").exit_code == 0
    result = run_import("courses", COURSE_HEADER + "2027SP,A1,One,PHY,3,30,A1\n"
                                                   "2027SP,A2,Two,PHY,3,30,ZZ9 A1\n"
                                                   "2027SP,A3,Three,PHY,3,30,OLD1\n"
                                                   "2027SP,A4,Four,PHY,3,30,A2\n")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "line 2: corequisites: A1 cannot be its own co-requisite",
        "line 3: corequisites: unknown course ZZ9 in 2027SP (co-requisites are courses of "
        "the same term)",
        "line 4: corequisites: unknown course OLD1 in 2027SP (co-requisites are courses of "
        "the same term)",
        "3 problems; nothing was imported.",
    ]
    assert db.session.scalar(select(func.count()).select_from(Course)) == 1


# --- the admin: edit the co-requisites, see them on the roster, drop with an override -------

from tests.admin_support import (  # noqa: E402, F401
    course_form,
    staff_client_fixture,
    staff_fixture,
)


def test_staff_edit_the_corequisites_of_a_course(staff_client, make_course, make_term):
    course, lab = pair(make_course)
    other = make_course(term=course.term, code="LAB2")
    elsewhere = make_course(term=make_term(code="OTHER"), code="LAB9")
    db.session.commit()
    response = staff_client.post(f"/admin/course/edit/?id={course.id}", data=course_form(
        course, corequisites=f"{lab.id},{other.id}"))
    assert response.status_code == 302, response.text
    db.session.expire_all()
    assert [c.code for c in course.corequisites] == ["LAB1", "LAB2"]
    for value, words in ((str(course.id), "cannot be its own co-requisite"),
                         (str(elsewhere.id), "LAB9 is not in")):
        response = staff_client.post(f"/admin/course/edit/?id={course.id}",
                                     data=course_form(course, corequisites=value))
        assert words in response.text
        db.session.expire_all()
        assert [c.code for c in course.corequisites] == ["LAB1", "LAB2"]
    exported = staff_client.get("/admin/course/export/csv/").text
    assert "LAB1 LAB2" in exported


def test_the_roster_shows_the_structure_and_staff_drop_with_an_override(
        staff_client, make_course, make_student):
    course, lab = pair(make_course)
    student = make_student()
    enroll_together(student, course, lab)
    db.session.commit()
    page = staff_client.get(f"/admin/course/roster/?id={lab.id}").text
    assert "A co-requisite of:" in page and "LEC1" in page
    confirm = staff_client.get(f"/admin/course/roster/drop/?id={lab.id}&student={student.id}")
    assert "cannot be dropped alone" in confirm.text
    assert 'value="corequisites"' in confirm.text
    response = staff_client.post(f"/admin/course/roster/drop/?id={lab.id}&student={student.id}",
                                 data={"overrides": "corequisites", "reason": "Lab waived"})
    assert response.status_code == 303
    assert links(student) == {"LEC1": Status.ENROLLED}


# --- the API: `with` on enroll and drop, co-requisites on the course --------------------------

def test_the_api_enrolls_and_drops_together_and_lists_corequisites(client, make_course,
                                                                 make_student):
    from tests.api_support import bearer, make_token

    course, lab = pair(make_course)
    student = make_student(student_number="S77")
    secret = make_token(student.user, "read,enroll")
    db.session.commit()
    headers = bearer(secret)
    detail = client.get(f"/api/v1/courses/{course.id}", headers=headers).get_json()
    assert detail["corequisites"] == ["LAB1"]
    url = f"/api/v1/courses/{course.id}/enrollments"
    refused = client.post(url, json={}, headers=headers)
    assert refused.status_code == 409
    assert [r["code"] for r in refused.get_json()["error"]["reasons"]] == [
        "missing_corequisite"]
    for bad in (["x"], [0], [True], list(range(1, 13))):
        assert client.post(url, json={"with": bad}, headers=headers).status_code == 422
    response = client.post(url, json={"with": [lab.id]}, headers=headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {"student_number": "S77", "course_id": course.id,
                                   "status": "enrolled", "waitlist_position": None,
                                   "with": [lab.id]}
    alone = client.delete(f"/api/v1/courses/{lab.id}/enrollments/me", headers=headers)
    assert alone.status_code == 409
    assert alone.get_json()["error"]["reasons"][0]["code"] == "corequisite_in_use"
    both = client.delete(f"/api/v1/courses/{lab.id}/enrollments/me?with={course.id}",
                         headers=headers)
    assert both.status_code == 200, both.get_json()
    assert both.get_json()["with"] == [course.id]
    db.session.expire_all()
    assert links(student) == {}
