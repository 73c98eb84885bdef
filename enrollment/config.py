"""Configuration: defaults, then instance/config.py, then the environment, then test_config."""
from __future__ import annotations

import json
import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from flask import Flask
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEV_SECRET_KEY = "dev-only-not-secret"

DEFAULTS = {
    "SECRET_KEY": None,
    "SQLALCHEMY_ECHO": False,
    # No ping per checkout (a round trip on every request): `database.configure_engine`
    # pings only connections that sat idle, and a dead one is replaced, not reported.
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    "CATALOG_PAGE_SIZE": 25,
    # The longest a write waits for a lock before its request gets the busy page (503).
    "WRITE_WAIT_SECONDS": 10,
    # The school's wall clock: course meeting times are local times in this zone (zoneinfo).
    "SCHOOL_TIMEZONE": "UTC",
    # The school's name: the OneRoster org of type `school` above the departments.
    "SCHOOL_NAME": "Enrollment University",
    "FIXED_NOW": None,
    "CHECK_DATABASE": True,
    "PASSWORD_MIN_LENGTH": 10,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "WTF_CSRF_TIME_LIMIT": None,  # a token lives as long as the session
    # Shared store for rate limits (and, later, the job queue); in memory when unset.
    "REDIS_URL": None,
    # The lowest grade that passes (grades order A+ A A- … D- F; P passes).
    "PASSING_GRADE": "D",
    # Failed attempts allowed before 429 (Flask-Limiter syntax; several limits with ";").
    "LOGIN_LIMIT_PER_ACCOUNT": "5 per minute;20 per hour",
    "LOGIN_LIMIT_PER_ADDRESS": "30 per minute;300 per hour",
    "REGISTER_LIMIT_PER_ADDRESS": "10 per minute;50 per hour",
    # Logins and registrations (each a password hash) accepted per second from everyone
    # together: per worker process, or shared by all of them through REDIS_URL.
    "PASSWORD_HASH_LIMIT": "8 per second",
    # Requests to the JSON API per token (per Authorization header): past it 429.
    "API_RATE_LIMIT": "600 per minute",
    # How many reverse proxies in front of the app set X-Forwarded-For/-Proto/-Host/-Port/-Prefix
    # (Werkzeug's ProxyFix trusts that many hops); 0 when clients reach the app directly, so
    # that a client cannot claim HTTPS or another address with a header of its own.
    "TRUSTED_PROXIES": 0,
    # The site's address as students reach it: the links in mail point there.
    "SITE_URL": "http://127.0.0.1:5000",
    # Outgoing mail (SMTP). With no MAIL_SERVER nothing is sent: messages wait in the outbox.
    "MAIL_SERVER": None,
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,  # STARTTLS after connecting
    "MAIL_USE_SSL": False,  # TLS from the first byte (usually port 465)
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_DEFAULT_SENDER": "Enrollment <enrollment@localhost>",
    # Webhook endpoints on loopback, private or link-local addresses (development, tests).
    "WEBHOOKS_ALLOW_PRIVATE": False,
}

# Every configuration name is read plain and with the FLASK_ prefix; the prefixed one wins
# (from_prefixed_env runs last).
PLAIN_ENV = ("DATABASE_URL", "DATABASE_REPLICA_URL", *DEFAULTS)


class ConfigError(click.ClickException):
    """A configuration mistake, reported as one line that says what to fix."""


