"""`flask` commands: create-user, create-staff, seed-demo, import-csv, roster, holds,
appointments, tick."""
from flask import Flask


def init_app(app: Flask) -> None:
    from .appointments import appointments
    from .holds import holds
    from .imports import import_csv
    from .roster import roster
    from .seed import seed_demo
    from .tick import tick
    from .users import create_staff, create_user

    app.cli.add_command(create_user)
    app.cli.add_command(create_staff)
    app.cli.add_command(holds)
    app.cli.add_command(appointments)
    app.cli.add_command(import_csv)
    app.cli.add_command(roster)
    app.cli.add_command(seed_demo)
    app.cli.add_command(tick)
