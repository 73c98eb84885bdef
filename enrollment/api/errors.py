"""The API's one error shape, `{"error": {"code", "message", "reasons"}}`, for every status.

Errors raised in the API's views are `ApiError`s or Flask's HTTP errors (webargs raises 400 for
malformed JSON and 422 for invalid fields); the app's own handlers (errors.py) answer in this
shape too for any path under /api/v1 (a route that does not exist, 429, the 503 pages), so an
API client never gets HTML.
"""
from __future__ import annotations

import marshmallow as ma
from flask import has_request_context, jsonify, request

API_PREFIX = "/api/v1"

CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "refused", 413: "too_large", 415: "unsupported_media_type",
    422: "invalid", 429: "too_many_requests", 500: "internal_error", 503: "unavailable",
}
MESSAGES = {
    400: "The request could not be understood.",
    401: "A valid bearer token is required (Authorization: Bearer <token>).",
    403: "This token may not do that.",
    404: "There is nothing at this address.",
    405: "That method is not allowed here.",
    422: "A field is invalid.",
    429: "Too many requests. Wait a little, then try again.",
    500: "Something went wrong on our side. Nothing was changed.",
    503: "The service is unavailable right now. Nothing was changed.",
}


def is_api_request() -> bool:
    return has_request_context() and (request.path == API_PREFIX
                                      or request.path.startswith(API_PREFIX + "/"))


class ApiError(Exception):
    """An error answered in the API's shape; `reasons` lists (code, message) pairs."""

    def __init__(self, status: int, message: str | None = None, *, code: str | None = None,
                 reasons=(), headers: dict | None = None):
        self.status = status
        self.message = message or MESSAGES.get(status, "Error")
        self.code = code or CODES.get(status, "error")
        self.reasons = [{"code": c, "message": m} for c, m in reasons]
        self.headers = dict(headers or {})
        if status == 401:
            self.headers.setdefault("WWW-Authenticate", 'Bearer realm="api"')
        super().__init__(self.message)


def body(status: int, message: str | None = None, *, code: str | None = None,
         reasons: list[dict] | None = None) -> dict:
    return {"error": {"code": code or CODES.get(status, "error"),
                      "message": message or MESSAGES.get(status, "Error"),
                      "reasons": reasons or []}}


def json_error(status: int, message: str | None = None, *, code: str | None = None,
               reasons: list[dict] | None = None, headers: dict | None = None):
    """`(response, status)` or `(response, status, headers)`, as Flask handlers return."""
    response = jsonify(body(status, message, code=code, reasons=reasons))
    if status == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="api"', **(headers or {})}
    return (response, status, headers) if headers else (response, status)


def from_api_error(exc: ApiError):
    return json_error(exc.status, exc.message, code=exc.code, reasons=exc.reasons,
                      headers=exc.headers)


def field_messages(messages, path: str = "") -> list[str]:
    """Webargs' nested `{location: {field: [messages]}}` as `field: message` lines."""
    if isinstance(messages, dict):
        lines = []
        for key, value in messages.items():
            if key in ("json", "query", "view_args") and not path:
                lines += field_messages(value, "")
            else:
                lines += field_messages(value, f"{path}.{key}" if path else str(key))
        return lines
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [f"{path}: {m}" if path else m for m in messages]
    if isinstance(messages, list):
        return [line for m in messages for line in field_messages(m, path)]
    return [f"{path}: {messages}" if path else str(messages)]


def from_http_error(exc):
    """An HTTP error raised in an API view (abort, webargs) in the API's shape."""
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    reasons = None
    if status == 400 and messages:
        message = "The request body is not valid JSON."
    elif messages:
        lines = field_messages(messages)
        message = " ".join(lines) or MESSAGES[422]
        reasons = [{"code": "invalid", "message": line} for line in lines]
    elif exc.description and exc.description != type(exc).description:
        message = exc.description
    else:
        message = MESSAGES.get(status) or exc.description
    headers = dict(data.get("headers") or {})
    if status == 405 and getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(exc.valid_methods)
    return json_error(status, message, reasons=reasons, headers=headers or None)


class ReasonSchema(ma.Schema):
    code = ma.fields.String(required=True)
    message = ma.fields.String(required=True)


class ErrorDetailSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={
        "description": "refused, invalid, unauthorized, forbidden, not_found, …"})
    message = ma.fields.String(required=True)
    reasons = ma.fields.List(ma.fields.Nested(ReasonSchema), required=True, metadata={
        "description": "Every refusal of the rules (409), every invalid field (422)."})


class ErrorSchema(ma.Schema):
    """The body of every error response."""

    error = ma.fields.Nested(ErrorDetailSchema, required=True)
