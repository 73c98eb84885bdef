"""Departments, terms, courses and the prerequisite graph."""
from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .oneroster import Sourced
from .types import UTCDateTime, str_enum

if TYPE_CHECKING:
    from .enrollments import Enrollment
    from .structures import Crosslist
    from .users import Student, User

DAY_LETTERS = "MTWRFSU"  # Monday .. Sunday
DAY_NAMES = dict(zip(DAY_LETTERS, ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], strict=True))

# Self-referential many-to-many: a course requires other courses. Both sides cascade at the
# database level, so deleting a course removes its prerequisite links and nothing else.
prerequisite_links = Table(
    "prerequisites",
    db.metadata,
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    Column("prerequisite_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)

# Self-referential many-to-many: a course must be taken with others of its term (co-requisites,
# satisfied by an enrolled link in the term or a passed completion of the code). Cascades as
# the prerequisites do.
corequisite_links = Table(
    "corequisites",
    db.metadata,
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    Column("corequisite_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)


class Department(Sourced, db.Model):
    __tablename__ = "departments"
    oneroster_kind = "org"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(120))

    # One-to-many; a department with courses cannot be deleted (FK RESTRICT), nothing cascades.
    courses: Mapped[list[Course]] = relationship(back_populates="department",
                                                 passive_deletes="all")

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class WaitlistMode(enum.StrEnum):
    """What a freed seat does in a term: `auto` promotes the first eligible waitlisted student
    at once; `offer` holds the seat for them (`offered`) until they accept, decline or the
    offer expires."""

    AUTO = "auto"
    OFFER = "offer"


OFFER_HOURS_DEFAULT = 24
OFFER_HOURS_MAX = 336  # two weeks


class Term(Sourced, db.Model):
    __tablename__ = "terms"
    oneroster_kind = "academicSession"
    __table_args__ = (
        CheckConstraint("enrollment_closes >= enrollment_opens", name="window_order"),
        CheckConstraint("classes_end >= classes_start", name="classes_order"),
        CheckConstraint(f"offer_hours BETWEEN 1 AND {OFFER_HOURS_MAX}", name="offer_hours_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    enrollment_opens: Mapped[datetime] = mapped_column(UTCDateTime)
    enrollment_closes: Mapped[datetime] = mapped_column(UTCDateTime)
    drop_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    classes_start: Mapped[date]
    classes_end: Mapped[date]
    waitlist_mode: Mapped[WaitlistMode] = mapped_column(
        str_enum(WaitlistMode, "waitlist_mode"), default=WaitlistMode.AUTO,
        server_default=WaitlistMode.AUTO.value)
    # How long an offered seat is held (offer mode).
    offer_hours: Mapped[int] = mapped_column(default=OFFER_HOURS_DEFAULT,
                                             server_default=str(OFFER_HOURS_DEFAULT))

    # One-to-many; a term with courses cannot be deleted (FK RESTRICT), nothing cascades.
    courses: Mapped[list[Course]] = relationship(back_populates="term", passive_deletes="all")

    @classmethod
    def display_order(cls) -> tuple:
        """The one order of terms wherever they are listed (filters, the catalog, reports,
        schedules): the newest first, by when enrollment opens, then by code.
        Use as `order_by(*Term.display_order())`."""
        return (cls.enrollment_opens.desc(), cls.code)

    def window_state(self, now: datetime) -> str:
        """'not_open', 'open' or 'closed'; both ends of the window are included."""
        if now < self.enrollment_opens:
            return "not_open"
        if now > self.enrollment_closes:
            return "closed"
        return "open"

    def __str__(self) -> str:
        return self.name or self.code


def instructor_name(shown: str | None, account: User | None) -> str:
    """The instructor name a course shows: the one given, else its instructor account's."""
    return shown or (account.name if account is not None else "")


class Course(Sourced, db.Model):
    __tablename__ = "courses"
    oneroster_kind = "class"
    __table_args__ = (
        UniqueConstraint("term_id", "code", name="uq_courses_term_code"),
        CheckConstraint("capacity >= 0", name="capacity_nonnegative"),
        CheckConstraint("waitlist_capacity >= 0", name="waitlist_capacity_nonnegative"),
        CheckConstraint("credits > 0", name="credits_positive"),
        CheckConstraint("end_time > start_time", name="end_after_start"),
        CheckConstraint("(start_time IS NULL) = (end_time IS NULL)", name="times_together"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # ON DELETE RESTRICT: deleting a term or department never deletes its courses silently.
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id", ondelete="RESTRICT"), index=True)
    department_id: Mapped[int] = mapped_column(
        ForeignKey("departments.id", ondelete="RESTRICT"), index=True
    )
    code: Mapped[str] = mapped_column(String(20), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    credits: Mapped[int] = mapped_column(default=3)
    capacity: Mapped[int] = mapped_column(default=30)
    waitlist_capacity: Mapped[int] = mapped_column(default=10)
    # The name shown (catalog, rosters, calendars); `instructor_id` is the account that
    # teaches it (an instructor's `/teach/` pages), when the course has one.
    instructor: Mapped[str] = mapped_column(String(120), default="")
    # SET NULL: deleting the account leaves the course, and its display name, as they were.
    instructor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    days: Mapped[str] = mapped_column(String(7), default="")  # subset of MTWRFSU, in that order
    start_time: Mapped[time | None]
    end_time: Mapped[time | None]
    location: Mapped[str] = mapped_column(String(120), default="")
    # A passed completion blocks taking the code again, unless the course may be repeated.
    repeatable: Mapped[bool] = mapped_column(default=False, server_default=false())

    term: Mapped[Term] = relationship(back_populates="courses")
    department: Mapped[Department] = relationship(back_populates="courses")
    instructor_user: Mapped[User | None] = relationship()
    prerequisites: Mapped[list[Course]] = relationship(
        secondary=prerequisite_links,
        primaryjoin=lambda: Course.id == prerequisite_links.c.course_id,
        secondaryjoin=lambda: Course.id == prerequisite_links.c.prerequisite_id,
        back_populates="required_by",
        order_by=lambda: Course.code,
    )
    required_by: Mapped[list[Course]] = relationship(
        secondary=prerequisite_links,
        primaryjoin=lambda: Course.id == prerequisite_links.c.prerequisite_id,
        secondaryjoin=lambda: Course.id == prerequisite_links.c.course_id,
        back_populates="prerequisites",
        order_by=lambda: Course.code,
    )
    corequisites: Mapped[list[Course]] = relationship(
        secondary=corequisite_links,
        primaryjoin=lambda: Course.id == corequisite_links.c.course_id,
        secondaryjoin=lambda: Course.id == corequisite_links.c.corequisite_id,
        back_populates="corequired_by",
        order_by=lambda: Course.code,
    )
    corequired_by: Mapped[list[Course]] = relationship(
        secondary=corequisite_links,
        primaryjoin=lambda: Course.id == corequisite_links.c.corequisite_id,
        secondaryjoin=lambda: Course.id == corequisite_links.c.course_id,
        back_populates="corequisites",
        order_by=lambda: Course.code,
    )
    # The cross-listed group the section belongs to, if any (`structures.Crosslist`).
    crosslist: Mapped[Crosslist | None] = relationship(secondary="crosslist_sections",
                                                       uselist=False, viewonly=True)
    # The association objects; links are written only by enrollment.services. A course with
    # enrollments cannot be deleted (FK RESTRICT on enrollments.course_id): drop them first.
    enrollments: Mapped[list[Enrollment]] = relationship(
        back_populates="course", passive_deletes="all"
    )

    # Plain many-to-many reads over the association object. `students` is writable for
    # Flask-Admin's multi-select; the admin routes those writes through the services.
    students: AssociationProxy[list[Student]] = association_proxy("enrollments", "student")
    # Read-only, filtered: enrolled students by name, the waitlist in arrival order.
    enrolled_students: Mapped[list[Student]] = relationship(
        secondary="enrollments",
        primaryjoin="and_(Course.id == Enrollment.course_id, Enrollment.status == 'enrolled')",
        secondaryjoin="Student.id == Enrollment.student_id",
        viewonly=True,
    )
    waitlisted_students: Mapped[list[Student]] = relationship(
        secondary="enrollments",
        primaryjoin="and_(Course.id == Enrollment.course_id, Enrollment.status == 'waitlisted')",
        secondaryjoin="Student.id == Enrollment.student_id",
        order_by="Enrollment.waitlist_seq",
        viewonly=True,
    )

    def meets_on(self) -> list[str]:
        return [d for d in DAY_LETTERS if d in (self.days or "")]

    @property
    def schedule_label(self) -> str:
        if not self.days or self.start_time is None or self.end_time is None:
            return "Time to be announced"
        days = " ".join(DAY_NAMES[d] for d in self.meets_on())
        return f"{days} {self.start_time:%H:%M}–{self.end_time:%H:%M}"

    def overlaps(self, other: Course) -> bool:
        """True when both courses meet on a common day at overlapping times."""
        if not (self.start_time and self.end_time and other.start_time and other.end_time):
            return False
        if not set(self.days or "") & set(other.days or ""):
            return False
        return self.start_time < other.end_time and other.start_time < self.end_time

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def __repr__(self) -> str:
        return f"<Course {self.id} {self.code}>"

