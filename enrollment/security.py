"""Security headers on every response, Secure cookies and HSTS over HTTPS, trusted proxies.

A hook of our own rather than Flask-Talisman 1.1.0, which does not fit here: it sends HSTS
whenever a request carries `X-Forwarded-Proto: https`, a header any client can send when no
proxy is trusted; it makes the session cookie Secure by rewriting the app's config (for every
later request, HTTP ones too, and not the remember-me cookie); and it has neither
Cross-Origin-Opener-Policy nor a per-page Cache-Control. With those parts turned off, what it
would still do is set the constant headers below.
"""
from __future__ import annotations

from flask import Flask, Response, request, session
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

# Our own origin only, and no inline script or style anywhere, Flask-Admin's pages included
# (their inline handlers are attached from static/admin.js instead). `data:` images are for
# the SVG icons that Bootstrap's CSS embeds: navbar toggler, select arrow, form states.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors 'none' for browsers that predate it
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}

# A year. Not includeSubDomains: the school's other hosts are not ours to pin to HTTPS.
STRICT_TRANSPORT_SECURITY = "max-age=31536000"

# What a cache may keep: the assets, which are public, and the catalog as an anonymous visitor
# sees it. Everything else is somebody's (the schedule and its .ics, /admin, /reports, /auth)
# or, for a logged-in user, shows who they are. The API reference's Swagger UI files are assets.
ASSET_ENDPOINTS = frozenset({"static", "admin.static", "favicon", "api_docs.asset"})
PUBLIC_PAGES = frozenset({"catalog.index", "catalog.course"})


def init_app(app: Flask) -> None:
    app.wsgi_app = SecureCookiesOverHttps(app.wsgi_app)
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        # Outermost, so that everything inside (the cookies above, request.is_secure,
        # request.remote_addr for the login throttle) sees the client's scheme and address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies,
                                x_port=proxies, x_prefix=proxies)
    app.after_request(security_headers)


def security_headers(response: Response) -> Response:
    """Add the headers every response carries, HSTS over HTTPS, no-store where personal."""
    response.headers.update(HEADERS)
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
    if not _cacheable(response):
        response.headers["Cache-Control"] = "no-store"
    return response


def _cacheable(response: Response) -> bool:
    if request.endpoint in ASSET_ENDPOINTS:
        return True
    # Only a catalog page that rendered (an error page is not worth keeping, and a 503 has no
    # database to load the user from), and not one that sets the session cookie: a copy would
    # hand one visitor's session (its CSRF token, a flashed message) to the next.
    return (request.endpoint in PUBLIC_PAGES and response.status_code == 200
            and not session.modified and not current_user.is_authenticated)


class SecureCookiesOverHttps:
    """WSGI middleware: every cookie set in a response to an HTTPS request is `Secure`.

    Flask's session cookie and Flask-Login's remember-me cookie each take `Secure` from one
    config value for all requests; this marks them per request, so one deployment is right
    over HTTPS and still works over plain HTTP (development, a health check).
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("wsgi.url_scheme") != "https":
            return self.wsgi_app(environ, start_response)

        def secure_start_response(status, headers, exc_info=None):
            headers = [(name, _secure(value) if name.lower() == "set-cookie" else value)
                       for name, value in headers]
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, secure_start_response)


def _secure(set_cookie: str) -> str:
    attributes = set_cookie.split(";")[1:]
    if any(a.strip().lower() == "secure" for a in attributes):
        return set_cookie
    return set_cookie + "; Secure"
