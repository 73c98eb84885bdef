"""GET /me/schedule and /me/schedule.ics: the student's own courses, grid and calendar."""
import re
from datetime import UTC, date, datetime

import pytest
from icalendar import Calendar

from enrollment.extensions import db
from enrollment.schedule.calendar import first_meeting
from enrollment.schedule.grid import week_grid
from tests.factories import at
from tests.web_helpers import complete, enroll, text


def test_empty_schedule(client, login, make_student):
    student = make_student()
    db.session.commit()
    login(student.user)
    response = client.get("/me/schedule")
    assert response.status_code == 200
    assert "You are not enrolled in any course yet." in response.text
    assert "schedule.ics" not in response.text


def test_schedule_lists_enrolled_waitlisted_and_completed(client, login, make_student,
                                                           make_course, make_term):
    spring, fall = make_term(name="Spring 2027"), make_term(name="Fall 2026")
    student = make_student(max_credits=18)
    intro = make_course(term=spring, code="CS101", title="Intro", credits=4, days="MWF",
                        start_time=at("09:00"), end_time=at("09:50"), location="Hall A")
    calc = make_course(term=spring, code="MATH150", title="Calculus", credits=3, days="TR",
                       start_time=at("13:00"), end_time=at("14:15"))
    full = make_course(term=spring, code="CS201", title="Algorithms", capacity=1)
    old = make_course(term=fall, code="CS100", title="Basics")
    enroll(student, intro)
    enroll(student, calc)
    enroll(make_student(), full)
    enroll(make_student(), full)
    enroll(student, full)
    complete(student, old, "A-")
    db.session.commit()
    login(student.user)
    html = client.get("/me/schedule").text
    page = text(html)
    assert "Spring 2027 7 of 18 credits enrolled" in page
    assert "CS101 Intro Mon Wed Fri 09:00–09:50" in page
    assert "MATH150 Calculus Tue Thu 13:00–14:15" in page
    assert "Total 7" in page
    assert "CS201 Algorithms position 2" in page
    assert "Fall 2026 CS100 Basics 3 A-" in page
    # The weekly grid: Monday to Friday, CS101 three times and MATH150 twice.
    grid = html[html.index('class="week-grid"'):html.index('class="week-list')]
    assert re.findall(r'class="wg-day"[^>]*>(\w+)<', grid) == ["Mon", "Tue", "Wed", "Thu",
                                                                "Fri"]
    assert grid.count("<strong>CS101</strong>") == 3
    assert grid.count("<strong>MATH150</strong>") == 2
    assert 'href="/me/schedule.ics"' in html


def test_schedule_shows_only_own_courses(client, login, make_student, make_course):
    me, other = make_student(), make_student()
    mine = make_course(code="MINE1", title="Mine", days="M", start_time=at("09:00"),
                       end_time=at("10:00"))
    theirs = make_course(code="THEIRS1", title="Theirs", days="M", start_time=at("09:00"),
                         end_time=at("10:00"))
    enroll(me, mine)
    enroll(other, theirs)
    db.session.commit()
    login(me.user)
    html = client.get("/me/schedule").text
    assert "MINE1" in html and "THEIRS1" not in html
    ics = client.get("/me/schedule.ics").text
    assert "MINE1" in ics and "THEIRS1" not in ics


def test_week_grid_columns_only_as_needed(app, make_course):
    weekday = make_course(days="MW", start_time=at("09:00"), end_time=at("10:15"))
    weekend = make_course(days="SU", start_time=at("14:30"), end_time=at("16:00"))
    tba = make_course(days="", start_time=None, end_time=None)
    grid = week_grid([weekday, tba])
    assert [name for _, name in grid.days] == ["Mon", "Tue", "Wed", "Thu", "Fri"]
    assert grid.unscheduled == [tba]
    assert [h for h, _ in grid.hours] == [9, 10]
    assert {(b.column, b.row_start, b.row_end) for b in grid.blocks} == {(2, 2, 7), (4, 2, 7)}
    grid = week_grid([weekday, weekend])
    assert [name for _, name in grid.days] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert [h for h, _ in grid.hours] == list(range(9, 16))
    assert [(day, [c.id for c in cs]) for day, cs in grid.by_day()] == [
        ("Mon", [weekday.id]), ("Wed", [weekday.id]), ("Sat", [weekend.id]),
        ("Sun", [weekend.id])]


def test_schedule_runs_a_fixed_number_of_queries(client, login, count_queries, make_student,
                                                 make_course, make_term):
    term = make_term()
    student = make_student(max_credits=100)
    login(student.user)

    def add(first, n):
        for i in range(first, first + n):
            course = make_course(term=term, capacity=1, days="F", start_time=at(f"{8 + i}:00"),
                                 end_time=at(f"{8 + i}:50"))
            enroll(student, course)
            waitlisted = make_course(term=term, capacity=0)
            enroll(student, waitlisted)
            complete(student, make_course())

    def measure():
        db.session.commit()
        with count_queries() as counter:
            assert client.get("/me/schedule").status_code == 200
            assert client.get("/me/schedule.ics").status_code == 200
        return counter.count

    add(0, 1)
    small = measure()
    add(1, 8)
    assert measure() == small
    assert small <= 10


