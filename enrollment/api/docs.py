"""/api/docs: the OpenAPI document in Swagger UI, with its assets served from the
`flask-swagger-ui` package (its `dist/` folder: Swagger UI's own release files), never from a
CDN. The site's CSP allows no inline script or style, so the page is plain HTML and a static
script (static/api-docs.js) starts Swagger UI."""
from __future__ import annotations

from importlib.resources import files

from flask import Blueprint, Flask, abort, render_template, send_from_directory, url_for

bp = Blueprint("api_docs", __name__)
ASSETS = frozenset({"swagger-ui-bundle.js", "swagger-ui.css"})


def _dist() -> str:
    return str(files("flask_swagger_ui") / "dist")


@bp.get("/api/docs")
def index():
    """The API's reference, browsable."""
    return render_template("api/docs.html", spec_url=url_for("api-docs.openapi_json"))


@bp.get("/api/docs/assets/<filename>")
def asset(filename: str):
    if filename not in ASSETS:
        abort(404)
    return send_from_directory(_dist(), filename, max_age=86400)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
