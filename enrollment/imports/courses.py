"""Importing courses: `term,code,title,department,credits,capacity,waitlist_capacity,days,
start_time,end_time,location,instructor,prerequisites` (optional: `repeatable`,
`instructor_email`, `corequisites`).

A new department code creates the department (named after its code; rename it in the admin).
Prerequisites are course codes of the same term (in the database or anywhere in the file) or
of an earlier term (by first day of classes); a prerequisite cycle is refused.
Co-requisites (`corequisites`, space-separated codes) are courses of the same term, in the
database or in the file; two courses may be each other's (taken together both ways). An empty
cell removes them; a file without the column leaves them as they are.
Cross-listed groups (`crosslist`, a group key within the term, any case, and
`crosslist_capacity`, the group's seat pool): every row of a group gives the same capacity; a
group has two sections or more (those of the file and those already in it); an empty
`crosslist` cell takes the course out of its group.
`instructor_email` names the account that teaches the course (an existing user whose role is
`instructor`); empty, the course has no instructor account. The display name is the
`instructor` cell, or that user's name when the cell is empty. Capacity
changes of an existing course go through `services.set_capacity`, which promotes from the
waitlist when seats open.
"""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import Form

from .. import services
from ..extensions import db
from ..models import (
    Course,
    Crosslist,
    Department,
    Role,
    Term,
    User,
    crosslist_sections,
    normalize_email,
)
from ..models.catalog import instructor_name
from ..records import CourseFields, CrosslistFields, DepartmentFields, TermFields
from ..services import course_changes, crosslists
from .plan import ApplyContext, ImportPlan, ImportRefused, ImportResult, PlannedRow, RowError
from .reading import Cells, FirstSeen, Table
from .writing import Outcomes, flush_or_refuse

REQUIRED = ("term", "code", "title", "department", "credits", "capacity")
OPTIONAL = ("waitlist_capacity", "days", "start_time", "end_time", "location", "instructor",
            "prerequisites", "repeatable", "instructor_email", "corequisites", "crosslist",
            "crosslist_capacity")
# Course attributes an import sets, with the value a new course gets when the column is absent.
DEFAULTS = {"title": "", "credits": 3, "capacity": 30, "waitlist_capacity": 10, "days": "",
            "start_time": None, "end_time": None, "location": "", "instructor": "",
            "repeatable": False, "instructor_id": None}


class CourseRow(CourseFields):
    """A courses CSV row: the course's own fields, and its term and department by code."""

    term = TermFields.code
    department = DepartmentFields.code


class CrosslistRow(Form):
    """The `crosslist` and `crosslist_capacity` cells of a courses row (both, or neither)."""

    crosslist = CrosslistFields.key
    crosslist_capacity = CrosslistFields.capacity


def plan_rows(table: Table, plan: ImportPlan, *, now: datetime) -> None:
    terms = {t.code: t for t in db.session.scalars(select(Term))}
    departments = set(db.session.scalars(select(Department.code)))
    accounts = _accounts(table)
    parsed: list[tuple[Cells, dict]] = []
    seen = FirstSeen()
    for row in table.rows:
        cells = Cells(row, plan.errors)
        values = _values(cells, terms)
        _instructor(cells, values, accounts)
        key = (values.get("term"), values.get("code"))
        seen.check(cells, "code", key, f"course {key[1]} of term {key[0]}")
        parsed.append((cells, values))

    codes = {v["code"] for _, v in parsed if v.get("code")}
    codes |= {p for _, v in parsed for p in v.get("prerequisites") or ()}
    codes |= {p for _, v in parsed for p in v.get("corequisites") or ()}
    existing = _existing_courses(codes)
    in_file = {key: terms[key[0]] for key in seen.lines if key[0] in terms}
    graph = _prerequisite_graph(existing)
    for cells, values in parsed:
        if cells.ok and values.get("prerequisites") is not None:
            values["prerequisite_keys"] = _resolve(cells, values, terms, existing, in_file)
            if cells.ok:
                graph[(values["term"], values["code"])] = set(values["prerequisite_keys"])
    for cells, values in parsed:
        if cells.ok and values.get("corequisites") is not None:
            values["corequisite_keys"] = _resolve_corequisites(cells, values, existing, in_file)
    _check_crosslists(parsed)
    for cells, values in parsed:
        if cells.ok and values.get("prerequisite_keys") and _in_cycle(
                graph, (values["term"], values["code"])):
            cells.error("prerequisites", "would make a prerequisite cycle (a course that "
                                         "requires itself through others)")
    new_departments: set[str] = set()
    for cells, values in parsed:
        if cells.ok:
            plan.rows.append(_planned(cells.line, values, existing, departments, new_departments))


