"""`flask` commands: create-staff, seed-demo, import-csv, roster."""
from flask import Flask


def init_app(app: Flask) -> None:
    from .users import create_staff

    app.cli.add_command(create_staff)
