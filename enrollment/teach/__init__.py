"""The teaching pages: an instructor's courses, their rosters and waitlists, and the
permissions an instructor grants to enroll past named rules."""
from flask import Flask


def init_app(app: Flask) -> None:
    from .views import bp

    app.register_blueprint(bp)