def _values(cells: Cells, terms: dict[str, Term]) -> dict:
    values = cells.read(CourseRow)
    if values.get("term") and values["term"] not in terms:
        cells.error("term", f"unknown term {values['term']} (import it with the terms first)")
    if cells.has("prerequisites"):
        values["prerequisites"] = _codes(cells.raw("prerequisites"))
    if cells.has("corequisites"):
        values["corequisites"] = _codes(cells.raw("corequisites"))
    if cells.has("crosslist"):
        values["crosslist"] = ""
        if (cells.raw("crosslist") or "").strip():
            values.update(cells.read(CrosslistRow, always=("crosslist", "crosslist_capacity")))
        elif (cells.raw("crosslist_capacity") or "").strip():
            cells.error("crosslist_capacity", "is given without a crosslist key")
    return values


def _group_members(groups: set[tuple[str, str]]) -> dict[tuple[str, str], list[Course]]:
    """The sections in the database of the groups (term code, key), in one query."""
    found: dict[tuple[str, str], list[Course]] = {}
    if not groups:
        return found
    rows = db.session.execute(
        select(Term.code, Crosslist.key, Course)
        .join(Crosslist, Crosslist.term_id == Term.id)
        .join(crosslist_sections, crosslist_sections.c.crosslist_id == Crosslist.id)
        .join(Course, Course.id == crosslist_sections.c.course_id)
        .where(Crosslist.key.in_({key for _, key in groups})))
    for term, key, course in rows:
        if (term, key) in groups:
            found.setdefault((term, key), []).append(course)
    return found


def _check_crosslists(parsed: list[tuple[Cells, dict]]) -> None:
    """Every row of a group gives the same capacity, and a group has two sections or more
    (the file's rows and the sections already in it that the file does not move)."""
    first: dict[tuple[str, str], tuple[int, int]] = {}  # (term, key): (line, capacity)
    members: dict[tuple[str, str], set[str]] = {}
    in_file = {(v.get("term"), v.get("code")) for _, v in parsed}
    for cells, values in parsed:
        key = values.get("crosslist")
        if not (cells.ok and key):
            continue
        group = (values["term"], key)
        capacity = values["crosslist_capacity"]
        if group not in first:
            first[group] = (cells.line, capacity)
        elif first[group][1] != capacity:
            line, given = first[group]
            cells.error("crosslist_capacity", f"{capacity} differs from {given} given for "
                                              f"group {key} on line {line} (one pool per "
                                              "group)")
        members.setdefault(group, set()).add(values["code"])
    for group, courses in _group_members(set(members)).items():
        members[group] |= {c.code for c in courses if (group[0], c.code) not in in_file}
    for cells, values in parsed:
        key = values.get("crosslist")
        if cells.ok and key and first[(values["term"], key)][0] == cells.line and len(
                members[(values["term"], key)]) < 2:
            cells.error("crosslist", f"group {key} would have one section: a cross-listed "
                                     "group needs two or more")


def _accounts(table: Table) -> dict[str, User]:
    """The users named in the file's `instructor_email` cells, by email (one query)."""
    emails = {normalize_email(row.cells.get("instructor_email", "")) for row in table.rows}
    emails.discard("")
    if not emails:
        return {}
    return {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(emails)))}


def _instructor(cells: Cells, values: dict, accounts: dict[str, User]) -> None:
    """`instructor_id` from the `instructor_email` cell (when the file has the column), and
    the display name from the account when the `instructor` cell is empty."""
    if not cells.has("instructor_email"):
        return
    email = normalize_email(cells.raw("instructor_email") or "")
    if not email:
        values["instructor_id"] = None
        return
    user = accounts.get(email)
    if user is None:
        cells.error("instructor_email", f"no account has the email {email} (create it with "
                                        "`flask create-user --role instructor`)")
    elif user.role != Role.INSTRUCTOR:
        cells.error("instructor_email", f"{email} is a {user.role.value} account, not an "
                                        "instructor's")
    else:
        values["instructor_id"] = user.id
        values["instructor"] = instructor_name(values.get("instructor"), user)


