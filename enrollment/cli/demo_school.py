"""The demo school built in memory (no database): terms, courses, students, enrollments.

`build_school` is deterministic for a given seed and `now`. It keeps every rule the services
enforce, so that the bulk-written demo data is data the rules engine could have produced:
enrolled ≤ capacity, a waitlist only on a full course and within its capacity, waitlist
sequence 1, 2, 3… in arrival order, no time conflict between a student's enrolled (or
waitlisted) courses, the term's credits within the student's maximum, prerequisites completed
in the past term, co-requisites enrolled together (the few pairs linked as co-requisites are
chosen among those the students' enrollments already satisfy).
"""
from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from ..models import Status
from ..services import grades
from . import demo_catalog as catalog

PAST, CURRENT = 0, 1


@dataclass
class DemoTerm:
    code: str
    name: str
    enrollment_opens: datetime
    enrollment_closes: datetime
    drop_deadline: datetime
    classes_start: date
    classes_end: date


@dataclass
class DemoCourse:
    term: int
    dept: str
    code: str
    title: str
    credits: int
    prereqs: tuple[str, ...]
    days: str
    start_time: time
    end_time: time
    location: str
    instructor: str
    popularity: float
    capacity: int = 0
    waitlist_capacity: int = 0
    corequisites: tuple[str, ...] = ()  # codes of courses of the same term taken with it

    def overlaps(self, other: DemoCourse) -> bool:
        return bool(set(self.days) & set(other.days)) and (
            self.start_time < other.end_time and other.start_time < self.end_time)


@dataclass
class DemoStudent:
    number: str
    name: str
    email: str
    dept: str | None
    program: str
    year: int
    max_credits: int


@dataclass
class DemoLink:
    student: int
    course: int
    status: Status
    at: datetime
    waitlist_seq: int | None = None
    grade: str | None = None


@dataclass
class DemoSchool:
    terms: list[DemoTerm]
    departments: list[tuple[str, str]]
    courses: list[DemoCourse]
    students: list[DemoStudent]
    links: list[DemoLink] = field(default_factory=list)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def _season(start: date, end: date) -> tuple[int, str]:
    middle = start + (end - start) / 2
    return (middle.year, "SP") if middle.month <= 6 else (middle.year, "FA")


def _next_season(year: int, season: str) -> tuple[int, str]:
    return (year, "FA") if season == "SP" else (year + 1, "SP")


def _term(year: int, season: str, opens: datetime, closes: datetime, start: date,
          end: date) -> DemoTerm:
    name = f"{'Spring' if season == 'SP' else 'Fall'} {year}"
    deadline = _midnight(start + timedelta(days=21)) - timedelta(minutes=1)
    return DemoTerm(f"{year}{season}", name, opens, closes, deadline, start, end)


def build_terms(now: datetime) -> tuple[DemoTerm, DemoTerm]:
    """A past term whose classes are over and a current term whose window is open at `now`."""
    today = now.astimezone(UTC).date()
    opens = _midnight(today - timedelta(days=14))
    closes = _midnight(today + timedelta(days=31)) - timedelta(minutes=1)
    start = closes.date() + timedelta(days=7 - closes.weekday())  # the Monday after
    end = start + timedelta(weeks=15, days=-3)
    cur_year, cur_season = _season(start, end)

    past_end = today - timedelta(days=14 + (today.weekday() - 4) % 7)  # a Friday, 2+ weeks ago
    past_start = past_end - timedelta(weeks=15, days=-3)
    past_year, past_season = _season(past_start, past_end)
    if (past_year, past_season) == (cur_year, cur_season):
        cur_year, cur_season = _next_season(cur_year, cur_season)
    past = _term(past_year, past_season, _midnight(past_start - timedelta(days=60)),
                 _midnight(past_start - timedelta(days=6)) - timedelta(minutes=1),
                 past_start, past_end)
    current = _term(cur_year, cur_season, opens, closes, start, end)
    return past, current


