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


# Under a login storm the password hashes (scrypt: ~100 ms of a core each) are the work that
# piles up. Every login and registration POST takes one from a budget shared by everyone
# (`PASSWORD_HASH_LIMIT`, in Redis across workers and machines when `REDIS_URL` is set, else
# per worker process); past it the request is answered at once, before any hashing, with 429,
# `Retry-After` and a page that says when to come back, so the queue drains at the speed of
# those answers instead of growing past what answers in time.
BUSY_SIGNING_IN = ("Many people are signing in at this moment, so your password was not "
                   "checked yet. Nothing is wrong with your account.")


def _everyone() -> str:
    return "password-hashing"


def _limit_hashing(view):
    """One budget shared by the login and registration routes."""
    return limiter.shared_limit(_setting("PASSWORD_HASH_LIMIT"), scope="password-hashing",
                                methods=["POST"], key_func=_everyone,
                                error_message=BUSY_SIGNING_IN)(view)


def limit_logins(view):
    """Per address and per account, failures only; and the shared hashing budget."""
    view = limiter.limit(_setting("LOGIN_LIMIT_PER_ADDRESS"), methods=["POST"],
                         deduct_when=_failed)(view)
    view = limiter.limit(_setting("LOGIN_LIMIT_PER_ACCOUNT"), methods=["POST"],
                         key_func=_account, deduct_when=_failed)(view)
    return _limit_hashing(view)


def limit_registrations(view):
    view = limiter.limit(_setting("REGISTER_LIMIT_PER_ADDRESS"), methods=["POST"],
                         deduct_when=_failed)(view)
    return _limit_hashing(view)


def init_app(app: Flask) -> None:
    # Test apps run unthrottled unless a test asks (its own failed logins would add up).
    app.config.setdefault("RATELIMIT_ENABLED", not app.testing)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "enrollment")
    limiter.init_app(app)
