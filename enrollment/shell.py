"""`flask shell` with the database and every model preloaded."""
from flask import Flask


def init_app(app: Flask) -> None:
    @app.shell_context_processor
    def _context():
        from . import models
        from .extensions import db

        return {"db": db, **{name: getattr(models, name) for name in models.__all__}}
