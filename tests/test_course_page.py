"""GET /courses/<id>: details, seats, the viewer's status, the one action that applies, and
every reason that blocks enrolling, shown before the student tries."""
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from enrollment import services
from enrollment.extensions import db
from enrollment.models import Course, Enrollment, Status
from tests.factories import NOW, at
from tests.web_helpers import complete, enroll, text

ACTION = re.compile(r'<form method="post" action="/courses/\d+/(enroll)">'
                    r'|<a class="btn[^"]*" href="/courses/\d+/(drop)">')


def actions(html: str) -> list[str]:
    """The actions on the page: enroll forms, and links to the drop confirmation."""
    return [enroll or drop for enroll, drop in ACTION.findall(html)]


def test_details(client, make_course, make_term):
    term = make_term(name="Spring 2027")
    prereq = make_course(term=term, code="CS100", title="Basics")
    course = make_course(term=term, code="CS201", title="Algorithms", description="Graphs.",
                         instructor="Prof. Hopper", days="TR", start_time=at("10:30"),
                         end_time=at("11:45"), location="Hall B", credits=4, capacity=25,
                         waitlist_capacity=5)
    course.prerequisites.append(prereq)
    db.session.commit()
    response = client.get(f"/courses/{course.id}")
    assert response.status_code == 200
    page = text(response.text)
    for expected in ("CS201 Algorithms", "Graphs.", "Prof. Hopper", "Tue Thu 10:30–11:45",
                     "Hall B", "Spring 2027", "4 credits", "25 of 25 left",
                     "0 enrolled of 25 seats · 0 on waitlist (room for 5)", "CS100 Basics"):
        assert expected in page
    assert f'<a href="/courses/{prereq.id}">CS100 Basics</a>' in response.text


def test_missing_course_is_a_friendly_404(client):
    response = client.get("/courses/424242")
    assert response.status_code == 404
    assert "There is nothing at this address" in response.text
    assert '<nav class="navbar' in response.text  # in the site's layout
    assert client.get("/courses/abc").status_code == 404
    assert client.get("/courses/99999999999999999999").status_code == 404
    assert client.get("/courses/2147483648").status_code == 404
    assert client.get("/courses/%00").status_code == 404


def test_anonymous_sees_login_link_with_next(client, make_course):
    course = make_course()
    db.session.commit()
    html = client.get(f"/courses/{course.id}").text
    assert f'href="/auth/login?next=/courses/{course.id}">Log in to enroll</a>' in html
    assert actions(html) == []


def test_student_can_enroll(client, login, make_student, make_course):
    student, course = make_student(), make_course()
    db.session.commit()
    login(student.user)
    html = client.get(f"/courses/{course.id}").text
    assert actions(html) == ["enroll"]
    assert ">Enroll</button>" in html
    assert 'name="csrf_token"' in html
    assert "You cannot enroll" not in html


def test_full_course_offers_the_waitlist(client, login, make_student, make_course):
    course = make_course(capacity=1)
    enroll(make_student(), course)
    enroll(make_student(), course)
    student = make_student()
    db.session.commit()
    login(student.user)
    html = client.get(f"/courses/{course.id}").text
    assert actions(html) == ["enroll"]
    assert "Join the waitlist" in html
    assert "1 student ahead of you" in text(html)


def test_enrolled_student_sees_drop(client, login, make_student, make_course):
    student, course = make_student(), make_course()
    enroll(student, course)
    db.session.commit()
    login(student.user)
    html = client.get(f"/courses/{course.id}").text
    assert "You are enrolled in this course." in text(html)
    assert actions(html) == ["drop"]
    assert "Drop this course" in html


def test_waitlisted_student_sees_position_and_leave(client, login, make_student, make_course):
    course = make_course(capacity=1)
    for _ in range(3):
        enroll(make_student(), course)
    student = make_student()
    enroll(student, course)
    db.session.commit()
    login(student.user)
    html = client.get(f"/courses/{course.id}").text
    assert "You are on the waitlist, position 3." in text(html)
    assert actions(html) == ["drop"]
    assert "Leave the waitlist" in html


def test_completed_student_sees_grade_and_no_action(client, login, make_student, make_course):
    student, course = make_student(), make_course()
    complete(student, course, "B+")
    db.session.commit()
    login(student.user)
    html = client.get(f"/courses/{course.id}").text
    assert "You completed this course with grade B+." in text(html)
    assert actions(html) == []


def test_drop_deadline_passed_hides_drop(client, login, make_student, make_course, make_term):
    term = make_term(drop_deadline=datetime(2027, 1, 9, tzinfo=UTC))
    student, course = make_student(), make_course(term=term)
    enroll(student, course)
    db.session.commit()
    login(student.user)
    html = client.get(f"/courses/{course.id}").text
    assert actions(html) == []
    assert "has passed" in text(html)


