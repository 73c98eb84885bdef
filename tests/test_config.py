"""The app factory: configuration order, required secrets, one-line errors."""
import subprocess
import sys

import pytest

from enrollment import create_app
from enrollment.config import ConfigError, database_uri


def test_test_config_overrides_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///from-env.sqlite3")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite://"


def test_prefixed_environment_wins(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "plain")
    monkeypatch.setenv("FLASK_SECRET_KEY", "prefixed")
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    app = create_app()
    assert app.config["SECRET_KEY"] == "prefixed"


def test_plain_environment_names(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "plain-secret")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1/x")
    monkeypatch.setenv("SQLALCHEMY_ECHO", "true")
    app = create_app({"CHECK_DATABASE": False})
    assert app.config["SECRET_KEY"] == "plain-secret"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@127.0.0.1/x"
    assert app.config["SQLALCHEMY_ECHO"] is True


def test_instance_config_is_read(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text("SECRET_KEY = 'from-instance'\nCATALOG_PAGE_SIZE = 7\n")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    from flask import Flask

    from enrollment.config import load_config

    app = Flask("x", instance_path=str(tmp_path), instance_relative_config=True)
    load_config(app, {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SECRET_KEY"] == "from-instance"
    assert app.config["CATALOG_PAGE_SIZE"] == 7


def test_default_database_is_sqlite_in_instance(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("FLASK_DATABASE_URL", raising=False)
    app = create_app({"TESTING": True, "CHECK_DATABASE": False})
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/enrollment.sqlite3")


@pytest.mark.parametrize("url", ["not a url", "mysql://x@y/z", "://"])
def test_bad_database_url(url):
    with pytest.raises(ConfigError) as info:
        database_uri(url)
    assert "DATABASE_URL" in info.value.message


def test_missing_secret_key_outside_debug(monkeypatch):
    for name in ("SECRET_KEY", "FLASK_SECRET_KEY", "FLASK_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit) as info:
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert "SECRET_KEY is not set" in str(info.value.code)


def run_flask(*args, env):
    full_env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", **env}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "enrollment", *args],
                          capture_output=True, text=True, env=full_env, timeout=60)


@pytest.mark.parametrize("env, expected", [
    ({}, "SECRET_KEY is not set"),
    ({"SECRET_KEY": "x", "DATABASE_URL": "nonsense"}, "is not a database URL"),
    ({"SECRET_KEY": "x", "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
     "cannot reach the database"),
])
def test_cli_errors_are_one_line_without_traceback(env, expected):
    result = run_flask("db", "current", env=env)
    assert result.returncode != 0
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1


def test_shell_has_db_and_models(app):
    context = {}
    for processor in app.shell_context_processors:
        context.update(processor())
    assert {"db", "User", "Student", "Course", "Enrollment", "Term"} <= set(context)


@pytest.mark.parametrize("prefix", ["", "FLASK_"])
def test_every_name_reads_plain_and_prefixed(monkeypatch, prefix):
    for name, value in {"DATABASE_URL": "sqlite://", "SECRET_KEY": "k",
                        "FIXED_NOW": "2027-01-10T09:00:00-05:00",
                        "SCHOOL_TIMEZONE": "America/New_York", "CATALOG_PAGE_SIZE": "7",
                        "PASSWORD_MIN_LENGTH": "12", "CHECK_DATABASE": "false",
                        "WRITE_WAIT_SECONDS": "3", "PASSING_GRADE": "c"}.items():
        monkeypatch.setenv(prefix + name, value)
    app = create_app()
    assert app.config["FIXED_NOW"].isoformat() == "2027-01-10T14:00:00+00:00"
    assert app.config["SCHOOL_TIMEZONE"] == "America/New_York"
    assert app.config["CATALOG_PAGE_SIZE"] == 7
    assert app.config["PASSWORD_MIN_LENGTH"] == 12
    assert app.config["CHECK_DATABASE"] is False
    assert app.config["WRITE_WAIT_SECONDS"] == 3
    assert app.config["PASSING_GRADE"] == "C"


@pytest.mark.parametrize("name, value, message", [
    ("FIXED_NOW", "next tuesday", "FIXED_NOW 'next tuesday' is not an ISO 8601 time"),
    ("CATALOG_PAGE_SIZE", "lots", "CATALOG_PAGE_SIZE 'lots' is not a whole number from 1"),
    ("CATALOG_PAGE_SIZE", "0", "CATALOG_PAGE_SIZE 0 is not a whole number from 1"),
    ("PASSWORD_MIN_LENGTH", "-3", "PASSWORD_MIN_LENGTH -3 is not a whole number"),
    ("SQLALCHEMY_ENGINE_OPTIONS", "[1]", "SQLALCHEMY_ENGINE_OPTIONS must be a JSON object"),
])
def test_bad_plain_settings_name_themselves(monkeypatch, name, value, message):
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as info:
        create_app({"CHECK_DATABASE": False, "SECRET_KEY": "k"})
    assert message in str(info.value.code)


def test_replica_url_is_read_and_checked(monkeypatch):
    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgresql://reader@127.0.0.1/x")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "CHECK_DATABASE": False})
    assert app.config["DATABASE_REPLICA_URL"] == "postgresql+psycopg://reader@127.0.0.1/x"
    monkeypatch.setenv("DATABASE_REPLICA_URL", "mysql://x@y/z")
    with pytest.raises(SystemExit) as info:
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert str(info.value).startswith("Error: DATABASE_REPLICA_URL uses 'mysql'")
