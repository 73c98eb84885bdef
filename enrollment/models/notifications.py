"""The outbox: what people and systems must hear of, and the state of each delivery.

Changes to `enrollments` need no outbox row of their own: their audit event
(`EnrollmentEvent`, written in the changing transaction) is the outbox entry, pending until
`fanned_out_at` is set. A change to a course that its students must hear of (time, room,
status) writes a `CourseEvent` in its transaction. Fanning out (`services.outbox`) turns each
pending event into one `Notification` per recipient and one `WebhookDelivery` per endpoint;
delivering sends what is due, each with a stable key (the mail's Message-ID, the webhook's id)
so that a delivery repeated after a crash is recognised by its recipient.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, and_, text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .catalog import Course
from .types import UTCDateTime
from .users import Student, User


def new_key() -> str:
    return uuid.uuid4().hex


class CourseEvent(db.Model):
    """A change to a course that its students (and webhooks) must hear of, e.g. its meeting
    time, room or status; `changes` says what, in words."""

    __tablename__ = "course_events"
    __table_args__ = (
        Index("ix_course_events_pending", "id", postgresql_where=text("fanned_out_at IS NULL"),
              sqlite_where=text("fanned_out_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses.id", ondelete="SET NULL"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changes: Mapped[str] = mapped_column(Text, default="")
    course_label: Mapped[str] = mapped_column(String(200), default="")
    fanned_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    course: Mapped[Course | None] = relationship()
    actor: Mapped[User | None] = relationship()


class Delivery:
    """The state every delivery shares (a mail, a webhook call): when it is due, how often it
    was tried, who holds it now (`claimed_until`: a sender's lease), and how it ended."""

    key: Mapped[str] = mapped_column(String(40), unique=True, default=new_key)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @declared_attr
    def event_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("enrollment_events.id", ondelete="SET NULL"),
                             index=True)

    @declared_attr
    def course_event_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("course_events.id", ondelete="SET NULL"), index=True)

    STATES = ("pending", "sent", "failed")

    @property
    def state(self) -> str:
        """pending, sent or failed (as the admin and /me/notifications show it)."""
        if self.sent_at is not None:
            return "sent"
        if self.failed_at is not None:
            return "failed"
        return "pending"

    @classmethod
    def in_state(cls, state: str):
        """SQL condition: the deliveries whose `state` is `state`."""
        if state == "sent":
            return cls.sent_at.is_not(None)
        if state == "failed":
            return and_(cls.sent_at.is_(None), cls.failed_at.is_not(None))
        return and_(cls.sent_at.is_(None), cls.failed_at.is_(None))


class Notification(Delivery, db.Model):
    """One message to one student, rendered when it was written (the words do not change
    between tries); sent by mail when `MAIL_SERVER` is set, readable in the admin and on
    /me/notifications either way."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("event_id", "student_id", "kind", name="uq_notifications_event"),
        UniqueConstraint("course_event_id", "student_id", name="uq_notifications_course_event"),
        Index("ix_notifications_unsent", "due_at",
              postgresql_where=text("sent_at IS NULL AND failed_at IS NULL"),
              sqlite_where=text("sent_at IS NULL AND failed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    student_id: Mapped[int | None] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)

    student: Mapped[Student | None] = relationship()
    course: Mapped[Course | None] = relationship()
