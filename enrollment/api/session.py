"""No cookies on the API: the session is neither read nor written for paths under /api/v1.

A browser that is logged in to the site sends its session cookie along with any request to
the API; a token alone authorizes API requests (see auth.py), so the cookie is not even
decoded, and no API response sets one.
"""
from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from .errors import is_api_request


class NoSessionOnTheApi(SecureCookieSessionInterface):
    def open_session(self, app, request_):
        if is_api_request():
            return self.session_class()  # empty, and never saved
        return super().open_session(app, request_)

    def save_session(self, app, session, response):
        if is_api_request():
            return None
        return super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    app.session_interface = NoSessionOnTheApi()