def test_ics_download(client, login, make_student, make_course, make_term):
    term = make_term(code="2027SP", classes_start=date(2027, 2, 2),  # a Tuesday
                     classes_end=date(2027, 5, 14))
    student = make_student(student_number="S1234567")
    course = make_course(term=term, code="CS101", title="Intro", days="MWF",
                         start_time=at("09:00"), end_time=at("09:50"), location="Hall A")
    enroll(student, make_course(term=term, code="TBA1"))  # no meeting time: no event
    enroll(student, course)
    waitlisted = make_course(term=term, code="WAIT1", capacity=0, days="M",
                             start_time=at("18:00"), end_time=at("19:00"))
    enroll(student, waitlisted)
    db.session.commit()
    login(student.user)
    response = client.get("/me/schedule.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="schedule-S1234567.ics"')
    calendar = Calendar.from_ical(response.data)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert str(event["SUMMARY"]) == "CS101 Intro"
    assert str(event["LOCATION"]) == "Hall A"
    assert str(event["UID"]) == f"course-{course.id}-2027SP@enrollment"
    assert event.decoded("DTSTART") == datetime(2027, 2, 3, 9, 0, tzinfo=UTC)  # first Wed
    assert event.decoded("DTEND") == datetime(2027, 2, 3, 9, 50, tzinfo=UTC)
    rule = event["RRULE"]
    assert rule["FREQ"] == ["WEEKLY"]
    assert rule["BYDAY"] == ["MO", "WE", "FR"]
    assert rule["UNTIL"] == [datetime(2027, 5, 14, 23, 59, 59, tzinfo=UTC)]
    # Stable: the same UID on the next download.
    again = Calendar.from_ical(client.get("/me/schedule.ics").data).walk("VEVENT")[0]
    assert again["UID"] == event["UID"]


@pytest.mark.config(SCHOOL_TIMEZONE="America/New_York")
def test_ics_uses_school_time_zone(client, login, make_student, make_course, make_term):
    term = make_term(classes_start=date(2027, 2, 1), classes_end=date(2027, 5, 14))
    student = make_student()
    enroll(student, make_course(term=term, days="TR", start_time=at("10:30"),
                                end_time=at("11:45")))
    db.session.commit()
    login(student.user)
    raw = client.get("/me/schedule.ics").data.decode()
    assert "DTSTART;TZID=America/New_York:20270202T103000" in raw
    assert "BEGIN:VTIMEZONE" in raw and "TZID:America/New_York" in raw
    # UNTIL is UTC: the end of 14 May in New York is 03:59:59 UTC on the 15th.
    assert "UNTIL=20270515T035959Z" in raw
    event = Calendar.from_ical(raw.encode()).walk("VEVENT")[0]
    assert event.decoded("DTSTART").utcoffset().total_seconds() == -5 * 3600


def test_first_meeting():
    monday = date(2027, 2, 1)
    assert first_meeting(monday, "M") == monday
    assert first_meeting(monday, "RF") == date(2027, 2, 4)
    assert first_meeting(monday, "U") == date(2027, 2, 7)
    with pytest.raises(ValueError):
        first_meeting(monday, "")


def test_unsafe_student_number_gives_safe_filename(client, login, make_student):
    student = make_student(student_number='a"b\r\nc/../x')
    db.session.commit()
    login(student.user)
    response = client.get("/me/schedule.ics")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="schedule-')
    assert '"' not in disposition[len('attachment; filename="'):-1]
    assert "/" not in disposition and "\r" not in disposition


def test_terms_follow_the_display_order(client, login, make_student, make_course, make_term):
    # Term.display_order: the newest enrollment window first, whenever classes start.
    newer = make_term(name="Summer 2027", enrollment_opens=datetime(2027, 1, 5, tzinfo=UTC),
                      classes_start=date(2027, 3, 1), classes_end=date(2027, 6, 1))
    older = make_term(name="Spring 2027", classes_start=date(2027, 2, 1))
    past = make_term(name="Fall 2026", enrollment_opens=datetime(2026, 6, 1, tzinfo=UTC),
                     enrollment_closes=datetime(2026, 6, 30, tzinfo=UTC),
                     classes_start=date(2026, 9, 1), classes_end=date(2026, 12, 15))
    oldest = make_term(name="Spring 2026", enrollment_opens=datetime(2025, 12, 1, tzinfo=UTC),
                       enrollment_closes=datetime(2025, 12, 31, tzinfo=UTC),
                       classes_start=date(2026, 2, 1), classes_end=date(2026, 5, 15))
    student = make_student()
    enroll(student, make_course(term=older, code="OLD1"), staff=True)
    enroll(student, make_course(term=newer, code="NEW1"), staff=True)
    complete(student, make_course(term=oldest, code="DONE2"))
    complete(student, make_course(term=past, code="DONE1"))
    db.session.commit()
    login(student.user)
    page = text(client.get("/me/schedule").text)
    assert page.index("Summer 2027") < page.index("Spring 2027") < page.index("DONE1") \
        < page.index("DONE2")
