"""The student's own pages under /me: the schedule and the messages."""
from flask import Flask


def init_app(app: Flask) -> None:
    from . import notifications  # noqa: F401  (its views join the blueprint)
    from .views import bp

    app.register_blueprint(bp)