def test_every_blocking_reason_is_listed(client, login, make_student, make_course, make_term):
    term = make_term(enrollment_opens=datetime(2027, 1, 20, tzinfo=UTC))
    student = make_student(max_credits=3)
    taken = make_course(term=term, days="MW", start_time=at("09:00"), end_time=at("10:00"))
    enroll(student, taken, staff=True)
    course = make_course(term=term, credits=4, capacity=0, waitlist_capacity=0, days="M",
                         start_time=at("09:30"), end_time=at("10:30"))
    course.prerequisites.append(make_course(code="MATH100"))
    db.session.commit()
    reasons = services.enrollment_blockers(student, course, now=NOW)
    assert {r.code for r in reasons} == {"window_not_open", "time_conflict",
                                         "missing_prerequisite", "credit_limit", "course_full"}
    login(student.user)
    html = client.get(f"/courses/{course.id}").text
    listed = re.findall(r'<li data-code="(\w+)">', html)
    assert listed == [r.code for r in reasons]
    for reason in reasons:
        assert reason.message in text(html)
    assert actions(html) == []
    assert "not completed" in html  # the prerequisite, marked


def test_completed_prerequisite_is_marked(client, login, make_student, make_course, make_term):
    old, new = make_term(), make_term()
    student = make_student()
    done = make_course(term=old, code="CS100")
    complete(student, done)
    course = make_course(term=new)
    course.prerequisites.append(make_course(term=new, code="CS100"))
    db.session.commit()
    login(student.user)
    html = client.get(f"/courses/{course.id}").text
    assert '<span class="badge badge-success">completed</span>' in html
    assert actions(html) == ["enroll"]


def test_staff_without_profile_sees_no_action(client, login, make_staff, make_course):
    staff, course = make_staff(), make_course()
    db.session.commit()
    login(staff)
    html = client.get(f"/courses/{course.id}").text
    assert actions(html) == []
    assert "Staff accounts do not enroll" in html


def test_output_is_escaped(client, make_course):
    course = make_course(title="<script>alert(1)</script>", description="<img src=x>",
                         location="<i>x</i>")
    db.session.commit()
    html = client.get(f"/courses/{course.id}").text
    assert "<script>alert(1)</script>" not in html and "<img src=x>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_times_shown_in_school_time_zone(client, make_course):
    course = make_course()
    db.session.commit()
    html = client.get(f"/courses/{course.id}").text
    assert "Enrollment is open until Sun 31 Jan 2027, 23:59 UTC." in text(html)


def test_course_page_runs_a_fixed_number_of_queries(client, login, count_queries, make_student,
                                                    make_course, make_term):
    term = make_term()
    student = make_student()
    course = make_course(term=term, capacity=2)
    course.prerequisites.append(make_course(term=term, code="P"))
    url = f"/courses/{course.id}"
    login(student.user)

    def measure():
        db.session.commit()  # a fresh request starts with nothing loaded
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    small = measure()
    assert small <= 12
    for _ in range(6):
        enroll(make_student(), course, staff=True)  # two enrolled, four waitlisted
    for n in range(20):
        course.prerequisites.append(make_course(term=term, code=f"P{n}"))
    db.session.execute(insert(Course), [
        {"term_id": term.id, "department_id": course.department_id, "code": f"X{i}",
         "title": "x", "description": "", "instructor": "", "days": "", "location": ""}
        for i in range(200)
    ])
    assert small == measure()
    # And for a waitlisted viewer (the position is one more query, whatever the waitlist).
    enroll(student, course, staff=True)
    waitlisted = measure()
    enroll(make_student(), course, staff=True)
    assert waitlisted == measure()
    assert db.session.get(Enrollment, (student.id, course.id)).status == Status.WAITLISTED


@pytest.mark.config(SCHOOL_TIMEZONE="America/New_York")
def test_times_in_configured_zone(client, make_course):
    course = make_course()
    db.session.commit()
    html = client.get(f"/courses/{course.id}").text
    assert "Enrollment is open until Sun 31 Jan 2027, 18:59 EST." in text(html)


def test_course_loader_reads_what_the_page_needs_with_the_course(app, make_course,
                                                                 count_queries):
    from werkzeug.exceptions import NotFound

    from enrollment.catalog.queries import COURSE_DETAILS, COURSE_PAGE, course_or_404

    course = make_course()
    course.prerequisites.append(make_course(code="P1"))
    course.corequisites.append(make_course(term=course.term, code="Q1"))
    course_id, term_code, department_code = course.id, course.term.code, course.department.code
    db.session.commit()
    with count_queries() as plain:
        loaded = course_or_404(course_id, *COURSE_PAGE)
        assert (loaded.term.code, loaded.department.code) == (term_code, department_code)
    db.session.commit()
    with count_queries() as page:
        loaded = course_or_404(course_id, *COURSE_DETAILS)
        assert [p.code for p in loaded.prerequisites] == ["P1"]
        assert [c.code for c in loaded.corequisites] == ["Q1"]
        assert loaded.term.code == term_code
    assert (plain.count, page.count) == (1, 3)
    # Beyond the INTEGER range: a 404 without asking the database (PostgreSQL would refuse).
    with count_queries() as huge:
        for bad in (2**31, 10**30, 0, -1):
            with pytest.raises(NotFound):
                course_or_404(bad)
    assert huge.count == 0
    with pytest.raises(NotFound):
        course_or_404(course_id + 1000)
