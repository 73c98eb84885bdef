"""Users get a session token: logging out (or a new password) revokes every earlier cookie.

Existing users get a random token, which also ends the sessions issued before the upgrade.

Revision ID: 862a9e9d9989
Revises: b0f82d093b29
Create Date: 2026-11-25 15:34:11.480868

"""
import secrets

from alembic import op
import sqlalchemy as sa

import enrollment.models.types


# revision identifiers, used by Alembic.
revision = '862a9e9d9989'
down_revision = 'b0f82d093b29'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=32), nullable=True))
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('session_token', sa.String))
    connection = op.get_bind()
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(users.update().where(users.c.id == user_id)
                           .values(session_token=secrets.token_hex(16)))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=32), nullable=False)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_token')
