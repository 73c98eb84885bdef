"""What OneRoster needs on the rows it publishes: a stable `sourcedId` and a last-modified time,
and a record of each published row that was deleted (a delta reports it as `tobedeleted`).

The `sourcedId` is a UUID kept on the row: non-personal, and stable across renames and
imports (a bundle's own ids are kept when it is imported). Classes, academic sessions, orgs and
users carry one; the records derived from others (a OneRoster course per course code, the school
year, the school, an enrollment per link) take a UUID derived from what they are made of
(`enrollment.oneroster.ids`).
"""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String, event
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from ..clock import utcnow
from ..extensions import db
from .types import UTCDateTime


def new_sourced_id() -> str:
    return str(uuid.uuid4())


class Modified:
    """`updated_at`: when the row last changed (OneRoster's `dateLastModified`). Set by every
    ORM and Core insert and update; raw SQL writers must set it themselves."""

    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow,
                                                 index=True)


class Sourced(Modified):
    """`sourced_id` and `updated_at`; a deleted row leaves a `Deletion` behind."""

    @declared_attr
    def sourced_id(cls) -> Mapped[str]:
        return mapped_column(String(36), unique=True, default=new_sourced_id)

    # The OneRoster type a deleted row is reported as (`Deletion.kind`).
    oneroster_kind: str = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("__tablename__"):
            event.listen(cls, "after_delete", _record_deletion)


class Deletion(db.Model):
    """A published row that was deleted: a OneRoster delta reports it as `tobedeleted`."""

    __tablename__ = "oneroster_deletions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # academicSession, org, class or user
    kind: Mapped[str] = mapped_column(String(20))
    sourced_id: Mapped[str] = mapped_column(String(36), index=True)
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<Deletion {self.kind} {self.sourced_id}>"


def _record_deletion(mapper, connection, target) -> None:
    """Written in the deleting transaction, so a delete and its tombstone commit together."""
    connection.execute(Deletion.__table__.insert().values(
        kind=type(target).oneroster_kind, sourced_id=target.sourced_id, deleted_at=utcnow()))
