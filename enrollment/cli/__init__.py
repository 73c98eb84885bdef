"""`flask` commands: create-user, create-staff, seed-demo, import-csv, roster, holds,
appointments, tick, webhooks, notifications, worker, api-token, oneroster."""
from flask import Flask


def init_app(app: Flask) -> None:
    from .api_tokens import api_token
    from .appointments import appointments
    from .holds import holds
    from .imports import import_csv
    from .notifications import notifications, worker
    from .oneroster import oneroster
    from .oneroster_csv import export_command, import_command  # noqa: F401 (join the group)
    from .roster import roster
    from .seed import seed_demo
    from .tick import tick
    from .users import create_staff, create_user
    from .webhooks import webhooks_group

    app.cli.add_command(create_user)
    app.cli.add_command(create_staff)
    app.cli.add_command(holds)
    app.cli.add_command(appointments)
    app.cli.add_command(import_csv)
    app.cli.add_command(roster)
    app.cli.add_command(seed_demo)
    app.cli.add_command(tick)
    app.cli.add_command(notifications)
    app.cli.add_command(worker)
    app.cli.add_command(webhooks_group)
    app.cli.add_command(api_token)
    app.cli.add_command(oneroster)
