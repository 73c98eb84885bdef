"""The weekly grid: where each meeting sits on a Monday–Sunday, hour-by-hour timetable."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from ..models import DAY_LETTERS, Course
from ..models.catalog import DAY_NAMES

SLOT_MINUTES = 15
WEEKDAYS = "MTWRF"  # always shown; Saturday and Sunday only when something meets then


@dataclass(frozen=True)
class Block:
    course: Course
    column: int  # CSS grid column (1 is the hour labels)
    row_start: int  # CSS grid rows (1 is the day headers)
    row_end: int


@dataclass(frozen=True)
class WeekGrid:
    days: list[tuple[str, str]]  # (letter, short name)
    hours: list[tuple[int, int]]  # (hour, CSS grid row where it starts)
    slots: int
    blocks: list[Block]
    unscheduled: list[Course]

    def by_day(self) -> list[tuple[str, list[Course]]]:
        """Day name and the courses meeting that day in time order: the phone's list view."""
        result = []
        for letter, name in self.days:
            courses = sorted((b.course for b in self.blocks
                              if self.days[b.column - 2][0] == letter),
                             key=lambda c: c.start_time)
            if courses:
                result.append((name, courses))
        return result


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def week_grid(courses: list[Course]) -> WeekGrid:
    """Lay the courses' weekly meetings on a grid of 15-minute rows."""
    timed = [c for c in courses if c.days and c.start_time and c.end_time]
    unscheduled = [c for c in courses if c not in timed]
    letters = set(WEEKDAYS) | {d for c in timed for d in c.days}
    days = [(d, DAY_NAMES[d]) for d in DAY_LETTERS if d in letters]
    if not timed:
        return WeekGrid(days, [], 0, [], unscheduled)

    first_hour = min(c.start_time.hour for c in timed)
    last_hour = max(_minutes(c.end_time) + 59 for c in timed) // 60  # round the end up
    origin = first_hour * 60
    slots = (last_hour - first_hour) * 60 // SLOT_MINUTES
    column_of = {letter: index + 2 for index, (letter, _) in enumerate(days)}
    blocks = [
        Block(course=c, column=column_of[d],
              row_start=2 + (_minutes(c.start_time) - origin) // SLOT_MINUTES,
              row_end=2 + -(-(_minutes(c.end_time) - origin) // SLOT_MINUTES))
        for c in timed for d in c.meets_on()
    ]
    hours = [(h, 2 + (h - first_hour) * 60 // SLOT_MINUTES) for h in range(first_hour, last_hour)]
    return WeekGrid(days, hours, slots, blocks, unscheduled)
