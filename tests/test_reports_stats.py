"""Enrollment statistics, the reports index and the student schedule report."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from enrollment.extensions import db
from enrollment.models import Enrollment, Status
from enrollment.reports import charts
from tests.factories import NOW
from tests.report_data import complete, drop, enroll, fill_course


@pytest.fixture
def staff_client(client, login, make_staff):
    login(make_staff())
    return client


@pytest.fixture
def school(make_term, make_department, make_course):
    """Two departments in 2027SP (current) and a course in an older term."""
    spring = make_term(code="2027SP", name="Spring 2027")
    old = make_term(code="2026FA", name="Fall 2026",
                    enrollment_opens=NOW - timedelta(days=200),
                    enrollment_closes=NOW - timedelta(days=150))
    cs, math = make_department(code="CS", name="Computer Science"), \
        make_department(code="MATH", name="Mathematics")
    full = make_course(term=spring, department=cs, code="CS101", capacity=2)
    half = make_course(term=spring, department=cs, code="CS201", capacity=4)
    empty = make_course(term=spring, department=math, code="MA101", capacity=5)
    none = make_course(term=spring, department=math, code="MA999", capacity=0)
    past = make_course(term=old, department=cs, code="CS100", capacity=3)
    day = timedelta(days=1)
    fill_course(full, ["A One", "B Two", "C Three"], start=NOW - 3 * day)   # 2 + 1 waitlisted
    fill_course(half, ["D Four", "E Five"], start=NOW - 2 * day)
    drop(db.session.scalar(select(Enrollment).where(Enrollment.course_id == full.id)
                           .order_by(Enrollment.created_at)).student, full, at=NOW - day)
    return {"spring": spring, "old": old, "cs": cs, "math": math, "full": full,
            "half": half, "empty": empty, "none": none, "past": past}


def rows_of(html: str, marker: str) -> int:
    return html.count(marker)


def test_statistics_page_defaults_to_the_current_term(staff_client, school):
    html = staff_client.get("/reports/enrollment").get_data(as_text=True)
    assert "Spring 2027 (2027SP)" in html
    assert rows_of(html, 'class="stats-row"') == 4
    assert "CS100" not in html
    # fullest first; a course without seats last
    order = [html.index(code) for code in ("CS101", "CS201", "MA101", "MA999")]
    assert order == sorted(order)
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in html
    assert 'id="timeline-chart"' in html and 'id="department-chart"' in html
    assert "100 %" in html and "50 %" in html


def test_totals_per_department_and_overall(staff_client, school):
    response = staff_client.get("/reports/enrollment?term=2027SP")
    html = response.get_data(as_text=True)
    total = html[html.index('id="grand-total"'):]
    cells = [c.split(">")[-1] for c in total.split("</td>")[:6]]
    assert cells == ["All departments", "4", "11", "4", "0", "36 %"]


def test_filters_by_department_and_all_terms(staff_client, school):
    html = staff_client.get("/reports/enrollment?term=2027SP&department=MATH").get_data(
        as_text=True)
    assert rows_of(html, 'class="stats-row"') == 2 and "CS101" not in html.split("stats-table")[1]
    html = staff_client.get("/reports/enrollment?term=all").get_data(as_text=True)
    assert rows_of(html, 'class="stats-row"') == 5 and "CS100" in html
    assert 'id="timeline-chart"' not in html  # a timeline needs one term


def test_unknown_filters_say_so_and_fall_back(staff_client, school):
    response = staff_client.get("/reports/enrollment?term=NOPE&department=%3Cb%3E&page=abc")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is no term with code “NOPE”" in html
    assert "There is no department with code “&lt;b&gt;”" in html
    assert rows_of(html, 'class="stats-row"') == 4


def test_statistics_csv_has_the_same_data_and_filters(staff_client, school):
    response = staff_client.get("/reports/enrollment.csv?term=2027SP&department=CS")
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="enrollment-2027SP-CS.csv"'
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["code"], r["capacity"], r["enrolled"], r["waitlisted"], r["fill_rate"])
            for r in rows] == [("CS101", "2", "2", "0", "1.000"), ("CS201", "4", "2", "0", "0.500")]
    for row in rows:
        course_id = {"CS101": school["full"].id, "CS201": school["half"].id}[row["code"]]
        enrolled = db.session.scalar(select(func.count()).select_from(Enrollment).where(
            Enrollment.course_id == course_id, Enrollment.status == Status.ENROLLED))
        assert int(row["enrolled"]) == enrolled


def test_timeline_is_net_enrolled_per_day(app, school):
    from enrollment.reports.queries import enrolled_over_time

    series = enrolled_over_time(school["spring"].id)
    # day -3: 2 enrolled + 1 waitlisted; day -2: +2; day -1: a drop, the waitlisted promoted
    assert [(d.day.isoformat(), d.change, d.total) for d in series] == [
        ("2027-01-07", 2, 2), ("2027-01-08", 2, 4), ("2027-01-09", 0, 4)]
    enrolled = db.session.scalar(select(func.count()).select_from(Enrollment).where(
        Enrollment.status == Status.ENROLLED))
    assert series[-1].total == enrolled


def test_timeline_counts_staff_and_waitlist_leaves(app, school, make_student, make_staff):
    from enrollment.models import Source
    from enrollment.reports.queries import enrolled_over_time

    staff = make_staff()
    waiter = make_student()
    enroll(make_student(), school["full"], at=NOW)             # full: waitlisted, 0
    enroll(waiter, school["full"], at=NOW)                      # waitlisted, 0
    drop(waiter, school["full"], at=NOW)                        # leaves the waitlist, 0
    enroll(make_student(), school["empty"], at=NOW, actor=staff, source=Source.STAFF)  # +1
    series = enrolled_over_time(school["spring"].id)
    assert series[-1].day == NOW.date() and series[-1].change == 1
    enrolled = db.session.scalar(select(func.count()).select_from(Enrollment).where(
        Enrollment.status == Status.ENROLLED))
    assert series[-1].total == enrolled


def test_statistics_pagination(staff_client, make_term, make_course, monkeypatch):
    from enrollment.reports import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    term = make_term(code="2027SP")
    for i in range(5):
        make_course(term=term, code=f"X{i}")
    html = staff_client.get("/reports/enrollment?term=2027SP&page=3").get_data(as_text=True)
    assert "Page 3 of 3" in html and rows_of(html, 'class="stats-row"') == 1
    html = staff_client.get("/reports/enrollment?term=2027SP&page=99").get_data(as_text=True)
    assert "Page 3 of 3" in html


def test_no_data_at_all(staff_client):
    for url in ("/reports/enrollment", "/reports/", "/reports/enrollment.csv"):
        assert staff_client.get(url).status_code == 200
    assert "There are no courses" in staff_client.get("/reports/enrollment").get_data(
        as_text=True)


def test_index_lists_courses_with_roster_links(staff_client, school):
    html = staff_client.get("/reports/?term=2027SP").get_data(as_text=True)
    for course in ("full", "half", "empty", "none"):
        assert f'/reports/courses/{school[course].id}/roster.csv' in html
    assert "CS100" not in html
    assert "CS100" in staff_client.get("/reports/?term=all").get_data(as_text=True)


def test_student_report_shows_courses_positions_and_history(staff_client, school,
                                                            make_student):
    student = make_student(name="Wait <Listed>")
    enroll(make_student(), school["full"], at=NOW - timedelta(hours=2))  # waitlist #1
    enroll(student, school["full"], at=NOW - timedelta(hours=1))         # waitlist #2
    enroll(student, school["half"], at=NOW)
    complete(student, school["past"], "A-", at=NOW - timedelta(days=100))
    html = staff_client.get(f"/reports/students/{student.id}").get_data(as_text=True)
    assert "Wait &lt;Listed&gt;" in html and "<Listed>" not in html
    assert rows_of(html, 'class="link-row') == 3
    full_row = html[html.index("status-row-waitlisted"):]
    assert '<td class="text-right waitlist-position">2</td>' in full_row.split("</tr>")[0]
    assert "A-" in html
    history = html[html.index("history-table"):]
    assert rows_of(history, 'class="history-row"') == 3
    assert history.index("2026FA CS100") < history.index("2027SP CS101") \
        < history.index("2027SP CS201")


def test_chart_helpers_escape_and_scale():
    svg = charts.fill_rate_bars([("<b>", 1.5, "(3/2)"), ("ok", None, "")], title="T&C")
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "T&amp;C" in svg and "no seats" in svg
    assert charts.nice_step(3) == 1 and charts.nice_step(100) == 50 and charts.nice_step(37) == 10
    from datetime import date
    single = charts.timeline([(date(2027, 1, 1), 5)], title="one day")
    assert "<path" in single and "01 Jan 2027" in single



def test_fill_rate_chart_scales_across_in_percent_and_cuts_long_labels():
    svg = str(charts.fill_rate_bars([("X" * 30, 0.5, "(1/2)"), ("OVER", 2.0, "(4/2)")],
                                    title="T"))
    assert "viewBox" not in svg and 'width="100%"' in svg  # text keeps its size at any width
    # The scale runs to 200 %: the seats (the track) end half-way, the capacity mark there.
    assert svg.count('class="track" x="0" y=') == svg.count('width="50.00%"') == 2
    assert 'width="25.00%"' in svg and 'width="100.00%"' in svg  # the bars of 50 % and 200 %
    assert svg.count('class="capacity" x1="50.00%"') == 2 and "Capacity (100 %)" in svg
    assert ">" + "X" * 23 + "…</text>" in svg  # cut on the chart, whole in the tooltip:
    assert "<title>" + "X" * 30 + ": 50 % (1/2)</title>" in svg
    assert "200 % (4/2)" in svg and "style=" not in svg
    plain = str(charts.fill_rate_bars([("A", 0.0, "(0/5)")], title="T"))
    assert 'class="bar"' not in plain and 'class="capacity"' not in plain
    assert "Capacity (100 %)" not in plain and "0 % (0/5)" in plain


def _seed(make_term, make_department, make_course, make_student, scale: int):
    term = make_term(code="2027SP")
    student = make_student()
    for d in range(2 * scale):
        dept = make_department()
        for c in range(scale):
            course = make_course(term=term, department=dept, capacity=scale)
            fill_course(course, [f"S{d}-{c}-{i}" for i in range(scale + 1)],
                        start=NOW - timedelta(days=scale * 2) + timedelta(days=c))
    course = make_course(term=term, capacity=0, waitlist_capacity=50)
    for i in range(scale):
        enroll(make_student(), course, at=NOW - timedelta(hours=i + 1))
    enroll(student, course)
    complete(student, make_course(term=term), "B")
    enroll(student, make_course(term=term))
    return student


@pytest.mark.parametrize("path", ["/reports/enrollment", "/reports/enrollment.csv",
                                  "/reports/", "/reports/enrollment?term=all",
                                  "student"])
def test_report_queries_do_not_grow_with_the_data(make_app, login, make_staff, make_term,
                                                  make_department, make_course, make_student,
                                                  count_queries, path, database_url):
    # Two sizes in two fresh databases: the same shape, 1 vs 3 of everything.
    counts = []
    for scale in (1, 3):
        app = make_app()
        with app.app_context():
            staff = make_staff()
            student = _seed(make_term, make_department, make_course, make_student, scale)
            db.session.commit()
            url = f"/reports/students/{student.id}" if path == "student" else path
            client = app.test_client()
            login(staff, client)
            db.session.expire_all()
            with count_queries() as q:
                response = client.get(url)
            assert response.status_code == 200
            counts.append(q.count)
            db.session.remove()
    assert counts[0] == counts[1] <= 7, counts