def _plain_value(text: str, default):
    """A plain environment value, read as `from_prefixed_env` reads a prefixed one (JSON when
    it parses) for settings that are not text, so both spellings give the same setting."""
    if default is None or isinstance(default, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _truthy(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _proxy_count(value) -> int:
    """TRUSTED_PROXIES as a count: an int from the config, or digits from the environment."""
    if isinstance(value, str) and value.strip().isdecimal():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ConfigError(
        f"TRUSTED_PROXIES {value!r} is not a number of proxies: use 0 (clients connect "
        "directly, the default) or the number of reverse proxies in front, e.g. 1."
    )


def _seconds(name: str, value) -> float:
    """A positive number of seconds, from the config or the environment."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = 0.0
    if not 0 < seconds <= 600 or isinstance(value, bool):
        raise ConfigError(f"{name} {value!r} is not a number of seconds between 0 and 600 "
                          "(e.g. 10).")
    return seconds


def _whole_number(name: str, value, low: int, high: int) -> int:
    """A whole number within bounds, from the config or the environment."""
    if isinstance(value, str) and value.strip().isdecimal():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{name} {value!r} is not a whole number from {low} to {high}.")
    return value


def _fixed_now(value):
    """FIXED_NOW: unset, or an ISO 8601 time (a time without an offset is UTC)."""
    if not value:
        return None
    from .clock import parse_datetime

    try:
        return parse_datetime(value)
    except (TypeError, ValueError, AttributeError):
        raise ConfigError(f"FIXED_NOW {value!r} is not an ISO 8601 time: use e.g. "
                          "2027-01-10T09:00:00-05:00.") from None


def _site_url(value) -> str:
    """SITE_URL: an absolute http(s) address, kept without a trailing slash."""
    from urllib.parse import urlsplit

    text = str(value or "").strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise ConfigError(f"SITE_URL {value!r} is not the site's address: use e.g. "
                          "https://enroll.example.edu.")
    return text


def _mail_settings(config) -> None:
    """MAIL_*: a port, two booleans that exclude each other, and a sender address."""
    from email.utils import parseaddr

    config["MAIL_SERVER"] = str(config.get("MAIL_SERVER") or "").strip() or None
    # Text even when FLASK_-prefixed (`from_prefixed_env` reads "12345" as a number).
    for name in ("MAIL_USERNAME", "MAIL_PASSWORD"):
        value = config.get(name)
        config[name] = None if value is None or value == "" else str(value)
    config["MAIL_PORT"] = _whole_number("MAIL_PORT", config.get("MAIL_PORT"), 1, 65535)
    config["MAIL_USE_TLS"] = _truthy(config.get("MAIL_USE_TLS"))
    config["MAIL_USE_SSL"] = _truthy(config.get("MAIL_USE_SSL"))
    if config["MAIL_USE_TLS"] and config["MAIL_USE_SSL"]:
        raise ConfigError("MAIL_USE_TLS and MAIL_USE_SSL are both on: use one (SSL for a "
                          "server that speaks TLS at once, usually port 465; TLS for "
                          "STARTTLS, usually port 587).")
    sender = str(config.get("MAIL_DEFAULT_SENDER") or "").strip()
    if "@" not in parseaddr(sender)[1]:
        raise ConfigError(f"MAIL_DEFAULT_SENDER {sender!r} is not a mail address: use e.g. "
                          "'Registrar <registrar@example.edu>'.")
    config["MAIL_DEFAULT_SENDER"] = sender


def load_config(app: Flask, test_config: dict | None) -> None:
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    for name in PLAIN_ENV:
        if name in os.environ:
            app.config[name] = _plain_value(os.environ[name], DEFAULTS.get(name))
    app.config.from_prefixed_env()
    if test_config is not None:
        app.config.from_mapping(test_config)

    app.config["SQLALCHEMY_ECHO"] = _truthy(app.config.get("SQLALCHEMY_ECHO"))
    app.config["CHECK_DATABASE"] = _truthy(app.config.get("CHECK_DATABASE"))
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = _truthy(app.config.get("WEBHOOKS_ALLOW_PRIVATE"))
    app.config["FIXED_NOW"] = _fixed_now(app.config.get("FIXED_NOW"))
    app.config["CATALOG_PAGE_SIZE"] = _whole_number(
        "CATALOG_PAGE_SIZE", app.config.get("CATALOG_PAGE_SIZE"), 1, 1000)
    app.config["PASSWORD_MIN_LENGTH"] = _whole_number(
        "PASSWORD_MIN_LENGTH", app.config.get("PASSWORD_MIN_LENGTH"), 1, 128)
    if not isinstance(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}, dict):
        raise ConfigError("SQLALCHEMY_ENGINE_OPTIONS must be a JSON object, e.g. "
                          '{"pool_size": 10}.')
    app.config["TRUSTED_PROXIES"] = _proxy_count(app.config.get("TRUSTED_PROXIES"))
    app.config["SITE_URL"] = _site_url(app.config.get("SITE_URL"))
    _mail_settings(app.config)
    app.config["WRITE_WAIT_SECONDS"] = _seconds("WRITE_WAIT_SECONDS",
                                                app.config.get("WRITE_WAIT_SECONDS"))
    # Statement parameters carry password hashes and session tokens: never in a log line or
    # an error message, whatever the engine options a deployment sets.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}), "hide_parameters": True}
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        default = "sqlite:///" + os.path.join(app.instance_path, "enrollment.sqlite3")
        app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(app.config.get("DATABASE_URL")
                                                             or default)
    else:
        app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(app.config["SQLALCHEMY_DATABASE_URI"])
    if app.config.get("DATABASE_REPLICA_URL"):
        app.config["DATABASE_REPLICA_URL"] = database_uri(app.config["DATABASE_REPLICA_URL"],
                                                          "DATABASE_REPLICA_URL")

    school_tz = app.config.get("SCHOOL_TIMEZONE") or "UTC"
    try:
        ZoneInfo(school_tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"SCHOOL_TIMEZONE {school_tz!r} is not a time zone name: use e.g. UTC or "
            "America/New_York."
        ) from None
    app.config["SCHOOL_TIMEZONE"] = school_tz

    from .services.grades import LETTERS

    passing = str(app.config.get("PASSING_GRADE") or "D").strip().upper()
    if passing not in LETTERS:
        raise ConfigError(f"PASSING_GRADE {passing!r} is not a letter grade: use one of "
                          f"{' '.join(LETTERS)}.")
    app.config["PASSING_GRADE"] = passing

    if not app.config.get("SECRET_KEY"):
        if app.debug or app.testing:
            app.config["SECRET_KEY"] = DEV_SECRET_KEY
        else:
            raise ConfigError(
                "SECRET_KEY is not set: export SECRET_KEY (or FLASK_SECRET_KEY) to a long random "
                "string, e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`."
            )


def database_uri(url: str, name: str = "DATABASE_URL") -> str:
    """Validate a database URL (the setting `name`) and pick the psycopg 3 driver for plain
    PostgreSQL URLs."""
    url = (url or "").strip()
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"{name} {url!r} is not a database URL: use e.g. "
            "postgresql+psycopg://user@127.0.0.1/enrollment or sqlite:///path/to/file.sqlite3."
        ) from None
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"{name} uses {parsed.get_backend_name()!r}: Enrollment supports sqlite and "
            "postgresql (postgresql+psycopg://…)."
        )
    return parsed.render_as_string(hide_password=False)
