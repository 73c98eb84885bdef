"""The schedule as an iCalendar file: one weekly recurring event per enrolled course."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from ..models import DAY_LETTERS, Course, Student

ICAL_DAYS = dict(zip(DAY_LETTERS, ["MO", "TU", "WE", "TH", "FR", "SA", "SU"], strict=True))
UID_DOMAIN = "enrollment"


def first_meeting(start: date, days: str) -> date:
    """The first day on or after `start` whose weekday is one of `days` (letters MTWRFSU)."""
    for offset in range(7):
        day = start + timedelta(days=offset)
        if DAY_LETTERS[day.weekday()] in days:
            return day
    raise ValueError(f"no meeting day in {days!r}")


def course_event(course: Course, *, tz: ZoneInfo, stamp: datetime) -> Event | None:
    """The weekly meetings of a course between the term's first and last day of classes.

    None when the course has no meeting time or never meets during the term.
    """
    if not (course.days and course.start_time and course.end_time):
        return None
    term = course.term
    first = first_meeting(term.classes_start, course.days)
    if first > term.classes_end:
        return None
    event = Event()
    # Stable across downloads, so that a re-import updates the event instead of adding one.
    event.add("uid", f"course-{course.id}-{term.code}@{UID_DOMAIN}")
    event.add("dtstamp", stamp)
    event.add("summary", f"{course.code} {course.title}")
    event.add("dtstart", datetime.combine(first, course.start_time, tzinfo=tz))
    event.add("dtend", datetime.combine(first, course.end_time, tzinfo=tz))
    # RFC 5545: with a zoned DTSTART, UNTIL is given in UTC; the last class day is included.
    until = datetime.combine(term.classes_end, time(23, 59, 59), tzinfo=tz).astimezone(UTC)
    event.add("rrule", {"freq": "weekly", "byday": [ICAL_DAYS[d] for d in course.meets_on()],
                        "until": until})
    if course.location:
        event.add("location", course.location)
    details = [f"{term.name or term.code} · {course.credits} credits"]
    if course.instructor:
        details.append(f"Instructor: {course.instructor}")
    event.add("description", "\n".join(details))
    return event


def schedule_calendar(student: Student, courses: list[Course], *, tz: ZoneInfo,
                      now: datetime) -> bytes:
    """The iCalendar bytes for a student's enrolled courses, times in the school's zone."""
    calendar = Calendar()
    calendar.add("prodid", "-//Enrollment//Student schedule//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"Classes of {student.name}")
    for course in courses:
        event = course_event(course, tz=tz, stamp=now)
        if event is not None:
            calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
