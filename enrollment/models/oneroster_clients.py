"""OneRoster REST clients (an LMS, an SIS reading the roster): OAuth 2 client credentials.

A client authenticates at `/oauth/token` with its `client_id` and secret (HTTP Basic) and gets
a bearer access token for the roster's read-only scope. Only the SHA-256 of the secret is kept
(it is 32 random bytes: a slow hash would add nothing); a revoked client's tokens stop working
at once, since every request checks the client.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db
from .types import UTCDateTime


class OneRosterClient(db.Model):
    __tablename__ = "oneroster_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_token_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def state(self) -> str:
        return "revoked" if self.revoked_at is not None else "active"

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"
