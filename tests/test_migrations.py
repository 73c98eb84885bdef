"""The migrations build the same schema as the models, on SQLite and PostgreSQL, both ways."""
import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from enrollment import create_app
from enrollment.extensions import db
from tests.conftest import _pg_server_url


@pytest.fixture
def empty_database_url(backend, pg_database, tmp_path):
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    server = _pg_server_url()
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"enrollment_migrate_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def schema_diff():
    with db.engine.connect() as conn:
        return compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)


def table_names():
    return set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_matches_models_and_downgrade_round_trips(empty_database_url):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade()
        assert table_names() == set(db.metadata.tables)
        assert schema_diff() == []
        downgrade(revision="base")
        assert table_names() == set()
        upgrade()
        assert schema_diff() == []
        db.engine.dispose()