def _codes(text: str | None) -> list[str]:
    """Space-separated course codes (commas tolerated), upper-cased, without repeats."""
    return sorted({code for code in re.split(r"[\s,;]+", (text or "").upper()) if code})


def _existing_courses(codes: set[str]) -> dict[tuple[str, str], Course]:
    """Courses of any term with one of the codes, with term, prerequisites and co-requisites,
    by key."""
    if not codes:
        return {}
    courses = db.session.scalars(
        select(Course).where(Course.code.in_(codes))
        .options(selectinload(Course.term), selectinload(Course.department),
                 selectinload(Course.prerequisites).selectinload(Course.term),
                 selectinload(Course.corequisites), selectinload(Course.crosslist))
    )
    return {(c.term.code, c.code): c for c in courses}


def _prerequisite_graph(existing: dict[tuple[str, str], Course]) -> dict:
    return {key: {(p.term.code, p.code) for p in course.prerequisites}
            for key, course in existing.items()}


def _resolve(cells: Cells, values: dict, terms, existing, in_file) -> list[tuple[str, str]]:
    """Each prerequisite code as the key of the course it links to: same term first, else the
    latest earlier term that offers it."""
    term = terms[values["term"]]
    keys, unknown = [], []
    for code in values["prerequisites"]:
        if code == values["code"]:
            cells.error("prerequisites", f"{code} cannot require itself")
            return []
        same = (term.code, code)
        if same in existing or same in in_file:
            keys.append(same)
            continue
        earlier = [key for key, t in _terms_of(code, existing, in_file)
                   if t.classes_start < term.classes_start]
        if earlier:
            keys.append(max(earlier, key=lambda k: terms[k[0]].classes_start))
        else:
            unknown.append(code)
    if unknown:
        cells.error("prerequisites", f"unknown course{'s' if len(unknown) > 1 else ''} "
                                     f"{', '.join(unknown)} in {term.code} or an earlier term")
    return keys


def _resolve_corequisites(cells: Cells, values: dict, existing, in_file
                          ) -> list[tuple[str, str]]:
    """Each co-requisite code as the key of the course of the same term it links to."""
    term, code = values["term"], values["code"]
    if code in values["corequisites"]:
        cells.error("corequisites", f"{code} cannot be its own co-requisite")
        return []
    keys = [(term, c) for c in values["corequisites"]]
    unknown = [key[1] for key in keys if key not in existing and key not in in_file]
    if unknown:
        cells.error("corequisites", f"unknown course{'s' if len(unknown) > 1 else ''} "
                                    f"{', '.join(unknown)} in {term} (co-requisites are "
                                    "courses of the same term)")
        return []
    return keys


def _terms_of(code, existing, in_file):
    for key, course in existing.items():
        if key[1] == code:
            yield key, course.term
    for key, term in in_file.items():
        if key[1] == code:
            yield key, term


def _in_cycle(graph: dict, start: tuple[str, str]) -> bool:
    stack, seen = list(graph.get(start, ())), set()
    while stack:
        key = stack.pop()
        if key == start:
            return True
        if key not in seen:
            seen.add(key)
            stack.extend(graph.get(key, ()))
    return False


def _planned(line, values, existing, departments, new_departments) -> PlannedRow:
    key = f"{values['term']} {values['code']}"
    course = existing.get((values["term"], values["code"]))
    note = ""
    if values["department"] not in departments and values["department"] not in new_departments:
        new_departments.add(values["department"])
        note = f" (new department {values['department']})"
    if course is None:
        return PlannedRow(line, "create", key, f"new course {key} {values['title']}{note}",
                          values)
    changed = _changes(course, values)
    if not changed:
        return PlannedRow(line, "unchanged", key, f"course {key} is up to date", values)
    return PlannedRow(line, "update", key, f"course {key}: {', '.join(changed)}{note}", values)


