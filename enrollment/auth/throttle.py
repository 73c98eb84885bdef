"""Throttling of logins and registrations, per account and per client address.

Only failures count (a 400: wrong password, invalid form, email taken), so a student who types
the right password is never slowed by others. Past a limit the request is refused with 429, a
`Retry-After` header and a page that says when to try again, before any password is checked.
The account key is the email as typed (normalized), whether or not an account has it, so the
answers never tell which emails exist. The counters live in Redis when `REDIS_URL` is set
(shared by every worker and machine), in memory otherwise.
"""
from __future__ import annotations

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from ..models import normalize_email

limiter = Limiter(key_func=get_remote_address)


def _failed(response) -> bool:
    return response.status_code == 400


def _account() -> str:
    return "account:" + normalize_email(request.form.get("email", ""))[:254]


def _setting(name: str):
    return lambda: current_app.config[name]


def limit_logins(view):
    """Per address and per account, failures only."""
    view = limiter.limit(_setting("LOGIN_LIMIT_PER_ADDRESS"), methods=["POST"],
                         deduct_when=_failed)(view)
    return limiter.limit(_setting("LOGIN_LIMIT_PER_ACCOUNT"), methods=["POST"],
                         key_func=_account, deduct_when=_failed)(view)


def limit_registrations(view):
    return limiter.limit(_setting("REGISTER_LIMIT_PER_ADDRESS"), methods=["POST"],
                         deduct_when=_failed)(view)


def init_app(app: Flask) -> None:
    # Test apps run unthrottled unless a test asks (its own failed logins would add up).
    app.config.setdefault("RATELIMIT_ENABLED", not app.testing)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "enrollment")
    limiter.init_app(app)
