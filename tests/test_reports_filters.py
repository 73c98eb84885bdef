"""What the reports share with the catalog: the filter form (q, term, department), the term
order, db.paginate, the status counts (services.counts.STATUS_COUNTS) and the audit history."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from enrollment import clock, services
from enrollment.extensions import db
from enrollment.models import Status, Student, Term
from enrollment.services.counts import STATUS_COUNTS
from tests.factories import NOW
from tests.report_data import complete, enroll, fill_course
from tests.test_reports_stats import _seed


@pytest.fixture
def staff_client(client, login, make_staff):
    login(make_staff())
    return client


def stats_codes(html: str) -> list[str]:
    return re.findall(r'<tr class="stats-row">.*?<strong>([^<]+)</strong>', html, re.DOTALL)


def options(html: str, select_id: str) -> list[str]:
    select_html = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', html,
                            re.DOTALL)[1]
    return re.findall(r'value="([^"]*)"', select_html)


@pytest.fixture
def catalog(make_term, make_department, make_course):
    spring = make_term(code="2027SP", name="Spring 2027")
    cs, math = make_department(code="CS"), make_department(code="MATH")
    make_course(term=spring, department=cs, code="CS101", title="Programming")
    make_course(term=spring, department=cs, code="CS201", title="Algorithms")
    make_course(term=spring, department=math, code="MA101", title="Calculus")
    make_course(term=spring, department=math, code="MA200", title="Programming in Maths")
    return spring


def test_reports_search_code_or_title_like_the_catalog(staff_client, client, catalog):
    html = staff_client.get("/reports/enrollment?q=program").get_data(as_text=True)
    assert sorted(stats_codes(html)) == ["CS101", "MA200"]
    assert 'value="program"' in html  # the search box keeps the text
    catalog_page = client.get("/courses?q=program").get_data(as_text=True)
    assert sorted(re.findall(r'<span class="course-code">([^<]+)</span>', catalog_page)) \
        == ["CS101", "MA200"]
    # Wildcards are literal, as in the catalog.
    assert stats_codes(staff_client.get("/reports/enrollment?q=%25").get_data(
        as_text=True)) == []
    index = staff_client.get("/reports/?q=CS").get_data(as_text=True)
    assert "2 courses in Spring 2027" in index
    assert "MA101" not in index


def test_search_narrows_the_totals_and_the_csv(staff_client, catalog):
    html = staff_client.get("/reports/enrollment?q=CS&department=CS").get_data(as_text=True)
    total = html[html.index('id="grand-total"'):]
    assert [c.split(">")[-1] for c in total.split("</td>")[:2]] == ["All departments", "2"]
    link = re.search(r'href="(/reports/enrollment\.csv[^"]*)"', html)[1].replace("&amp;", "&")
    assert link == "/reports/enrollment.csv?q=CS&term=2027SP&department=CS"
    rows = list(csv.DictReader(io.StringIO(staff_client.get(link).get_data(as_text=True))))
    assert sorted(r["code"] for r in rows) == ["CS101", "CS201"]


def test_search_too_long_is_ignored_with_the_catalogs_note(staff_client, catalog):
    html = staff_client.get("/reports/enrollment?q=" + "x" * 101).get_data(as_text=True)
    assert "The search text is too long" in html
    assert len(stats_codes(html)) == 4


def test_report_and_catalog_list_terms_in_one_order(staff_client, client, make_term,
                                                    make_course):
    # Classes of the older-opening term start later: the two orders the app once had differ.
    early = make_term(code="B-EARLY", enrollment_opens=NOW - timedelta(days=90),
                      enrollment_closes=NOW - timedelta(days=60),
                      classes_start=NOW.date() + timedelta(days=200),
                      classes_end=NOW.date() + timedelta(days=300))
    late = make_term(code="A-LATE", enrollment_opens=NOW - timedelta(days=5),
                     classes_start=NOW.date() + timedelta(days=30),
                     classes_end=NOW.date() + timedelta(days=120))
    make_term(code="C-SAME", enrollment_opens=NOW - timedelta(days=5),  # a tie: by code
              classes_start=NOW.date() + timedelta(days=30),
              classes_end=NOW.date() + timedelta(days=120))
    make_course(term=early, code="X1")
    make_course(term=late, code="X2")
    newest_first = ["A-LATE", "C-SAME", "B-EARLY"]
    assert [t.code for t in db.session.scalars(
        select(Term).order_by(*Term.display_order()))] == newest_first
    db.session.commit()
    catalog_html = client.get("/courses").get_data(as_text=True)
    assert options(catalog_html, "term") == ["", *newest_first]
    assert re.findall(r'<span class="course-code">([^<]+)</span>', catalog_html) == ["X2", "X1"]
    for url in ("/reports/", "/reports/enrollment"):
        html = staff_client.get(url).get_data(as_text=True)
        assert options(html, "term") == ["all", *newest_first]
        # No term asked for: the one whose enrollment opened last.
        assert '<option selected value="A-LATE">' in html
    every_term = staff_client.get("/reports/?term=all").get_data(as_text=True)
    assert every_term.index("<td>A-LATE</td>") < every_term.index("<td>B-EARLY</td>")


def test_huge_or_bad_page_numbers_never_fail(staff_client, make_term, make_course,
                                             monkeypatch):
    from enrollment.reports import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    term = make_term(code="2027SP")
    for i in range(5):
        make_course(term=term, code=f"X{i}")
    for url in ("/reports/?page=99999999999999999999", "/reports/enrollment?page=-4",
                "/reports/enrollment?page=99999999999999999999", "/reports/?page=%00"):
        response = staff_client.get(url)
        assert response.status_code == 200, url
    html = staff_client.get("/reports/?page=99999999999999999999").get_data(as_text=True)
    assert "Page 3 of 3" in html and "X4" in html
    html = staff_client.get("/reports/enrollment?page=2&q=X").get_data(as_text=True)
    assert "Page 2 of 3" in html
    assert 'href="/reports/enrollment?page=3&amp;q=X&amp;term=2027SP" rel="next"' in html


def test_status_counts_agree_with_the_seat_counts_and_the_roster(app, make_course,
                                                                 make_student):
    course, other, empty = (make_course(capacity=2, waitlist_capacity=5), make_course(),
                            make_course())
    fill_course(course, ["A", "B", "C", "D"])  # two enrolled, two waitlisted
    complete(make_student(), course, "B")
    fill_course(other, ["E"])
    rows = {row.course_id: row for row in db.session.execute(select(STATUS_COUNTS))}
    seats = services.seat_counts([course.id, other.id, empty.id], now=clock.now())
    assert (rows[course.id].enrolled, rows[course.id].waitlisted,
            rows[course.id].completed) == (2, 2, 1)
    assert (rows[other.id].enrolled, rows[other.id].waitlisted) == (1, 0)
    assert empty.id not in rows and seats[empty.id].enrolled == 0
    for course_id in (course.id, other.id):
        assert (seats[course_id].enrolled, seats[course_id].waitlisted) == (
            rows[course_id].enrolled, rows[course_id].waitlisted)
    from enrollment.reports.queries import roster_rows

    statuses = [r.status for r in roster_rows(course.id)]
    assert statuses.count(Status.ENROLLED.value) == rows[course.id].enrolled
    assert statuses.count(Status.COMPLETED.value) == rows[course.id].completed


def test_student_history_is_one_query_with_the_actors(app, make_course, make_student,
                                                      make_staff, count_queries):
    from enrollment.models import Source

    student, staff = make_student(), make_staff(name="Ruth Registrar")
    for _ in range(3):
        enroll(student, make_course(), actor=staff, source=Source.STAFF)
    student_id = student.id
    db.session.commit()
    db.session.expunge_all()  # nothing loaded: the actors must come with the events
    student = db.session.get(Student, student_id)
    with count_queries() as q:
        history = services.history_for_student(student)
        names = [event.actor.name for event in history]
    assert q.count == 1
    assert names == ["Ruth Registrar"] * 3


@pytest.mark.parametrize("path", ["/reports/?q=S", "/reports/enrollment?q=C&term=all"])
def test_searching_reports_runs_a_fixed_number_of_queries(make_app, login, make_staff,
                                                          make_term, make_department,
                                                          make_course, make_student,
                                                          count_queries, path):
    counts = []
    for scale in (1, 3):
        app = make_app()
        with app.app_context():
            staff = make_staff()
            _seed(make_term, make_department, make_course, make_student, scale)
            db.session.commit()
            client = app.test_client()
            login(staff, client)
            db.session.expire_all()
            with count_queries() as q:
                response = client.get(path)
            assert response.status_code == 200
            counts.append(q.count)
            db.session.remove()
    assert counts[0] == counts[1] <= 7, counts
