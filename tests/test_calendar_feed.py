"""The private calendar address: turned on, replaced and turned off by the student (POST with
CSRF); read by calendar apps without logging in, times in the school's zone with a
VTIMEZONE; a replaced or turned-off address answers 404."""
from __future__ import annotations

import re

import pytest
from icalendar import Calendar

from enrollment.extensions import db
from enrollment.models import Student
from tests.factories import at
from tests.web_helpers import enroll, flashes


def feed_url(html: str) -> str:
    return re.search(r'id="calendar-feed-url"[^>]*value="http://localhost(/calendar/[^"]+)"',
                     html).group(1)


@pytest.mark.config(SCHOOL_TIMEZONE="America/New_York")
def test_turn_on_read_without_login_replace_and_turn_off(client, login, make_student,
                                                          make_course):
    student = make_student(name="Zoë Ångström")
    course = make_course(code="CS101", days="MW", start_time=at("09:00"), end_time=at("09:50"))
    enroll(student, course)
    db.session.commit()
    login(student.user)
    page = client.get("/me/schedule").text
    assert "Turn on the calendar address" in page and "calendar-feed-url" not in page
    on = client.post("/me/calendar-feed", follow_redirects=True)
    assert "Your private calendar address is on" in " ".join(flashes(on))
    url = feed_url(on.text)

    client.post("/auth/logout")
    with client.get(url) as feed:  # a calendar app: no session
        assert feed.status_code == 200 and feed.mimetype == "text/calendar"
        assert "Content-Disposition" not in feed.headers
        assert "Set-Cookie" not in feed.headers
        calendar = Calendar.from_ical(feed.data)
    (event,) = calendar.walk("VEVENT")
    assert str(event["summary"]).startswith("CS101")
    assert event["dtstart"].dt.tzinfo is not None
    assert event["dtstart"].params["TZID"] == "America/New_York"
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["America/New_York"]
    assert "Zoë Ångström" in str(calendar["x-wr-calname"])

    login(student.user)
    renewed = client.post("/me/calendar-feed", follow_redirects=True)
    assert "replaces the old one" in " ".join(flashes(renewed))
    new_url = feed_url(renewed.text)
    assert new_url != url
    assert client.get(url).status_code == 404
    assert client.get(new_url).status_code == 200
    off = client.post("/me/calendar-feed/off", follow_redirects=True)
    assert "is off" in " ".join(flashes(off))
    assert client.get(new_url).status_code == 404
    db.session.expire_all()
    assert db.session.get(Student, student.id).calendar_token is None


@pytest.mark.parametrize("path", ["/calendar/nope.ics", "/calendar/" + "A" * 43 + ".ics",
                                  "/calendar/" + "A" * 500 + ".ics", "/calendar/%00.ics"])
def test_unknown_addresses_are_not_found(client, path):
    assert client.get(path).status_code == 404


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_turning_on_needs_the_csrf_token(client, login, make_student):
    student = make_student()
    db.session.commit()
    login(student.user)
    assert client.post("/me/calendar-feed").status_code == 400
    assert client.post("/me/calendar-feed/off").status_code == 400
    db.session.expire_all()
    assert db.session.get(Student, student.id).calendar_token is None
