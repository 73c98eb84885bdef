"""The outbox: pending events become messages and webhook calls, and those are delivered.

Nothing here runs in the request that makes a change. The change writes its audit event
(`EnrollmentEvent`) or a `CourseEvent` in its own transaction: a rolled-back change leaves
nothing to send, a committed one stays pending until fanned out. Then:

1. `fan_out(now)` turns each pending event into one `Notification` per recipient
   (`services.mail`) and one `WebhookDelivery` per subscribed endpoint (`services.webhooks`),
   and marks the event fanned out, all in one transaction (unique keys refuse a second copy).
2. `deliver_due(now)` leases the deliveries that are due (`claim_due`), sends each outside any
   transaction, then records the outcome (`finish`): sent, or tried again after 1 minute, then
   2, 4, … until `MAX_ATTEMPTS`, then failed. A sender that dies mid-delivery loses its lease
   after `LEASE`; the next sender repeats the delivery with the same key (Message-ID,
   webhook id), so the recipient sees one message.

Several workers on several machines may run both at once: leases and the fan-out take rows
with `FOR UPDATE SKIP LOCKED` on PostgreSQL; on SQLite writes are one at a time anyway.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update

from ..database import write_transaction
from ..extensions import db
from ..models import CourseEvent, EnrollmentEvent

LEASE = timedelta(minutes=5)   # a sender's hold on a delivery it is sending
MAX_ATTEMPTS = 5               # tries before a delivery is marked failed
FAN_OUT_BATCH = 500            # events per fan-out transaction
SEND_BATCH = 100               # deliveries leased at a time


def retry_delay(attempts: int) -> timedelta:
    """After the n-th failed try: 1 minute, then doubling."""
    return timedelta(minutes=2 ** max(attempts - 1, 0))


def _pending(model, limit: int):
    """Pending events, oldest first, each taken by one fan-out at a time."""
    stmt = (select(model).where(model.fanned_out_at.is_(None)).order_by(model.id)
            .limit(limit))
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(db.session.scalars(stmt))


def fan_out(now: datetime) -> int:
    """Write the messages and webhook calls of every pending event; how many events."""
    from . import mail, webhooks

    done = 0
    while True:
        with write_transaction(db.session):
            events = _pending(EnrollmentEvent, FAN_OUT_BATCH)
            changes = _pending(CourseEvent, FAN_OUT_BATCH)
            for event in events:
                db.session.add_all(mail.notifications_for_event(event, now))
                db.session.add_all(webhooks.deliveries_for_event(event, now))
                event.fanned_out_at = now
            for change in changes:
                db.session.add_all(mail.notifications_for_course_event(change, now))
                db.session.add_all(webhooks.deliveries_for_course_event(change, now))
                change.fanned_out_at = now
        done += len(events) + len(changes)
        if len(events) < FAN_OUT_BATCH and len(changes) < FAN_OUT_BATCH:
            return done


def claim_due(model, now: datetime, *, limit: int = SEND_BATCH, where=()) -> list:
    """Lease up to `limit` deliveries of `model` that are due and held by nobody, counting
    the try; committed at once, so that other senders skip them. Returns the leased rows."""
    with write_transaction(db.session):
        due = (select(model.id)
               .where(model.sent_at.is_(None), model.failed_at.is_(None),
                      model.due_at <= now,
                      (model.claimed_until.is_(None)) | (model.claimed_until <= now), *where)
               .order_by(model.due_at, model.id).limit(limit))
        if db.engine.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        ids = list(db.session.scalars(due))
        if not ids:
            return []
        db.session.execute(
            update(model).where(model.id.in_(ids))
            .values(claimed_until=now + LEASE, attempts=model.attempts + 1)
            .execution_options(synchronize_session=False))
        rows = list(db.session.scalars(
            select(model).where(model.id.in_(ids)).order_by(model.due_at, model.id)
            .execution_options(populate_existing=True)))
        # Detached before the commit, which would expire them: the sender reads them loaded.
        for row in rows:
            db.session.expunge(row)
    return rows


def finish(model, row_id: int, now: datetime, *, error: str | None = None,
           status: int | None = None) -> str:
    """Record how a leased delivery went: sent (`error` None), or failed this time: due again
    after `retry_delay`, or failed for good after `MAX_ATTEMPTS`. Returns the new state."""
    with write_transaction(db.session):
        row = db.session.get(model, row_id, populate_existing=True)
        if row is None or row.sent_at is not None:  # deleted, or sent by another meanwhile
            return "sent" if row is not None else "gone"
        if hasattr(row, "last_status"):
            row.last_status = status
        row.claimed_until = None
        if error is None:
            row.sent_at, row.last_error = now, ""
            return "sent"
        row.last_error = error[:2000]
        if row.attempts >= MAX_ATTEMPTS:
            row.failed_at = now
            return "failed"
        row.due_at = now + retry_delay(row.attempts)
        return "retry"


@dataclass
class DeliveryReport:
    """What one round of delivery did, per channel: {"mail": {"sent": 3, "retry": 1}, …}."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, channel: str, state: str) -> None:
        channel_counts = self.counts.setdefault(channel, {})
        channel_counts[state] = channel_counts.get(state, 0) + 1

    def summary(self) -> str:
        if not self.counts:
            return "nothing due"
        return "; ".join(f"{channel}: " + ", ".join(f"{n} {state}" for state, n in
                                                     sorted(states.items()))
                         for channel, states in sorted(self.counts.items()))


def deliver(model, channel: str, send: Callable, now: datetime, report: DeliveryReport,
            *, where=()) -> None:
    """Lease what is due of `model`, send each with `send(row)` (which raises on failure,
    or returns an HTTP status), and record each outcome."""
    while rows := claim_due(model, now, where=where):
        for row in rows:
            try:
                status = send(row)
            except Exception as exc:  # noqa: BLE001 — any failure is retried, then reported
                state = finish(model, row.id, now, error=f"{type(exc).__name__}: {exc}",
                               status=getattr(exc, "status", None))
            else:
                state = finish(model, row.id, now, status=status)
            report.add(channel, state)
        if len(rows) < SEND_BATCH:
            return


def deliver_due(now: datetime) -> DeliveryReport:
    """Fan out what is pending, then send every mail and webhook call that is due."""
    from . import mail, webhooks

    fan_out(now)
    report = DeliveryReport()
    mail.deliver_due(now, report)
    webhooks.deliver_due(now, report)
    return report
