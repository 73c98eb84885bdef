"""The JSON API at /api/v1 for integrations (an SIS, an LMS, a student app), with bearer
tokens, and its OpenAPI 3 document at /api/v1/openapi.json, browsable at /api/docs.

Built with flask-smorest: the marshmallow schemas (schemas.py) validate the input and describe
the output, and the OpenAPI document is generated from them and the views. Its error handler
is not installed app-wide (it would turn every HTML error page of the site into JSON): the API
blueprint answers its own errors (errors.py), and the app's handlers answer in the same shape
for any path under /api/v1.

Where is what: views.py (the endpoints), auth.py (the token of a request, scopes, who a
request acts for), tokens.py (creating, revoking and finding tokens), pagination.py,
errors.py, schemas.py, docs.py (the Swagger UI page), session.py (no cookies on the API).
"""
from __future__ import annotations

from flask import Flask
from flask_smorest import Api as SmorestApi

from ..extensions import csrf
from . import errors

API_TITLE = "Enrollment API"
API_VERSION = "v1"


class Api(SmorestApi):
    ERROR_SCHEMA = errors.ErrorSchema

    def _register_error_handlers(self):
        """None app-wide: the API blueprint registers its own (see `init_app`)."""


def init_app(app: Flask) -> None:
    from . import docs, session
    from .views import bp

    app.config.setdefault("API_TITLE", API_TITLE)
    app.config.setdefault("API_VERSION", API_VERSION)
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", errors.API_PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": "Bearer tokens: `Authorization: Bearer <token>`. "
                                "See docs/api.md."},
        "security": [{"bearerAuth": []}],
        "components": {"securitySchemes": {"bearerAuth": {"type": "http",
                                                          "scheme": "bearer"}}},
    })
    session.init_app(app)
    csrf.exempt(bp)
    api = Api(app)
    api.register_blueprint(bp)
    app.extensions["enrollment_api"] = api
    docs.init_app(app)
