"""Enrollment: a course enrollment system. `create_app` is the application factory."""
from __future__ import annotations

import os

import click
from flask import Flask
from sqlalchemy.exc import OperationalError

from .config import ConfigError, load_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: config, extensions, blueprints, admin, CLI.

    A configuration mistake raises `ConfigError` inside a `flask` command (printed as one
    line by click) and exits with a one-line message elsewhere (gunicorn).
    """
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    try:
        load_config(app, test_config)
        _init_extensions(app)
    except ConfigError as exc:
        if click.get_current_context(silent=True) is not None:
            raise
        raise SystemExit(f"Error: {exc.message}") from None
    _register_parts(app)
    return app


def _init_extensions(app: Flask) -> None:
    from . import models  # noqa: F401  (register the tables on the metadata)
    from .database import configure_engine
    from .extensions import csrf, db, login_manager, migrate
    from .replica import engine as replica_engine
    from .replica import init_app as init_replica

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    init_replica(app)
    with app.app_context():
        for engine in (db.engine, replica_engine(app)):  # the primary, and any replica
            if engine is not None:
                configure_engine(engine, write_wait=app.config["WRITE_WAIT_SECONDS"])
        if app.config["CHECK_DATABASE"]:
            _check_database(db.engine)


def _check_database(engine) -> None:
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ConfigError(
            f"cannot reach the database {engine.url.render_as_string(hide_password=True)}: "
            f"{reason}. Is it running, and is DATABASE_URL right?"
        ) from None


def _register_parts(app: Flask) -> None:
    from . import (
        admin,
        api,
        auth,
        catalog,
        cli,
        errors,
        navigation,
        reports,
        schedule,
        security,
        shell,
        teach,
    )
    from .oneroster import rest as oneroster_rest

    security.init_app(app)
    navigation.init_app(app)
    errors.init_app(app)
    auth.init_app(app)
    catalog.init_app(app)
    schedule.init_app(app)
    reports.init_app(app)
    teach.init_app(app)
    api.init_app(app)
    oneroster_rest.init_app(app)
    admin.init_app(app)
    cli.init_app(app)
    shell.init_app(app)
