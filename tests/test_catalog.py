"""GET /courses: search, filters, pagination, seats; fixed queries; bad input is harmless."""
import re

import pytest
from sqlalchemy import insert

from enrollment.extensions import db
from enrollment.models import Course
from tests.factories import at
from tests.web_helpers import enroll, flashes, text


def codes(html: str) -> list[str]:
    return re.findall(r'<span class="course-code">([^<]+)</span>', html)


def test_home_redirects_to_catalog(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/courses"


def test_anonymous_can_browse(client, make_course):
    course = make_course(code="CS101", title="Intro to Programming", days="MWF",
                         start_time=at("09:00"), end_time=at("09:50"), credits=4)
    db.session.commit()
    response = client.get("/courses")
    assert response.status_code == 200
    page = text(response.text)
    assert "CS101 Intro to Programming" in page
    assert "Mon Wed Fri 09:00–09:50" in page
    assert "4 credits" in page
    assert f'href="/courses/{course.id}"' in response.text


def test_seats_and_waitlist(client, make_course, make_student):
    roomy = make_course(code="A100", capacity=30)
    nearly = make_course(code="B100", capacity=5)
    full = make_course(code="C100", capacity=1, waitlist_capacity=3)
    closed = make_course(code="D100", capacity=1, waitlist_capacity=0)
    for _ in range(4):
        enroll(make_student(), nearly)
    for _ in range(3):
        enroll(make_student(), full)
    enroll(make_student(), closed)
    db.session.commit()
    html = client.get("/courses").text
    badges = dict(re.findall(
        r'<span class="course-code">(\w+)</span>.*?badge-(success|warning|danger) seat-badge',
        html, re.DOTALL))
    assert badges == {"A100": "success", "B100": "warning", "C100": "danger",
                      "D100": "danger"}
    page = text(html)
    assert "30 of 30 left" in page
    assert "1 of 5 left" in page
    assert "Full · waitlist 2 on waitlist" in page
    assert "Full (no waitlist)" in page and "Waitlist empty" not in page
    assert roomy.id  # linked like the others


def test_search_by_code_or_title(client, make_course):
    make_course(code="CS101", title="Programming")
    make_course(code="MATH150", title="Calculus")
    make_course(code="HIST200", title="History of Computing")
    db.session.commit()
    assert codes(client.get("/courses?q=cs1").text) == ["CS101"]
    assert sorted(codes(client.get("/courses?q=COMPUT").text)) == ["HIST200"]
    assert codes(client.get("/courses?q=nothing-like-this").text) == []
    assert "No course matches your search" in client.get("/courses?q=zzz").text


def test_search_treats_wildcards_literally(client, make_course):
    make_course(code="CS101", title="Programming")
    make_course(code="X100", title="100% attendance")
    db.session.commit()
    assert codes(client.get("/courses?q=%25").text) == ["X100"]
    assert codes(client.get("/courses?q=_").text) == []


def test_filter_by_term_and_department(client, make_course, make_term, make_department):
    spring, fall = make_term(code="2027SP", name="Spring"), make_term(code="2026FA", name="Fall")
    cs, math = make_department(code="CS"), make_department(code="MATH")
    make_course(term=spring, department=cs, code="CS101")
    make_course(term=fall, department=cs, code="CS102")
    make_course(term=spring, department=math, code="MATH150")
    db.session.commit()
    assert sorted(codes(client.get("/courses?term=2027SP").text)) == ["CS101", "MATH150"]
    assert codes(client.get("/courses?department=CS&term=2026FA").text) == ["CS102"]
    html = client.get("/courses?department=MATH").text
    assert codes(html) == ["MATH150"]
    # The filters are visible selects that keep the chosen value.
    assert '<select class="custom-select" id="term" name="term">' in html
    assert '<option selected value="MATH">' in html


@pytest.mark.parametrize("query, note", [
    ("term=NOPE", "There is no term “NOPE”; showing all terms."),
    ("department=NOPE", "There is no department “NOPE”; showing all departments."),
])
def test_unknown_filter_is_ignored_with_a_note(query, note, client, make_course):
    make_course(code="CS101")
    db.session.commit()
    response = client.get(f"/courses?{query}")
    assert response.status_code == 200
    assert note in flashes(response.text)
    assert codes(response.text) == ["CS101"]


@pytest.mark.config(CATALOG_PAGE_SIZE=2)
def test_pagination(client, make_course, make_term):
    term = make_term()
    for n in range(5):
        make_course(term=term, code=f"C{n}")
    db.session.commit()
    assert codes(client.get("/courses").text) == ["C0", "C1"]
    html = client.get("/courses?page=3").text
    assert codes(html) == ["C4"]
    assert 'href="/courses?page=2" rel="prev"' in html
    # Filters survive paging.
    assert 'href="/courses?q=C&amp;page=2"' in client.get("/courses?q=C").text


@pytest.mark.config(CATALOG_PAGE_SIZE=2)
@pytest.mark.parametrize("page, expected", [
    ("abc", 200), ("-3", 200), ("0", 200), ("1.5", 200), ("99999999999999999999", 302),
    ("99", 302),
])
def test_bad_page_values_are_friendly(page, expected, client, make_course, make_term):
    term = make_term()
    for n in range(3):
        make_course(term=term, code=f"C{n}")
    db.session.commit()
    response = client.get(f"/courses?page={page}")
    assert response.status_code == expected
    if expected == 302:
        assert response.headers["Location"] == "/courses?page=2"
    else:
        assert codes(response.text) == ["C0", "C1"]


def test_bad_input_never_500s(client, make_course):
    make_course(code="CS101")
    db.session.commit()
    for query in ("q=%00", "q=CS%00101", "term=%00", "department=%00x", "q=" + "x" * 5000,
                  "q=%ff%fe", "page=%00", "q=<script>", "term=a&term=b"):
        response = client.get(f"/courses?{query}")
        assert response.status_code == 200, query
    assert codes(client.get("/courses?q=CS%00101").text) == ["CS101"]
    assert "too long" in client.get("/courses?q=" + "x" * 101).text


def test_course_titles_are_escaped(client, make_course):
    make_course(code="XSS1", title="<script>alert(1)</script>", instructor="<b>Eve</b>")
    db.session.commit()
    html = client.get("/courses").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>Eve</b>" not in html
    search = client.get("/courses?q=<script>").text
    assert 'value="&lt;script&gt;"' in search


def _bulk_courses(term, department, n, prefix="BULK"):
    """Insert many courses at once (Core insert: the ORM would take seconds for 1,000)."""
    db.session.execute(insert(Course), [
        {"term_id": term.id, "department_id": department.id, "code": f"{prefix}{i:04d}",
         "title": f"{prefix} {i}", "description": "", "credits": 3, "capacity": 30,
         "waitlist_capacity": 10, "instructor": "", "days": "MW", "location": "",
         "start_time": at("09:00"), "end_time": at("10:00")} for i in range(n)
    ])
    db.session.commit()


@pytest.mark.config(CATALOG_PAGE_SIZE=1000)
def test_catalog_runs_a_fixed_number_of_queries(client, login, count_queries, make_term,
                                                make_department, make_student):
    term, department = make_term(code="2027SP"), make_department(code="CS")
    student = make_student()
    _bulk_courses(term, department, 10)
    login(student.user)
    client.get("/courses")  # warm up
    db.session.commit()  # expire what the test loaded, as a new request's session would be
    with count_queries() as small:
        assert len(codes(client.get("/courses?term=2027SP").text)) == 10
    _bulk_courses(term, department, 990, prefix="MORE")
    with count_queries() as large:
        assert len(codes(client.get("/courses?term=2027SP").text)) == 1000
    assert small.count == large.count
    assert large.count <= 8, large.statements


def test_seat_badges_use_the_rules_seat_count(app, make_course):
    from enrollment.catalog.availability import Availability
    from enrollment.services import SeatCount

    course = make_course(capacity=2, waitlist_capacity=1)
    # Over capacity (a capacity lowered by staff): no negative seats, as the rules say.
    over = Availability(course, SeatCount(enrolled=3, waitlisted=0))
    assert over.seats_left == SeatCount(enrolled=3).free_seats(course) == 0
    assert (over.state, over.label) == ("waitlist", "Full · waitlist")
    full = Availability(course, SeatCount(enrolled=2, waitlisted=1))
    assert (full.state, full.label, full.badge) == ("full", "Full", "danger")
    course.waitlist_capacity = 0  # not "its waitlist is full too (0/0)"
    no_waitlist = Availability(course, SeatCount(enrolled=2))
    assert (no_waitlist.state, no_waitlist.label) == ("full", "Full (no waitlist)")
    few = Availability(course, SeatCount(enrolled=1))
    assert (few.state, few.label, few.capacity, few.enrolled) == ("few", "1 of 2 left", 2, 1)
