"""The `enrollments` association object between Student and Course, and its audit trail."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .catalog import Course
from .types import UTCDateTime, str_enum
from .users import Student, User


class Status(enum.StrEnum):
    ENROLLED = "enrolled"
    WAITLISTED = "waitlisted"
    # A seat held for a waitlisted student until `offer_expires_at` (terms in offer mode):
    # it counts against capacity like an enrolled seat.
    OFFERED = "offered"
    COMPLETED = "completed"


# The statuses that take a seat: every seat count compares these with capacity.
SEAT_STATUSES = (Status.ENROLLED, Status.OFFERED)


class Source(enum.StrEnum):
    SELF = "self"
    STAFF = "staff"
    IMPORT = "import"


class Action(enum.StrEnum):
    ENROLLED = "enrolled"
    WAITLISTED = "waitlisted"
    PROMOTED = "promoted"
    DROPPED = "dropped"
    ADDED_BY_STAFF = "added_by_staff"
    REMOVED_BY_STAFF = "removed_by_staff"
    IMPORTED = "imported"
    COMPLETED = "completed"
    REFUSED = "refused"
    OFFERED = "offered"
    OFFER_ACCEPTED = "offer_accepted"
    OFFER_DECLINED = "offer_declined"
    OFFER_EXPIRED = "offer_expired"


class Enrollment(db.Model):
    """One student's link to one course section. A drop deletes the row; the audit keeps it."""

    __tablename__ = "enrollments"
    __table_args__ = (
        # The roster and the waitlist read (course, status) ordered by arrival.
        Index("ix_enrollments_course_status_seq", "course_id", "status", "waitlist_seq"),
        # A student's schedule and credit load read (student, status).
        Index("ix_enrollments_student_status", "student_id", "status"),
        CheckConstraint(
            "(status = 'waitlisted') = (waitlist_seq IS NOT NULL)", name="waitlist_seq_iff_waitlisted"
        ),
        CheckConstraint("(status = 'offered') = (offer_expires_at IS NOT NULL)",
                        name="offer_expires_iff_offered"),
    )

    # ON DELETE RESTRICT on both keys: a student or course with links cannot be deleted, so no
    # link is ever orphaned or dropped without its audit event; drop the links first.
    student_id: Mapped[int] = mapped_column(
        ForeignKey("students.id", ondelete="RESTRICT"), primary_key=True
    )
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="RESTRICT"), primary_key=True
    )
    status: Mapped[Status] = mapped_column(str_enum(Status, "enrollment_status"))
    # Arrival order on the waitlist (first come, first served); NULL unless waitlisted.
    waitlist_seq: Mapped[int | None]
    # When a held seat (`offered`) goes to the next student; NULL unless offered.
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    grade: Mapped[str | None] = mapped_column(String(4))
    source: Mapped[Source] = mapped_column(str_enum(Source, "enrollment_source"),
                                           default=Source.SELF)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Indexed: the admin's list of links shows the latest changes first.
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    student: Mapped[Student] = relationship(back_populates="enrollments")
    course: Mapped[Course] = relationship(back_populates="enrollments")

    # Not a column: the waitlist position a link was added at (set by `services.enroll`, so
    # that its caller can say "position 4" without counting again).
    joined_position = None

    def __repr__(self) -> str:
        return f"<Enrollment s={self.student_id} c={self.course_id} {self.status}>"


class EnrollmentEvent(db.Model):
    """Append-only audit trail: one row for every change to `enrollments`."""

    __tablename__ = "enrollment_events"
    __table_args__ = (
        Index("ix_enrollment_events_student_at", "student_id", "at"),
        Index("ix_enrollment_events_course_at", "course_id", "at"),
        # The outbox: events not yet turned into messages and webhook calls.
        Index("ix_enrollment_events_pending", "id", postgresql_where=text("fanned_out_at IS NULL"),
              sqlite_where=text("fanned_out_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # SET NULL: the trail outlives deleted users, students and courses; the labels keep who/what.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                 index=True)
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id", ondelete="SET NULL"))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"))
    action: Mapped[Action] = mapped_column(str_enum(Action, "enrollment_action"))
    # The link's status before and after the change (NULL: no link). Reports sum seat changes
    # from these exactly, whatever the action (an import may enroll or waitlist, say).
    status_before: Mapped[Status | None] = mapped_column(str_enum(Status, "event_status_before"))
    status_after: Mapped[Status | None] = mapped_column(str_enum(Status, "event_status_after"))
    reason: Mapped[str] = mapped_column(Text, default="")
    student_label: Mapped[str] = mapped_column(String(200), default="")
    course_label: Mapped[str] = mapped_column(String(200), default="")
    # When its notifications and webhook calls were written (`services.outbox`); NULL: not yet.
    fanned_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    actor: Mapped[User | None] = relationship()
    student: Mapped[Student | None] = relationship()
    course: Mapped[Course | None] = relationship()

    def __repr__(self) -> str:
        return f"<EnrollmentEvent {self.action} s={self.student_id} c={self.course_id}>"
