"""Friendly error pages in the site's layout; JSON for clients that ask for it, and the API's
error shape (api/errors.py) for every path under /api/v1."""
import time

from flask import Flask, current_app, jsonify, render_template, request
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from .api import errors as api_errors
from .auth.throttle import BUSY_SIGNING_IN, limiter
from .database import is_busy
from .extensions import db

MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have access to this page.",
    404: "There is nothing at this address.",
    405: "That action is not allowed here.",
    413: "The upload is too large.",
    429: "Too many attempts. Wait a little, then try again.",
    503: "The database cannot be reached right now.",
    "busy": "Too many changes are being made at this moment. Nothing was changed.",
    500: "Something went wrong on our side. Nothing was changed; please try again.",
}


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and not request.accept_mimetypes["text/html"]


def error_response(status: int, message: str | None = None):
    if api_errors.is_api_request():
        return api_errors.json_error(status, message or api_errors.MESSAGES.get(status))
    message = message or MESSAGES.get(status, "Error")
    if wants_json():
        return jsonify(error=message, status=status), status
    return render_template("errors/error.html", status=status, message=message), status


RETRY_AFTER_UNAVAILABLE = 5  # seconds; the app reconnects by itself once the database is back


def unavailable(exc: DBAPIError):
    """503 while the database cannot be reached: one log line, a page that loads nothing."""
    reason = str(exc.orig or exc).strip().splitlines()[0] if (exc.orig or exc) else ""
    current_app.logger.error("database unavailable (%s %s): %s", request.method, request.path,
                             reason)
    try:
        db.session.rollback()
    except DBAPIError:
        pass  # the connection is gone; the session is discarded at the end of the request
    headers = {"Retry-After": str(RETRY_AFTER_UNAVAILABLE)}
    if api_errors.is_api_request():
        return api_errors.json_error(503, MESSAGES[503], headers=headers)
    if wants_json():
        return jsonify(error=MESSAGES[503], status=503), 503, headers
    # Straight from Jinja: render_template runs the context processors, and Flask-Login's
    # would load the user from the database that is gone.
    page = current_app.jinja_env.get_template("errors/unavailable.html").render(
        message=MESSAGES[503], retry_after=RETRY_AFTER_UNAVAILABLE)
    return page, 503, headers


RETRY_AFTER_BUSY = 2  # seconds: a lock queue drains in moments


def busy(exc: DBAPIError):
    """503 when a lock was not obtained within WRITE_WAIT_SECONDS: the load is shed, with a
    page that says when to come back (nothing was changed)."""
    current_app.logger.warning("busy: lock wait over %ss (%s %s)",
                               current_app.config["WRITE_WAIT_SECONDS"], request.method,
                               request.path)
    db.session.rollback()
    headers = {"Retry-After": str(RETRY_AFTER_BUSY)}
    if api_errors.is_api_request():
        return api_errors.json_error(503, MESSAGES["busy"], code="busy", headers=headers)
    if wants_json():
        return jsonify(error=MESSAGES["busy"], status=503), 503, headers
    page = current_app.jinja_env.get_template("errors/unavailable.html").render(
        message=MESSAGES["busy"], retry_after=RETRY_AFTER_BUSY, busy=True)
    return page, 503, headers


def _is_outage(exc: DBAPIError) -> bool:
    return isinstance(exc, OperationalError) or exc.connection_invalidated


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{round(seconds / 60)} minutes"


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        return error_response(400, "Your form expired or was not sent from this site "
                                   "(missing or invalid CSRF token). Reload the page and try again.")

    @app.errorhandler(DBAPIError)
    def _database(exc: DBAPIError):
        if is_busy(exc):
            return busy(exc)
        if _is_outage(exc):
            return unavailable(exc)
        db.session.rollback()
        current_app.logger.exception("database error")
        return error_response(500)

    @app.errorhandler(RateLimitExceeded)
    def _throttled(exc: RateLimitExceeded):
        limit = limiter.current_limit
        wait = max(int(limit.reset_at - time.time()), 1) if limit else 60
        if api_errors.is_api_request():
            message = f"Too many requests with this token. Try again in {_duration(wait)}."
        elif exc.description == BUSY_SIGNING_IN:  # the shared hashing budget, not this user
            message = f"{BUSY_SIGNING_IN} Try again in {_duration(wait)}."
        else:
            message = (f"Too many failed attempts from this account or address. "
                       f"Try again in {_duration(wait)}.")
        body, status = error_response(429, message)
        # Flask-Limiter sets Retry-After from this header and its window, truncating to whole
        # seconds: one more keeps it at least `wait` (never 0, which means "now").
        return body, status, {"Retry-After": str(wait + 1)}

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        # A description given at abort() says more than the generic message for the code.
        specific = exc.description != type(exc).description
        response = error_response(exc.code, exc.description if specific
                                  else MESSAGES.get(exc.code) or exc.description)
        if exc.code == 405 and exc.valid_methods:
            return response[0], 405, {"Allow": ", ".join(exc.valid_methods)}
        return response

    @app.errorhandler(InternalServerError)
    def _internal(exc):
        db.session.rollback()
        return error_response(500)
