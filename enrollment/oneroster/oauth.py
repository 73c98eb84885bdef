"""OAuth 2 client credentials for the OneRoster REST provider (RFC 6749 section 4.4).

`POST /oauth/token` with the client's id and secret by HTTP Basic (or `client_id` and
`client_secret` in the form, RFC 6749 2.3.1), `grant_type=client_credentials` and optionally
`scope` (only the roster's read-only scope exists) answers a bearer access token that expires
after `TOKEN_SECONDS`. Tokens are signed (with the app's secret key), not stored: one names its
client and its expiry, and every request checks that the client still exists and is not
revoked, so revoking a client stops its tokens at once.

Clients are made by `create_client` (the CLI prints the secret once) and revoked by
`revoke_client` (the admin); like the services, these flush and never commit.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, current_app, g, jsonify, request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update

from .. import clock
from ..database import write_transaction
from ..extensions import db, login_manager
from ..models import OneRosterClient
from .query import ImsxError

SCOPE = "https://purl.imsglobal.org/spec/or/v1p1/scope/roster.readonly"
TOKEN_SECONDS = 3600
NAME_MAX = 100
_SALT = "oneroster-access-token"

bp = Blueprint("oneroster_oauth", __name__)


@dataclass(frozen=True)
class NewClient:
    client: OneRosterClient
    secret: str  # shown once, never stored


class ClientInputError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create_client(name: str, *, now: datetime) -> NewClient:
    name = (name or "").strip()
    if not name:
        raise ClientInputError("name", "A name is required (what the client is, e.g. the LMS).")
    if len(name) > NAME_MAX or "\x00" in name:
        raise ClientInputError("name", f"A name has at most {NAME_MAX} characters.")
    secret = secrets.token_urlsafe(32)
    client = OneRosterClient(name=name, client_id=secrets.token_hex(16),
                             secret_hash=hash_secret(secret), created_at=now)
    db.session.add(client)
    db.session.flush()
    return NewClient(client, secret)


def revoke_client(client: OneRosterClient, *, now: datetime) -> bool:
    """Revoke; False when it already was."""
    if client.revoked_at is not None:
        return False
    client.revoked_at = now
    db.session.flush()
    return True


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def issue_token(client_pk: int, now: datetime) -> str:
    return _serializer().dumps({"c": client_pk, "e": int(now.timestamp()) + TOKEN_SECONDS,
                                "n": secrets.token_hex(8)})


def client_for_token(token: str, now: datetime) -> OneRosterClient | None:
    """The active client an access token was issued to, or None (bad, expired, revoked)."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("c"), int) \
            or not isinstance(data.get("e"), int) or data["e"] <= now.timestamp():
        return None
    client = db.session.get(OneRosterClient, data["c"])
    if client is None or client.revoked_at is not None:
        return None
    return client


def authenticate() -> None:
    """The REST blueprint's `before_request`: a valid bearer access token, or a 401. A
    session cookie never authorizes (no user is loaded from it)."""
    g._login_user = login_manager.anonymous_user()
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ImsxError(401, "unauthorisedrequest",
                        "An access token is required (Authorization: Bearer <token>, from "
                        "POST /oauth/token).")
    client = client_for_token(token, clock.now())
    if client is None:
        raise ImsxError(401, "unauthorisedrequest",
                        "The access token is not valid, has expired, or its client was revoked.")
    g.oneroster_client = client


# --- the token endpoint -----------------------------------------------------------------------
def _oauth_error(status: int, error: str, description: str):
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="oneroster"'
    return response


def _credentials() -> tuple[str, str] | None:
    auth = request.authorization
    if auth is not None and auth.type == "basic":
        return auth.username or "", auth.password or ""
    form_id, form_secret = request.form.get("client_id"), request.form.get("client_secret")
    if form_id is not None and form_secret is not None:
        return form_id, form_secret
    return None


def _find_client(client_id: str, secret: str) -> OneRosterClient | None:
    if not client_id or len(client_id) > 64 or "\x00" in client_id:
        return None
    client = db.session.scalar(select(OneRosterClient)
                               .where(OneRosterClient.client_id == client_id))
    if client is None or client.revoked_at is not None:
        return None
    if not hmac.compare_digest(client.secret_hash, hash_secret(secret)):
        return None
    return client


@bp.post("/oauth/token")
def token():
    credentials = _credentials()
    if credentials is None:
        return _oauth_error(401, "invalid_client",
                            "Client authentication is required (HTTP Basic with the client id "
                            "and secret).")
    client = _find_client(*credentials)
    if client is None:
        return _oauth_error(401, "invalid_client", "Unknown client, wrong secret, or revoked.")
    grant = request.form.get("grant_type")
    if not grant:
        return _oauth_error(400, "invalid_request", "grant_type is required.")
    if grant != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type",
                            "Only grant_type=client_credentials is supported.")
    asked = (request.form.get("scope") or SCOPE).split()
    if any(s != SCOPE for s in asked):
        return _oauth_error(400, "invalid_scope", f"The only scope is {SCOPE}.")
    now, client_pk = clock.now(), client.id
    with write_transaction(db.session):
        db.session.execute(update(OneRosterClient).where(OneRosterClient.id == client.id)
                           .values(last_token_at=now))
    response = jsonify({"access_token": issue_token(client_pk, now), "token_type": "bearer",
                        "expires_in": TOKEN_SECONDS, "scope": SCOPE})
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response
