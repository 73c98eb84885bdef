"""`flask seed-demo`: a realistic demo school, written in bulk.

This is the one place that writes `enrollments` rows without the services: demo data for tens
of thousands of students would take minutes one `enroll()` at a time. `demo_school` builds
data that keeps every invariant of the rules engine, and the rows are written with the
driver's executemany in chunks, with one audit event ("demo data") per enrollment.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import click
import sqlalchemy as sa
from flask.cli import with_appcontext
from werkzeug.security import generate_password_hash

from .. import clock
from ..database import write_transaction
from ..extensions import db
from ..models import (
    Action,
    Appointment,
    Course,
    Crosslist,
    Department,
    Enrollment,
    EnrollmentEvent,
    Hold,
    Reservation,
    Role,
    Source,
    Status,
    Student,
    Term,
    User,
    WaitlistSwap,
    corequisite_links,
    crosslist_sections,
    new_session_token,
    new_sourced_id,
    prerequisite_links,
)
from ..services import appointments
from . import demo_catalog as catalog
from .demo_school import DemoSchool, build_school

# Parameters per multi-row INSERT, under both backends' limits.
INSERT_PARAMETERS = 30_000
ACTIONS = {Status.ENROLLED: Action.ENROLLED, Status.WAITLISTED: Action.WAITLISTED,
           Status.COMPLETED: Action.COMPLETED}


@click.command("seed-demo")
@click.option("--students", default=400, show_default=True, type=click.IntRange(0, 1_000_000),
              help="Number of students.")
@click.option("--courses", default=60, show_default=True, type=click.IntRange(2, 100_000),
              help="Number of course sections, over both terms (60% in the current one).")
@click.option("--seed", default=2027, show_default=True, type=int,
              help="Random seed: the same seed gives the same school.")
@click.option("--if-empty", is_flag=True,
              help="Seed only an empty database; otherwise say so and print the logins.")
@with_appcontext
def seed_demo(students: int, courses: int, seed: int, if_empty: bool) -> None:
    """Fill an empty database with a demo school: two terms, courses, students, enrollments."""
    require_schema()
    started = time.perf_counter()
    with write_transaction(db.session):
        if has_school_data():
            if not if_empty:
                raise click.ClickException(
                    "the database already has terms, courses or students: seed-demo fills an "
                    "empty database only (use --if-empty to skip quietly).")
            click.echo("The database already has data: seeded nothing.")
            print_logins()
            return
        now = clock.now()
        school = build_school(n_students=students, n_courses=courses, seed=seed, now=now)
        counts = write_school(school, now=now)
    elapsed = time.perf_counter() - started
    click.echo(
        f"Seeded {len(school.terms)} terms ({', '.join(t.name for t in school.terms)}), "
        f"{len(school.departments)} departments, {len(school.courses)} courses, "
        f"{len(school.students)} students and {sum(counts.values())} enrollments "
        f"({counts[Status.ENROLLED]} enrolled, {counts[Status.WAITLISTED]} waitlisted, "
        f"{counts[Status.COMPLETED]} completed) in {elapsed:.1f} s.")
    print_logins()


def require_schema() -> None:
    """Refuse, with what to do, when the tables do not exist yet."""
    existing = set(sa.inspect(db.engine).get_table_names())
    missing = sorted(set(db.metadata.tables) - existing)
    if missing:
        raise click.ClickException(
            f"the database has no schema (missing tables: {', '.join(missing)}): "
            "run `flask db upgrade` first.")


def has_school_data() -> bool:
    """True when any term, course or student exists (staff accounts alone do not count)."""
    return any(db.session.scalar(sa.select(sa.exists().select_from(model)))
               for model in (Term, Course, Student))


def print_logins() -> None:
    """Print the demo accounts that exist in this database, with their demo passwords."""
    emails = ([catalog.STAFF_LOGIN[0]] + [s[0] for s in catalog.DEMO_INSTRUCTORS]
              + [s[0] for s in catalog.DEMO_STUDENTS])
    present = set(db.session.scalars(sa.select(User.email).where(User.email.in_(emails))))
    if not present:
        click.echo("No demo accounts in this database (create staff with `flask create-staff`).")
        return
    click.echo("Demo logins:")
    email, _name, password = catalog.STAFF_LOGIN
    if email in present:
        click.echo(f"  staff       {email:<24} password: {password}")
    for email, name, _dept in catalog.DEMO_INSTRUCTORS:
        if email in present:
            click.echo(f"  instructor  {email:<24} password: {catalog.INSTRUCTOR_PASSWORD}  "
                       f"({name})")
    for email, name, _dept, _year in catalog.DEMO_STUDENTS:
        if email in present:
            click.echo(f"  student     {email:<24} password: {catalog.STUDENT_PASSWORD}  "
                       f"({name})")


class _BulkWriter:
    """Raw executemany in chunks on the session's connection, advancing a progress bar.

    Values are passed in the driver's own form (the column types' bind processing is what
    made this slow): ids are reserved up front instead of read back, and times are formatted
    here, as SQLAlchemy stores them on SQLite.
    """

    def __init__(self, bar):
        self.bar = bar
        self.conn = db.session.connection()
        self.sqlite = self.conn.dialect.name == "sqlite"
        self.mark = "?" if self.conn.dialect.paramstyle == "qmark" else "%s"

    def stamp(self, moment: datetime):
        """A UTC time as the UTCDateTime column stores it (naive UTC)."""
        naive = moment.astimezone(UTC).replace(tzinfo=None)
        return f"{naive:%Y-%m-%d %H:%M:%S}.{naive.microsecond:06d}" if self.sqlite else naive

    def reserve_ids(self, table: sa.Table, count: int) -> list[int]:
        """`count` fresh primary keys: the next ones on SQLite (the write transaction holds the
        database), values drawn from the sequence on PostgreSQL (safe beside other writers)."""
        if count == 0:
            return []
        if self.sqlite:
            start = self.conn.scalar(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))) + 1
            return list(range(start, start + count))
        return list(self.conn.scalars(sa.text(
            f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
            "FROM generate_series(1, :n)"), {"n": count}))

    def insert(self, table: sa.Table, columns: tuple[str, ...], rows: list[tuple]) -> None:
        """Multi-row INSERT statements (the report summaries' triggers run per statement)."""
        group = f"({', '.join([self.mark] * len(columns))})"
        per_statement = INSERT_PARAMETERS // len(columns)
        for start in range(0, len(rows), per_statement):
            chunk = rows[start:start + per_statement]
            self.conn.exec_driver_sql(
                f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES "
                + ", ".join([group] * len(chunk)), tuple(v for row in chunk for v in row))
            self.bar.update(len(chunk))


def write_school(school: DemoSchool, *, now: datetime) -> dict[Status, int]:
    """Insert the school (the caller's transaction commits); returns links per status."""
    total = 2 * len(school.students) + 2 * len(school.links)
    staff_id = _staff_user(now)
    dept_ids = dict(zip((c for c, _ in school.departments), _add_all(
        Department, [{"code": c, "name": n} for c, n in school.departments]), strict=True))
    term_ids = _add_all(Term, [vars(t) for t in school.terms])
    courses = [Course(term_id=term_ids[c.term], department_id=dept_ids[c.dept], code=c.code,
                      title=c.title, description=_description(c, school), credits=c.credits,
                      capacity=c.capacity, waitlist_capacity=c.waitlist_capacity,
                      instructor=c.instructor, days=c.days, start_time=c.start_time,
                      end_time=c.end_time, location=c.location) for c in school.courses]
    _assign_instructors(school, courses, now)
    db.session.add_all(courses)
    db.session.flush()
    course_ids = [c.id for c in courses]
    prerequisite_rows = list(_prerequisite_rows(school, course_ids))
    if prerequisite_rows:
        db.session.execute(prerequisite_links.insert(), prerequisite_rows)
    corequisite_rows = list(_corequisite_rows(school, course_ids))
    if corequisite_rows:
        db.session.execute(corequisite_links.insert(), corequisite_rows)
    password_hash = generate_password_hash(catalog.STUDENT_PASSWORD)  # once, for everyone

    with click.progressbar(length=total, label="Seeding demo data", file=sys.stderr) as bar:
        writer = _BulkWriter(bar)
        if writer.sqlite:  # a bigger page cache: the indexes of 500,000 rows stay in memory
            writer.conn.exec_driver_sql("PRAGMA cache_size = -262144")
        user_ids = writer.reserve_ids(User.__table__, len(school.students))
        student_ids = writer.reserve_ids(Student.__table__, len(school.students))
        joined = writer.stamp(now - timedelta(days=200))
        writer.insert(User.__table__, ("id", "email", "name", "password_hash", "role", "active",
                                       "created_at", "session_token", "sourced_id",
                                       "updated_at"),
                      [(user_ids[i], s.email, s.name, password_hash, Role.STUDENT.value, True,
                        joined, new_session_token(), new_sourced_id(), joined)
                       for i, s in enumerate(school.students)])
        writer.insert(Student.__table__, ("id", "user_id", "student_number", "program",
                                          "max_credits", "updated_at"),
                      [(student_ids[i], user_ids[i], s.number, s.program, s.max_credits, joined)
                       for i, s in enumerate(school.students)])
        _write_links(writer, school, student_ids, user_ids, course_ids, staff_id)
        if writer.sqlite:
            writer.conn.exec_driver_sql("PRAGMA cache_size = -2000")
    _write_policies(school, term_ids, student_ids, staff_id, now)
    _write_reservations(school, term_ids[1], course_ids, now)
    _write_swaps(school, student_ids, course_ids)
    _write_crosslists(school, term_ids[1], course_ids)
    counts = {status: 0 for status in Status}
    for link in school.links:
        counts[link.status] += 1
    return counts


HOLD_EVERY = 40  # one student in this many has a hold
HOLD_OFFICES = [("Bursar", "Tuition balance due", "bursar@example.edu", True),
                ("Advising", "Meet your adviser before registering", "advising@example.edu", True),
                ("Library", "Overdue books (does not block registration)", "library@example.edu",
                 False)]
APPOINTMENT_GROUPS = 6


def _write_policies(school: DemoSchool, term_ids: list[int], student_ids: list[int],
                    staff_id: int, now: datetime) -> None:
    """Registration policies a newcomer sees on the first run: appointments in groups for the
    current term (half of them still ahead), and a few holds. The named demo students can
    register at once and have no hold."""
    named = {email for email, *_ in catalog.DEMO_STUDENTS}
    free = {student_ids[i] for i, s in enumerate(school.students) if s.email in named}
    rows = [{"student_id": sid, "office": office, "reason": reason, "contact": contact,
             "blocks_registration": blocks, "added_at": now, "added_by_id": staff_id,
             "cleared_reason": ""}
            for n, sid in enumerate(student_ids[::HOLD_EVERY]) if sid not in free
            for office, reason, contact, blocks in [HOLD_OFFICES[n % len(HOLD_OFFICES)]]]
    if rows:
        db.session.execute(sa.insert(Hold), rows)
    current = db.session.get(Term, term_ids[1])
    if not student_ids or now > current.enrollment_closes:
        return
    start = max(current.enrollment_opens, now - timedelta(hours=APPOINTMENT_GROUPS // 2))
    size = -(-len(student_ids) // APPOINTMENT_GROUPS)  # ceil
    appointments.assign(current, start=start, every=timedelta(hours=1), group_size=size)
    if free:
        db.session.execute(sa.update(Appointment).where(
            Appointment.term_id == current.id, Appointment.student_id.in_(free))
            .values(opens_at=start))


DEMO_CROSSLISTS = 2  # cross-listed pairs of the current term


def _write_crosslists(school: DemoSchool, current_term: int, course_ids: list[int]) -> None:
    """A few pairs of current-term courses of different departments become cross-listed
    groups: courses without a waitlist and without a common student (one section of a group
    per student), with a pool that holds their enrolled students and a few seats more."""
    courses = school.courses
    students: dict[int, set[int]] = {i: set() for i, c in enumerate(courses) if c.term == 1}
    waiting = {link.course for link in school.links if link.status == Status.WAITLISTED}
    for link in school.links:
        if link.course in students:
            students[link.course].add(link.student)
    calm = sorted((i for i in students if i not in waiting), key=lambda i: courses[i].code)
    used: set[int] = set()
    groups = []
    for a in calm:
        if len(groups) == DEMO_CROSSLISTS:
            break
        b = next((b for b in calm if b not in used and a not in used and b != a
                  and courses[b].dept != courses[a].dept
                  and not students[a] & students[b]), None)
        if b is not None:
            used |= {a, b}
            seated = len(students[a]) + len(students[b])
            pool = min(courses[a].capacity + courses[b].capacity, seated + 5)
            groups.append((f"{courses[a].code}-{courses[b].code}", pool, (a, b)))
    for key, pool, pair in groups:
        group_id = db.session.execute(sa.insert(Crosslist).values(
            term_id=current_term, key=key, capacity=pool).returning(Crosslist.id)).scalar_one()
        db.session.execute(sa.insert(crosslist_sections), [
            {"course_id": course_ids[i], "crosslist_id": group_id} for i in pair])


DEMO_SWAPS = 3  # waitlist entries that carry a conditional swap


def _write_swaps(school: DemoSchool, student_ids: list[int], course_ids: list[int]) -> None:
    """A few waitlisted students of the current term wait with a swap attached: on promotion
    they drop another course they are enrolled in (one that no course of theirs needs as a
    co-requisite, so that the swap's drop stays possible)."""
    courses = school.courses
    enrolled: dict[int, list[int]] = {}
    for link in school.links:
        if link.status == Status.ENROLLED and courses[link.course].term == 1:
            enrolled.setdefault(link.student, []).append(link.course)
    rows = []
    for link in sorted((k for k in school.links if k.status == Status.WAITLISTED),
                       key=lambda k: (k.waitlist_seq, k.course, k.student)):
        held = enrolled.get(link.student, [])
        needed = {code for c in held for code in courses[c].corequisites}
        give_up = next((c for c in held if courses[c].code not in needed), None)
        if give_up is not None:
            rows.append({"student_id": student_ids[link.student],
                         "course_id": course_ids[link.course],
                         "drop_course_id": course_ids[give_up]})
        if len(rows) == DEMO_SWAPS:
            break
    if rows:
        db.session.execute(sa.insert(WaitlistSwap), rows)


RESERVED_COURSES = 6  # the most popular courses of the current term reserve seats
RESERVED_SHARE = 5  # a fifth of their capacity, for their department's own program


def _write_reservations(school: DemoSchool, current_term: int, course_ids: list[int],
                        now: datetime) -> None:
    """Reserved seats in a few popular courses of the current term, for the program of the
    course's department, released a week before enrollment closes."""
    term = db.session.get(Term, current_term)
    if term is None or now > term.enrollment_closes:
        return
    names = {code: name for code, name, _ in catalog.DEPARTMENTS}
    popular = sorted((i for i, c in enumerate(school.courses) if c.term == 1),
                     key=lambda i: -school.courses[i].popularity)[:RESERVED_COURSES]
    release_at = max(term.enrollment_closes - timedelta(days=7), now + timedelta(days=1))
    rows = [{"course_id": course_ids[i], "program": names[school.courses[i].dept],
             "seats": max(2, school.courses[i].capacity // RESERVED_SHARE),
             "release_at": min(release_at, term.enrollment_closes)}
            for i in popular if school.courses[i].dept in names]
    if rows:
        db.session.execute(sa.insert(Reservation), rows)


def _write_links(writer: _BulkWriter, school: DemoSchool, student_ids, user_ids, course_ids,
                 staff_id: int) -> None:
    """The enrollments and one audit event each, in key order (index pages fill in order)."""
    past_end = datetime.combine(school.terms[0].classes_end, datetime.min.time(),
                                tzinfo=UTC) + timedelta(days=3, hours=17)
    term_codes = [t.code for t in school.terms]
    links, events = [], []
    for link in sorted(school.links, key=lambda k: (k.student, k.course)):
        student, course = school.students[link.student], school.courses[link.course]
        created = writer.stamp(link.at)
        changed = writer.stamp(past_end) if link.status == Status.COMPLETED else created
        sid, cid = student_ids[link.student], course_ids[link.course]
        links.append((sid, cid, link.status.value, link.waitlist_seq, link.grade,
                      Source.SELF.value, created, changed, changed))
        actor = staff_id if link.status == Status.COMPLETED else user_ids[link.student]
        # The same labels as the services' audit records; fanned out already: the demo's
        # history is not news, nobody is mailed about it.
        events.append((changed, actor, sid, cid, ACTIONS[link.status].value, None,
                       link.status.value, "demo data",
                       f"{student.number} {student.name}",
                       f"{term_codes[course.term]} {course.code}", changed))
    writer.insert(Enrollment.__table__, ("student_id", "course_id", "status", "waitlist_seq",
                                         "grade", "source", "created_at", "status_changed_at",
                                         "updated_at"), links)
    writer.insert(EnrollmentEvent.__table__, ("at", "actor_id", "student_id", "course_id",
                                              "action", "status_before", "status_after",
                                              "reason", "student_label",
                                              "course_label", "fanned_out_at"), events)


def _add_all(model, rows: list[dict]) -> list[int]:
    objects = [model(**row) for row in rows]
    db.session.add_all(objects)
    db.session.flush()
    return [obj.id for obj in objects]


def _staff_user(now: datetime) -> int:
    """The demo registrar (an existing account of that email is kept as it is)."""
    email, name, password = catalog.STAFF_LOGIN
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        user = User(email=email, name=name, role=Role.STAFF, created_at=now)
        user.set_password(password)
        db.session.add(user)
        db.session.flush()
    return user.id


def _assign_instructors(school: DemoSchool, courses: list[Course], now: datetime) -> None:
    """The demo instructors and the courses they teach (their account and their name on
    each). An existing account of such an email is kept as it is, and teaches only if it is
    an instructor's."""
    emails = [email for email, _name, _dept in catalog.DEMO_INSTRUCTORS]
    existing = {u.email: u for u in db.session.scalars(
        sa.select(User).where(User.email.in_(emails)))}
    password_hash = None
    for email, name, dept in catalog.DEMO_INSTRUCTORS:
        user = existing.get(email)
        if user is None:
            password_hash = password_hash or generate_password_hash(catalog.INSTRUCTOR_PASSWORD)
            user = User(email=email, name=name, role=Role.INSTRUCTOR, created_at=now,
                        password_hash=password_hash, session_token=new_session_token())
            db.session.add(user)
            db.session.flush()
        if user.role != Role.INSTRUCTOR:
            continue
        for term, wanted in enumerate(catalog.TAUGHT_PER_TERM):
            taught = [course for demo, course in zip(school.courses, courses, strict=True)
                      if demo.dept == dept and demo.term == term][:wanted]
            for course in taught:
                course.instructor_id, course.instructor = user.id, user.name


def _prerequisite_rows(school: DemoSchool, course_ids: list[int]) -> Iterable[dict]:
    """Link each prerequisite code to that course in the same term, else in the past term."""
    by_term_code = {(c.term, c.code): i for i, c in enumerate(school.courses)}
    for i, course in enumerate(school.courses):
        for code in course.prereqs:
            target = by_term_code.get((course.term, code))
            if target is None and course.term > 0:
                target = by_term_code.get((course.term - 1, code))
            if target is not None:
                yield {"course_id": course_ids[i], "prerequisite_id": course_ids[target]}


def _corequisite_rows(school: DemoSchool, course_ids: list[int]) -> Iterable[dict]:
    """Link each co-requisite code to that course of the same term."""
    by_term_code = {(c.term, c.code): i for i, c in enumerate(school.courses)}
    for i, course in enumerate(school.courses):
        for code in course.corequisites:
            target = by_term_code[(course.term, code)]
            yield {"course_id": course_ids[i], "corequisite_id": course_ids[target]}


def _description(course, school: DemoSchool) -> str:
    dept = dict(school.departments)[course.dept]
    level = {1: "An introductory", 2: "An intermediate", 3: "An advanced",
             4: "An advanced"}.get(int(course.code[len(course.dept)]), "A specialized")
    text = f"{level} course in {dept.lower()}: {course.title.lower()}."
    if course.prereqs:
        text += f" Requires {', '.join(course.prereqs)}."
    if course.corequisites:
        text += f" Taken with {', '.join(course.corequisites)}."
    return text
