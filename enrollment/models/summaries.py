"""Summaries the reports read instead of scanning every link and every audit event: links per
course and status, and the net change of enrolled seats per course and UTC day.

The database keeps them, with triggers on `enrollments` and `enrollment_events`: every writer
(the services' Core statements, the ORM, imports, the demo seed) updates them in its own
statement and transaction, so they are exact whenever the change is committed, and the enroll
path sends no extra statement. They serve what is shown; a seat decision still counts the
links themselves under the course lock (`services.counts.seat_count_parts`).
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import DDL, Date, ForeignKey, event
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

# The statuses counted per course; `seated` (what capacity is compared with) is enrolled plus
# offered, computed where it is read.
COUNTED = ("enrolled", "offered", "waitlisted", "completed")


class CourseCount(db.Model):
    """How many links of each status a course has (no row: none)."""

    __tablename__ = "course_counts"

    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"),
                                           primary_key=True)
    enrolled: Mapped[int] = mapped_column(default=0, server_default="0")
    offered: Mapped[int] = mapped_column(default=0, server_default="0")
    waitlisted: Mapped[int] = mapped_column(default=0, server_default="0")
    completed: Mapped[int] = mapped_column(default=0, server_default="0")


class EnrolledDayChange(db.Model):
    """The net change of enrolled seats in a course on one UTC day (from its audit events:
    +1 when a change gave a link the `enrolled` status, -1 when it took it away)."""

    __tablename__ = "enrolled_day_changes"

    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"),
                                           primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    change: Mapped[int] = mapped_column(default=0, server_default="0")


def _is(row: str, status: str, cast: str) -> str:
    return f"({row}.status = '{status}'){cast}"


def _upsert_counts(row: str, sign: str, cast: str = "") -> str:
    """Add (sign "+") or take away ("-") the link `row` (NEW or OLD) in its course's counts."""
    values = ", ".join(f"{sign}{_is(row, s, cast)}" for s in COUNTED)
    update = ", ".join(f"{s} = course_counts.{s} + excluded.{s}" for s in COUNTED)
    return (f"INSERT INTO course_counts (course_id, {', '.join(COUNTED)}) "
            f"VALUES ({row}.course_id, {values}) "
            f"ON CONFLICT (course_id) DO UPDATE SET {update};")


def _day_change(cast: str) -> str:
    became = "NEW.status_after = 'enrolled' AND (NEW.status_before IS NULL OR " \
             "NEW.status_before != 'enrolled')"
    left = "NEW.status_before = 'enrolled' AND (NEW.status_after IS NULL OR " \
           "NEW.status_after != 'enrolled')"
    return f"(({became}){cast} - ({left}){cast})"


def _day_upsert(day: str, cast: str) -> str:
    change = _day_change(cast)
    return ("INSERT INTO enrolled_day_changes (course_id, day, change) "
            f"SELECT NEW.course_id, {day}, {change} "
            f"WHERE NEW.course_id IS NOT NULL AND {change} != 0 "
            "ON CONFLICT (course_id, day) DO UPDATE SET "
            "change = enrolled_day_changes.change + excluded.change;")


SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER IF NOT EXISTS course_counts_insert AFTER INSERT ON enrollments
        BEGIN {_upsert_counts("NEW", "+")} END""",
    f"""CREATE TRIGGER IF NOT EXISTS course_counts_delete AFTER DELETE ON enrollments
        BEGIN {_upsert_counts("OLD", "-")} END""",
    f"""CREATE TRIGGER IF NOT EXISTS course_counts_update
        AFTER UPDATE OF status, course_id ON enrollments
        WHEN OLD.status != NEW.status OR OLD.course_id != NEW.course_id
        BEGIN {_upsert_counts("OLD", "-")} {_upsert_counts("NEW", "+")} END""",
    f"""CREATE TRIGGER IF NOT EXISTS enrolled_day_changes_insert
        AFTER INSERT ON enrollment_events
        BEGIN {_day_upsert("date(NEW.at)", "")} END""",
]

# PostgreSQL: statement triggers over the statement's transition tables, one upsert per course
# for a whole statement. (A row trigger updating one counter row once per row of a big insert
# would leave a chain of row versions that each update walks: quadratic in one transaction.)
def _counts_from(changes: str) -> str:
    """Add the signed `changes` (rows of course_id, status, sign) to the courses' counts."""
    sums = ", ".join(f"sum(sign * (status = '{s}')::int)" for s in COUNTED)
    update = ", ".join(f"{s} = course_counts.{s} + excluded.{s}" for s in COUNTED)
    return (f"INSERT INTO course_counts (course_id, {', '.join(COUNTED)}) "
            f"SELECT course_id, {sums} FROM ({changes}) AS changes GROUP BY course_id "
            f"HAVING {' OR '.join(f'sum(sign * (status = {s!r})::int) != 0' for s in COUNTED)} "
            f"ON CONFLICT (course_id) DO UPDATE SET {update};")


_ADDED = "SELECT course_id, status, 1 AS sign FROM new_rows"
_REMOVED = "SELECT course_id, status, -1 AS sign FROM old_rows"
_DAY_CHANGE = _day_change("::int").replace("NEW.", "")

POSTGRESQL_TRIGGERS = [
    f"""CREATE OR REPLACE FUNCTION course_counts_change() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            {_counts_from(_ADDED)}
        ELSIF TG_OP = 'DELETE' THEN
            {_counts_from(_REMOVED)}
        ELSE
            {_counts_from(f"{_ADDED} UNION ALL {_REMOVED}")}
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    """CREATE OR REPLACE TRIGGER course_counts_insert AFTER INSERT ON enrollments
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION course_counts_change()""",
    """CREATE OR REPLACE TRIGGER course_counts_delete AFTER DELETE ON enrollments
        REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION course_counts_change()""",
    """CREATE OR REPLACE TRIGGER course_counts_update AFTER UPDATE ON enrollments
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION course_counts_change()""",
    f"""CREATE OR REPLACE FUNCTION enrolled_day_changes_add() RETURNS trigger AS $$
    BEGIN
        INSERT INTO enrolled_day_changes (course_id, day, change)
        SELECT course_id, at::date, sum({_DAY_CHANGE}) FROM new_rows
        WHERE course_id IS NOT NULL GROUP BY course_id, at::date
        HAVING sum({_DAY_CHANGE}) != 0
        ON CONFLICT (course_id, day) DO UPDATE SET
            change = enrolled_day_changes.change + excluded.change;
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    """CREATE OR REPLACE TRIGGER enrolled_day_changes_add AFTER INSERT ON enrollment_events
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION enrolled_day_changes_add()""",
]


def triggers(dialect: str) -> list[str]:
    return SQLITE_TRIGGERS if dialect == "sqlite" else POSTGRESQL_TRIGGERS


# Rebuilt from the links and the audit trail (the migration that adds the summaries).
BACKFILL = [
    "DELETE FROM course_counts",
    f"""INSERT INTO course_counts (course_id, {', '.join(COUNTED)})
        SELECT course_id, {', '.join(f"count(CASE WHEN status = '{s}' THEN 1 END)"
                                     for s in COUNTED)}
        FROM enrollments GROUP BY course_id""",
    "DELETE FROM enrolled_day_changes",
]


def backfill_days(dialect: str) -> str:
    day = "date(at)" if dialect == "sqlite" else "at::date"  # stored as naive UTC
    change = _DAY_CHANGE if dialect != "sqlite" else _day_change("").replace("NEW.", "")
    return (f"INSERT INTO enrolled_day_changes (course_id, day, change) "
            f"SELECT course_id, {day}, sum({change}) FROM enrollment_events "
            f"WHERE course_id IS NOT NULL GROUP BY course_id, {day} "
            f"HAVING sum({change}) != 0")


for _dialect in ("sqlite", "postgresql"):
    for _statement in triggers(_dialect):
        event.listen(db.metadata, "after_create", DDL(_statement).execute_if(dialect=_dialect))
