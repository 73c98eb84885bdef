"""The student's own pages under /me (the schedule and the messages), and the private
calendar address (/calendar/<secret>.ics)."""
from flask import Flask


def init_app(app: Flask) -> None:
    from . import notifications  # noqa: F401  (its views join the blueprint)
    from .views import bp, feeds

    app.register_blueprint(bp)
    app.register_blueprint(feeds)
