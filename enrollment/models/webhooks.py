"""Webhook endpoints registered by staff, and one delivery per event and endpoint."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .notifications import Delivery
from .types import UTCDateTime
from .users import User

EVENT_TYPES = ("enrollment.created", "enrollment.updated", "enrollment.deleted",
               "course.updated")


def subscribes(events: str, event_type: str) -> bool:
    """Whether an endpoint's `events` (space-separated; empty: every type) take `event_type`."""
    return not events or event_type in events.split()


class WebhookEndpoint(db.Model):
    """A URL that receives the events it subscribes to (`events`: space-separated types;
    empty: every type), signed with its secret (Standard Webhooks, `whsec_…`)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(200))
    events: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"))

    created_by: Mapped[User | None] = relationship()

    def wants(self, event_type: str) -> bool:
        return self.active and subscribes(self.events, event_type)


class WebhookDelivery(Delivery, db.Model):
    """One event for one endpoint: its JSON body, fixed when written, and its delivery log
    (`attempts`, `last_status`, `last_error`)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_event"),
        UniqueConstraint("endpoint_id", "course_event_id",
                         name="uq_webhook_deliveries_course_event"),
        Index("ix_webhook_deliveries_unsent", "due_at",
              postgresql_where=text("sent_at IS NULL AND failed_at IS NULL"),
              sqlite_where=text("sent_at IS NULL AND failed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True)
    event_type: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    last_status: Mapped[int | None]

    endpoint: Mapped[WebhookEndpoint] = relationship()
