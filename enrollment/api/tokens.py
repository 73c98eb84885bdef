"""API tokens: create, revoke, and look one up from an `Authorization: Bearer` secret.

The secret is `enr_` and 43 URL-safe characters (32 random bytes); only its SHA-256 is stored,
with the first characters (`prefix`) to tell tokens apart in lists. A token may hold only the
scopes its user's role allows (`ROLE_SCOPES`): a student's reads and enrolls itself, an
instructor's reads and pulls rosters, staff may hold every scope. Like the services, these
functions flush and never commit; the admin and the CLI commit at their edge.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import ApiToken, Role, Scope, User, normalize_email
from ..models.api_tokens import SCOPE_VALUES

TOKEN_PREFIX = "enr_"
PREFIX_LENGTH = 12  # "enr_" and 8 characters of the secret: shown, never enough to use it
MAX_DAYS = 3650
NAME_MAX = 100
# How often the last use is written: at most once a minute per token, not at every request.
LAST_USED_EVERY = timedelta(minutes=1)

ROLE_SCOPES = {
    Role.STUDENT: frozenset({Scope.READ, Scope.ENROLL}),
    Role.INSTRUCTOR: frozenset({Scope.READ, Scope.ROSTER}),
    Role.STAFF: frozenset(Scope),
}
SCOPE_ORDER = tuple(Scope)


class TokenInputError(ValueError):
    """Bad input for a token: `field` names what to fix, `message` says how."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def parse_scopes(value: str | list[str] | tuple) -> frozenset[Scope]:
    """Scopes from `read,enroll` (commas or spaces) or a list; unknown ones are an error."""
    words = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    unknown = [w for w in words if w not in SCOPE_VALUES]
    if unknown:
        raise TokenInputError("scopes", f"Unknown scope {unknown[0][:40]!r}; the scopes are "
                                        f"{', '.join(SCOPE_ORDER)}.")
    if not words:
        raise TokenInputError("scopes", "Give at least one scope: "
                                        f"{', '.join(SCOPE_ORDER)}.")
    return frozenset(Scope(w) for w in words)


def scopes_text(scopes) -> str:
    return " ".join(s for s in SCOPE_ORDER if s in scopes)


def find_user(email: str) -> User:
    """The user with this e-mail (any case), or `TokenInputError`."""
    if "\x00" in email or len(email) > 254:  # PostgreSQL refuses NUL: no such user anyway
        raise TokenInputError("email", "There is no user with that e-mail.")
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise TokenInputError("email", f"There is no user with the e-mail {email[:254]!r}.")
    return user


def check_scopes(user: User, scopes) -> frozenset[Scope]:
    """The scopes asked for, if the user may hold a token with them (`TokenInputError`
    otherwise: an inactive account, a scope beyond the role, a student without a profile)."""
    chosen = parse_scopes(scopes)
    if not user.active:
        raise TokenInputError("email", f"{user.email} is not an active account.")
    allowed = ROLE_SCOPES[user.role]
    beyond = chosen - allowed
    if beyond:
        raise TokenInputError("scopes", f"A {user.role.value}'s token cannot have the scope "
                                        f"{scopes_text(beyond)}; it may have "
                                        f"{scopes_text(allowed)}.")
    if user.role == Role.STUDENT and user.student is None:
        raise TokenInputError("email", f"{user.email} has no student profile.")
    return chosen


def create_token(user: User, scopes, *, now: datetime, days: int | None = None,
                 name: str = "", actor: User | None = None) -> NewToken:
    """A new token for `user`, valid `days` days (None: until revoked).

    Refused (`TokenInputError`, nothing written) for a bad name, days outside 1…MAX_DAYS, or
    scopes the user may not hold (`check_scopes`).
    """
    chosen = check_scopes(user, scopes)
    name = (name or "").strip()
    if len(name) > NAME_MAX or "\x00" in name:
        raise TokenInputError("name", f"The name must be at most {NAME_MAX} characters, "
                                      "without NUL.")
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise TokenInputError("days", f"Days must be from 1 to {MAX_DAYS}.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, prefix=secret[:PREFIX_LENGTH],
                     token_hash=hash_secret(secret), scopes=scopes_text(chosen),
                     created_at=now, created_by=actor,
                     expires_at=now + timedelta(days=days) if days else None)
    db.session.add(token)
    db.session.flush()
    return NewToken(token, secret)


def revoke_token(token: ApiToken, *, now: datetime) -> bool:
    """Revoke the token (False: it already was)."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = now
    db.session.flush()
    return True


def token_for(secret: str, now: datetime) -> tuple[ApiToken | None, str]:
    """The active token with this secret and its user (one query), or None and why not."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None, "The token is not valid."
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == hash_secret(secret))
        .options(joinedload(ApiToken.user).joinedload(User.student)))
    if token is None:
        return None, "The token is not valid."
    state = token.state(now)
    if state != "active":
        return None, f"The token was {state}."
    if not token.user.active:
        return None, "The token's account is not active."
    return token, ""


def note_use(token: ApiToken, now: datetime) -> bool:
    """Whether the token's last use is due to be written (see `record_use`)."""
    return token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY


def record_use(token_id: int, now: datetime) -> None:
    """Write the last use (a Core UPDATE; the caller holds the write transaction)."""
    db.session.execute(update(ApiToken).where(ApiToken.id == token_id)
                       .values(last_used_at=now))
