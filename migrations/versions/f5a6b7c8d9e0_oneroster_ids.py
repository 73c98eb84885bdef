"""OneRoster identity: a `sourced_id` (UUID) and `updated_at` on terms, departments, courses
and users, `updated_at` on students, and `oneroster_deletions` (tombstones for deltas).

Existing rows get a fresh UUID each and `updated_at` = the migration's time (users: when they
were created).

Revision ID: f5a6b7c8d9e0
Revises: e4f5a6b7c8d9
Create Date: 2026-12-02 13:30:00

"""
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import enrollment.models.types

# revision identifiers, used by Alembic.
revision = 'f5a6b7c8d9e0'
down_revision = 'e4f5a6b7c8d9'
branch_labels = None
depends_on = None

SOURCED = ('terms', 'departments', 'courses', 'users')
BATCH = 5000


def _backfill(table: str, now: datetime) -> None:
    conn = op.get_bind()
    t = sa.table(table, sa.column('id', sa.Integer), sa.column('sourced_id', sa.String),
                 sa.column('updated_at', enrollment.models.types.UTCDateTime()))
    ids = list(conn.scalars(sa.select(t.c.id)))
    update = (sa.update(t).where(t.c.id == sa.bindparam('row_id'))
              .values(sourced_id=sa.bindparam('uuid'), updated_at=sa.bindparam('now')))
    for start in range(0, len(ids), BATCH):
        conn.execute(update, [{'row_id': i, 'uuid': str(uuid.uuid4()), 'now': now}
                              for i in ids[start:start + BATCH]])


def upgrade():
    now = datetime.now(UTC)
    for table in SOURCED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('sourced_id', sa.String(length=36), nullable=True))
            batch_op.add_column(sa.Column('updated_at', enrollment.models.types.UTCDateTime(),
                                          nullable=True))
        _backfill(table, now)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('sourced_id', existing_type=sa.String(length=36),
                                  nullable=False)
            batch_op.alter_column('updated_at',
                                  existing_type=enrollment.models.types.UTCDateTime(),
                                  nullable=False)
            batch_op.create_unique_constraint(batch_op.f(f'uq_{table}_sourced_id'),
                                              ['sourced_id'])
            batch_op.create_index(batch_op.f(f'ix_{table}_updated_at'), ['updated_at'],
                                  unique=False)
    op.execute("UPDATE users SET updated_at = created_at")
    with op.batch_alter_table('students', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', enrollment.models.types.UTCDateTime(),
                                      nullable=True))
    op.execute(sa.text("UPDATE students SET updated_at = (SELECT users.created_at FROM users "
                       "WHERE users.id = students.user_id)"))
    with op.batch_alter_table('students', schema=None) as batch_op:
        batch_op.alter_column('updated_at', existing_type=enrollment.models.types.UTCDateTime(),
                              nullable=False)
        batch_op.create_index(batch_op.f('ix_students_updated_at'), ['updated_at'],
                              unique=False)
    op.create_table(
        'oneroster_deletions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('sourced_id', sa.String(length=36), nullable=False),
        sa.Column('deleted_at', enrollment.models.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_oneroster_deletions')),
    )
    with op.batch_alter_table('oneroster_deletions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oneroster_deletions_deleted_at'), ['deleted_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_oneroster_deletions_sourced_id'), ['sourced_id'],
                              unique=False)


def downgrade():
    op.drop_table('oneroster_deletions')
    with op.batch_alter_table('students', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_students_updated_at'))
        batch_op.drop_column('updated_at')
    for table in reversed(SOURCED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_updated_at'))
            batch_op.drop_constraint(batch_op.f(f'uq_{table}_sourced_id'), type_='unique')
            batch_op.drop_column('updated_at')
            batch_op.drop_column('sourced_id')
