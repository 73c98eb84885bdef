"""The catalog's planning filters: a free seat (as the viewer may take it), the days and time of
day a course meets, its credits; unknown values are reported and ignored, links keep them."""
from __future__ import annotations

import re
from datetime import time, timedelta

import pytest

from enrollment.extensions import db
from enrollment.models import Reservation
from tests import factories
from tests.web_helpers import enroll


def codes(client, **args) -> list[str]:
    html = client.get("/courses", query_string=args).text
    return re.findall(r'<span class="course-code">([^<]+)</span>', html)


@pytest.fixture
def week(make_course, make_term):
    term = make_term()
    make_course(term=term, code="MON9", days="MW", start_time=time(9), end_time=time(10),
                credits=3)
    make_course(term=term, code="TUE13", days="TR", start_time=time(13), end_time=time(14),
                credits=4)
    make_course(term=term, code="FRI18", days="F", start_time=time(18), end_time=time(21),
                credits=1)
    make_course(term=term, code="BIG", days="MWF", start_time=time(11, 30),
                end_time=time(12, 30), credits=6)
    make_course(term=term, code="ONLINE", credits=3)
    db.session.commit()
    return term


@pytest.mark.parametrize("args, found", [
    ({}, ["BIG", "FRI18", "MON9", "ONLINE", "TUE13"]),
    ({"days": ["M", "W"]}, ["MON9"]),
    ({"days": ["M", "T", "W", "R"]}, ["MON9", "TUE13"]),
    ({"days": ["F"]}, ["FRI18"]),
    ({"time_of_day": "morning"}, ["BIG", "MON9"]),
    ({"time_of_day": "afternoon"}, ["TUE13"]),
    ({"time_of_day": "evening"}, ["FRI18"]),
    ({"credits": "3"}, ["MON9", "ONLINE"]),
    ({"credits": "5"}, ["BIG"]),
    ({"credits": "1", "days": ["F"], "time_of_day": "evening"}, ["FRI18"]),
])
def test_days_time_of_day_and_credits(client, week, args, found):
    assert codes(client, **args) == found


def test_free_seats_as_the_viewer_may_take_them(client, login, make_course, make_student,
                                                make_term):
    term = make_term()
    full = make_course(term=term, code="FULL", capacity=1)
    make_course(term=term, code="OPEN", capacity=2)
    kept = make_course(term=term, code="KEPT", capacity=2)
    enroll(make_student(program="History"), full)
    enroll(make_student(program="History"), kept)
    db.session.add(Reservation(course=kept, program="Computer Science", seats=1,
                               release_at=factories.NOW + timedelta(days=3)))
    history = make_student(program="History")
    science = make_student(program=" computer science ")
    db.session.commit()
    assert codes(client, open_seats="y") == ["OPEN"]       # KEPT's last seat is reserved
    login(science.user)
    assert codes(client, open_seats="y") == ["KEPT", "OPEN"]
    login(history.user)
    assert codes(client, open_seats="y") == ["OPEN"]
    # A member who takes the reserved seat uses it up: nobody else sees KEPT as open.
    enroll(make_student(program="Computer Science"), kept)
    db.session.commit()
    login(science.user)
    assert codes(client, open_seats="y") == ["OPEN"]


def test_free_seats_leave_out_closed_terms(client, make_course, make_term):
    make_course(term=make_term(enrollment_closes=factories.NOW - timedelta(days=1)),
                code="CLOSED")
    make_course(term=make_term(enrollment_opens=factories.NOW + timedelta(days=1)), code="SOON")
    db.session.commit()
    assert codes(client, open_seats="y") == ["SOON"]
    assert sorted(codes(client)) == ["CLOSED", "SOON"]


def test_a_released_reservation_holds_nothing(client, make_course, make_term):
    kept = make_course(term=make_term(), code="KEPT", capacity=1)
    db.session.add(Reservation(course=kept, program="Music", seats=1,
                               release_at=factories.NOW - timedelta(minutes=1)))
    db.session.commit()
    assert codes(client, open_seats="y") == ["KEPT"]


@pytest.mark.parametrize("args, note", [
    ({"days": ["M", "W", "X"]}, "Days are chosen among Mon–Sun; the others were ignored."),
    ({"time_of_day": "noonish"}, "“noonish” is not a choice of time of day; it was ignored."),
    ({"credits": "99"}, "“99” is not a choice of credits; it was ignored."),
    ({"credits": "three"}, "“three” is not a choice of credits; it was ignored."),
])
def test_unknown_values_are_reported_and_ignored(client, week, args, note):
    html = client.get("/courses", query_string=args).text
    assert note in html.replace("&#34;", '"')
    found = re.findall(r'<span class="course-code">([^<]+)</span>', html)
    assert found == (["MON9"] if args.get("days") else
                     ["BIG", "FRI18", "MON9", "ONLINE", "TUE13"])


def test_pages_keep_the_filters(client, app, week, make_course):
    for n in range(30):
        make_course(term=week, code=f"X{n:02d}", days="M", start_time=time(8),
                    end_time=time(9))
    db.session.commit()
    html = client.get("/courses", query_string={"days": ["M", "W"], "open_seats": "y",
                                                "time_of_day": "morning"}).text
    next_link = re.search(r'href="([^"]*page=2[^"]*)"', html).group(1).replace("&amp;", "&")
    assert "days=M" in next_link and "days=W" in next_link
    assert "open_seats=y" in next_link and "time_of_day=morning" in next_link
    assert 'id="days-0" name="days" type="checkbox" value="M"' in html or 'checked' in html
    assert "Clear search and filters" in html
