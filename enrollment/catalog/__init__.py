"""The catalog pages: course search, the course page, enroll and drop."""
from flask import Flask

from .formatting import local_date, local_datetime


def init_app(app: Flask) -> None:
    from .views import bp

    app.add_template_filter(local_datetime, "local_datetime")
    app.add_template_filter(local_date, "local_date")
    app.register_blueprint(bp)