def _changes(course: Course, values: dict) -> list[str]:
    changed = [f for f in DEFAULTS if f in values and getattr(course, f) != values[f]]
    if course.department.code != values["department"]:
        changed.append("department")
    if "prerequisite_keys" in values and set(values["prerequisite_keys"]) != {
            (p.term.code, p.code) for p in course.prerequisites}:
        changed.append("prerequisites")
    if "corequisite_keys" in values and {key[1] for key in values["corequisite_keys"]} != {
            c.code for c in course.corequisites}:
        changed.append("corequisites")
    if "crosslist" in values:
        group = course.crosslist
        now = (group.key, group.capacity) if group is not None else ("", None)
        if now != (values["crosslist"], values.get("crosslist_capacity")):
            changed.append("crosslist")
    return changed


def apply_rows(plan: ImportPlan, context: ApplyContext) -> ImportResult:
    """Create or update the planned courses, then link their prerequisites."""
    departments = {d.code: d for d in db.session.scalars(select(Department))}
    terms = {t.code: t for t in db.session.scalars(select(Term))}
    codes = {r.values["code"] for r in plan.rows}
    codes |= {k[1] for r in plan.rows for k in r.values.get("prerequisite_keys", ())}
    codes |= {k[1] for r in plan.rows for k in r.values.get("corequisite_keys", ())}
    existing = _existing_courses(codes)
    outcomes, errors = Outcomes(), []
    touched: list[tuple[Course, dict]] = []
    for row in plan.rows:
        values = row.values
        dept = departments.get(values["department"])
        if dept is None:
            dept = departments[values["department"]] = Department(
                code=values["department"], name=values["department"])
            db.session.add(dept)
        course = existing.get((values["term"], values["code"]))
        fields = {f: values[f] for f in DEFAULTS if f in values}
        if course is None:
            course = Course(term=terms[values["term"]], department=dept, code=values["code"],
                            **{**DEFAULTS, **fields})
            db.session.add(course)
            existing[(values["term"], values["code"])] = course
            outcomes.add("create")
        else:
            changed = _changes(course, values)
            if {"capacity", "waitlist_capacity"} & set(changed):
                # Before the other fields: set_capacity reloads the course while locking it.
                try:
                    services.set_capacity(course, values["capacity"], actor=context.actor,
                                          now=context.now,
                                          waitlist_capacity=values.get("waitlist_capacity"))
                except services.EnrollmentRefused as exc:  # below its reserved seats
                    errors.append(RowError(row.line, "capacity", exc.message))
                    continue
            before = course_changes.snapshot(course)
            for name, value in fields.items():
                setattr(course, name, value)
            course.department = dept
            course_changes.record_change(course, before, actor=context.actor, now=context.now)
            outcomes.add("update" if changed else "unchanged")
        touched.append((course, values))
        context.progress(1)
    # Before the flush: a new course's empty collection is then set without a lazy load.
    for course, values in touched:
        if "prerequisite_keys" in values:
            course.prerequisites = [existing[key] for key in values["prerequisite_keys"]]
        if "corequisite_keys" in values:
            course.corequisites = [existing[key] for key in values["corequisite_keys"]]
    if errors:
        raise ImportRefused(errors)
    flush_or_refuse("courses")
    _apply_crosslists(touched, terms, context)
    return outcomes.result()


def _apply_crosslists(touched: list[tuple[Course, dict]], terms,
                      context: ApplyContext) -> None:
    """Set the groups the file names (their pools and sections) and take the courses whose
    `crosslist` cell is empty out of theirs, through `services.crosslists`."""
    groups: dict[tuple[str, str], list[Course]] = {}
    capacities: dict[tuple[str, str], int] = {}
    moved = {course.id for course, values in touched if "crosslist" in values}
    for course, values in touched:
        if values.get("crosslist"):
            group = (values["term"], values["crosslist"])
            groups.setdefault(group, []).append(course)
            capacities[group] = values["crosslist_capacity"]
        elif "crosslist" in values and course.crosslist is not None:
            crosslists.leave_group(course, actor=context.actor, now=context.now)
    for group, courses in _group_members(set(groups)).items():  # those the file leaves
        groups[group] += [c for c in courses if c.id not in moved]
    for (term, key), sections in groups.items():
        try:
            crosslists.set_group(terms[term], key, capacities[(term, key)], sections,
                                 actor=context.actor, now=context.now)
        except services.EnrollmentRefused as exc:
            raise ImportRefused([RowError(0, "crosslist", exc.message)]) from None
