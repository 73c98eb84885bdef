"""Reads that may go to a streaming replica (`DATABASE_REPLICA_URL`).

The catalog, the reports and the JSON API's reads are the load of registration day that does
not decide anything: with a replica configured, their GET requests read it. Everything else
reads and writes the primary:

- every write, and every read inside `write_transaction` (each seat decision reads what it
  decides on under the lock, on the primary);
- accounts (`User`, `Student`): logging in and the session check never see a lagging copy;
- for `PIN_SECONDS` after a browser or client sent a request that may write (any method but
  GET, HEAD, OPTIONS), its reads: a student who just enrolled sees the enrollment on the next
  page, not the replica's view from a moment before.
"""
from __future__ import annotations

import time

from flask import Flask, current_app, has_request_context, request, session
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import Engine, Select, create_engine

from .database import PRIMARY_ONLY, READ_ONLY_METHODS

EXTENSION = "enrollment.replica"  # app.extensions: the replica's engine
PIN = "primary_until"  # in the Flask session: epoch seconds until which reads go to the primary
PIN_SECONDS = 10
_READS = "enrollment.replica_reads"  # in the WSGI environ: this request's reads may use it


class RoutingSession(FlaskSession):
    """Sends the SELECTs of a request marked by `use_replica` to the replica's engine."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and _to_replica(self, mapper, clause):
            return current_app.extensions[EXTENSION]
        return super().get_bind(mapper, clause=clause, bind=bind, **kwargs)


def _to_replica(session, mapper, clause) -> bool:
    if (not has_request_context() or not request.environ.get(_READS)
            or session.info.get(PRIMARY_ONLY)):
        return False
    if session._flushing or not isinstance(clause, Select):
        return False
    from .models import Student, User

    return mapper is None or mapper.class_ not in (User, Student)


def configured(app: Flask) -> bool:
    return EXTENSION in app.extensions


def engine(app: Flask) -> Engine | None:
    return app.extensions.get(EXTENSION)


def use_replica() -> None:
    """`before_request` of the blueprints whose GETs may read the replica."""
    if (configured(current_app) and request.method in READ_ONLY_METHODS
            and session.get(PIN, 0) < time.time()):
        request.environ[_READS] = True


def init_app(app: Flask) -> None:
    """Create the replica's engine (with the primary's engine options) when one is set."""
    url = app.config.get("DATABASE_REPLICA_URL")
    if not url:
        return
    app.extensions[EXTENSION] = create_engine(url, **app.config["SQLALCHEMY_ENGINE_OPTIONS"])

    @app.after_request
    def _pin_to_primary(response):
        if request.method not in READ_ONLY_METHODS and response.status_code < 400:
            session[PIN] = int(time.time()) + PIN_SECONDS
        return response