def _catalog_entries() -> dict[str, list[tuple[int, str, int, tuple[str, ...]]]]:
    return {code: list(courses) for code, _name, courses in catalog.DEPARTMENTS}


def _extra_entries(dept: str, courses: list, needed: int) -> None:
    """Append generated courses (numbers 500+) until the department has `needed` courses.

    One in three builds on the catalog course it is named after (a prerequisite); the others
    are open to everyone, so that a large demo is not mostly courses nobody may take.
    """
    bases = list(courses)
    number = 500
    for round_no in itertools.count(1):
        for pattern in catalog.EXTRA_TITLE_PATTERNS:
            for base_number, base_title, credits, _ in bases:
                if len(courses) >= needed:
                    return
                title = pattern.format(base_title)
                if round_no > 1:
                    title += f" {round_no}"
                prereqs = (f"{dept}{base_number}",) if number % 3 == 0 else ()
                courses.append((number, title, credits, prereqs))
                number += 1


def _round_robin(lists: list[list]) -> list:
    out = []
    for group in itertools.zip_longest(*lists):
        out.extend(item for item in group if item is not None)
    return out


def build_courses(rng: random.Random, n_courses: int) -> list[DemoCourse]:
    """About 60% of the sections in the current term and 40% (lower levels first) in the past."""
    n_past = max(1, n_courses * 2 // 5)
    n_current = max(1, n_courses - n_past)
    entries = _catalog_entries()
    per_dept = -(-max(n_past, n_current) // len(entries))
    for dept, courses in entries.items():
        _extra_entries(dept, courses, per_dept)
    current = _round_robin([[(d, c) for c in cs] for d, cs in entries.items()])[:n_current]
    past = _round_robin([[(d, c) for c in sorted(cs)] for d, cs in entries.items()])[:n_past]
    patterns = catalog.MEETING_PATTERNS
    weights = list(itertools.accumulate(p[3] for p in patterns))
    result = []
    for term, chosen in ((PAST, past), (CURRENT, current)):
        for dept, (number, title, credits, prereqs) in chosen:
            days, start, minutes, _w = patterns[bisect.bisect(weights, rng.random() * weights[-1])]
            begin = datetime.strptime(start, "%H:%M")
            room = f"{rng.choice(catalog.BUILDINGS)} {rng.randint(1, 4)}{rng.randint(1, 40):02d}"
            teacher = f"{rng.choice(catalog.FIRST_NAMES)[0]}. {rng.choice(catalog.LAST_NAMES)}"
            popularity = rng.lognormvariate(0, 0.6) * (2.0 if number < 200 else 1.0)
            result.append(DemoCourse(
                term=term, dept=dept, code=f"{dept}{number}", title=title, credits=credits,
                prereqs=prereqs, days=days, start_time=begin.time(),
                end_time=(begin + timedelta(minutes=minutes)).time(),
                location=room, instructor=f"Dr. {teacher}",
                popularity=popularity,
            ))
    return result


def build_students(rng: random.Random, n_students: int) -> list[DemoStudent]:
    """The named demo students first, then generated ones with unique numbers and emails."""
    names = dict((code, name) for code, name, _ in catalog.DEPARTMENTS)
    depts = list(names)
    students = []
    for i in range(n_students):
        number = f"2{i + 1:07d}"
        if i < len(catalog.DEMO_STUDENTS):
            email, name, dept, year = catalog.DEMO_STUDENTS[i]
            max_credits = 18
        else:
            first, last = rng.choice(catalog.FIRST_NAMES), rng.choice(catalog.LAST_NAMES)
            name, email = f"{first} {last}", f"{first}.{last}.{number}@example.edu".lower()
            dept = rng.choice(depts) if rng.random() < 0.9 else None
            year = rng.randint(1, 4)
            max_credits = rng.choices([18, 15, 21, 12], weights=[80, 10, 5, 5])[0]
        program = names[dept] if dept else "Undeclared"
        students.append(DemoStudent(number, name, email, dept, program, year, max_credits))
    return students


class _Picker:
    """Weighted random picks of course indexes, overall or within one department."""

    def __init__(self, rng: random.Random, courses: list[DemoCourse], indexes: list[int]):
        self.rng = rng
        self.all = self._table(courses, indexes)
        self.by_dept = {}
        for dept in {courses[i].dept for i in indexes}:
            self.by_dept[dept] = self._table(courses, [i for i in indexes
                                                       if courses[i].dept == dept])

    @staticmethod
    def _table(courses, indexes):
        return indexes, list(itertools.accumulate(courses[i].popularity for i in indexes))

    def pick(self, dept: str | None) -> int:
        table = self.by_dept.get(dept) if dept and self.rng.random() < 0.6 else None
        indexes, cum = table or self.all
        return indexes[bisect.bisect(cum, self.rng.random() * cum[-1]) if len(cum) > 1 else 0]

    def wishes(self, dept: str | None, count: int) -> list[int]:
        seen: dict[int, None] = {}
        for _ in range(count * 3):
            seen.setdefault(self.pick(dept))
            if len(seen) >= count:
                break
        return list(seen)


def _size_courses(rng: random.Random, courses: list[DemoCourse], demand: dict[int, int]):
    """Capacities from the demand, some below it (full, with waitlists), most above."""
    for index, wanted in demand.items():
        course = courses[index]
        if wanted:
            capacity = round(wanted * rng.uniform(0.6, 1.35) / 5) * 5
        else:
            capacity = rng.randrange(10, 45, 5)
        course.capacity = min(200, max(10, capacity))
        course.waitlist_capacity = 0 if rng.random() < 0.1 else max(
            2, round(course.capacity * rng.uniform(0.1, 0.3)))


@dataclass
class _Wishes:
    """A student's choices for a term: first choices (waitlisted when full, in the current
    term), then backups with an open seat, taken while they have fewer than `target` seats."""
    first: list[int]
    backup: list[int] = field(default_factory=list)
    target: int = 0


def _allocate(school: DemoSchool, wishes: list[_Wishes], order: list[int], *,
              status: Status, times: tuple[datetime, datetime], rng: random.Random) -> None:
    """Give each student, in arrival order, the seats they wish for that the rules allow."""
    courses, students = school.courses, school.students
    enrolled = {i: 0 for i in range(len(courses))}
    waitlisted = dict(enrolled)
    first, last = times
    step = (last - first) / max(1, len(order))
    grades, weights = zip(*catalog.GRADE_WEIGHTS, strict=True)
    for rank, s in enumerate(order):
        wish = wishes[s]
        taken: list[DemoCourse] = []
        seats = credits = 0
        at = first + step * rank
        for n, c in enumerate(itertools.chain(wish.first, wish.backup)):
            backup = n >= len(wish.first)
            if backup and seats >= wish.target:
                break
            course = courses[c]
            if credits + course.credits > students[s].max_credits:
                continue
            if any(course.overlaps(other) for other in taken):
                continue
            if enrolled[c] < course.capacity:
                enrolled[c] += 1
                seats += 1
                link = DemoLink(s, c, status, at)
                if status == Status.COMPLETED:
                    link.grade = rng.choices(grades, weights)[0]
            elif (not backup and status != Status.COMPLETED
                  and waitlisted[c] < course.waitlist_capacity):
                waitlisted[c] += 1
                link = DemoLink(s, c, Status.WAITLISTED, at, waitlist_seq=waitlisted[c])
            else:
                continue
            school.links.append(link)
            taken.append(course)
            credits += course.credits
            at += timedelta(seconds=rng.randint(20, 300))


def build_school(*, n_students: int, n_courses: int, seed: int, now: datetime) -> DemoSchool:
    """The whole demo data set, deterministic for (n_students, n_courses, seed, now)."""
    rng = random.Random(seed)
    terms = build_terms(now)
    courses = build_courses(rng, n_courses)
    students = build_students(rng, n_students)
    used = {c.dept for c in courses}
    departments = [(code, name) for code, name, _ in catalog.DEPARTMENTS if code in used]
    school = DemoSchool(list(terms), departments, courses, students)

    # The past term: students beyond their first year completed a full load, 3 to 5
    # courses (another one of their picks when a first choice was full).
    past_idx = [i for i, c in enumerate(courses) if c.term == PAST]
    picker = _Picker(rng, courses, past_idx)
    wishes = []
    for st in students:
        count = rng.choice([3, 4, 4, 5]) if st.year > 1 else 0
        chosen = picker.wishes(st.dept, count + 3) if count else []
        wishes.append(_Wishes(chosen[:count], chosen[count:], count))
    _size_courses(rng, courses, _demand(wishes, past_idx))
    order = rng.sample(range(len(students)), len(students))
    past = terms[0]
    _allocate(school, wishes, order, status=Status.COMPLETED, rng=rng,
              times=(past.enrollment_opens, past.enrollment_closes))
    completed = [set() for _ in students]
    for link in school.links:
        if grades.passed(link.grade):  # an F or a W neither counts nor blocks a retake
            completed[link.student].add(courses[link.course].code)

    # The current term: only courses whose prerequisites the student passed.
    cur_idx = [i for i, c in enumerate(courses) if c.term == CURRENT]
    picker = _Picker(rng, courses, cur_idx)
    wishes = []
    for s, st in enumerate(students):
        done = completed[s]
        count = rng.choice([3, 3, 4, 4, 5])
        chosen = [c for c in picker.wishes(st.dept, count * 3) if courses[c].code not in done
                  and all(p in done for p in courses[c].prereqs)]
        wishes.append(_Wishes(chosen[:count + 1], chosen[count + 1:], count))
    _size_courses(rng, courses, _demand(wishes, cur_idx))
    order = rng.sample(range(len(students)), len(students))
    current = terms[1]
    latest = max(current.enrollment_opens, now - timedelta(hours=1))
    _allocate(school, wishes, order, status=Status.ENROLLED, rng=rng,
              times=(current.enrollment_opens, latest))
    _link_corequisites(school, completed)
    return school


COREQUISITE_PAIRS = 3  # how many courses of the current term get a co-requisite


def _link_corequisites(school: DemoSchool, completed: list[set[str]]) -> None:
    """Give a few current-term courses a co-requisite of their department: a course B that
    every student holding A (enrolled or waitlisted) is enrolled in or passed, so that the
    data is what the rules could have produced. Courses with students first."""
    courses = school.courses
    holders: dict[int, set[int]] = {i: set() for i, c in enumerate(courses)
                                    if c.term == CURRENT}
    enrolled: dict[int, set[int]] = {i: set() for i in holders}
    for link in school.links:
        if link.course in holders:
            holders[link.course].add(link.student)
            if link.status == Status.ENROLLED:
                enrolled[link.course].add(link.student)
    by_students = sorted(holders, key=lambda i: (-len(holders[i]), courses[i].code))
    linked = 0
    for a in by_students:
        if linked == COREQUISITE_PAIRS:
            break
        for b in by_students:
            if b == a or courses[b].dept != courses[a].dept:
                continue
            code = courses[b].code
            if all(s in enrolled[b] or code in completed[s] for s in holders[a]):
                courses[a].corequisites = (code,)
                linked += 1
                break


def _demand(wishes: list[_Wishes], indexes: list[int]) -> dict[int, int]:
    """How many students put each course among their first choices."""
    demand = {i: 0 for i in indexes}
    for wish in wishes:
        for c in wish.first:
            demand[c] += 1
    return demand
