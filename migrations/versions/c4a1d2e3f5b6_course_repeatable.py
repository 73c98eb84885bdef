"""Courses may be repeatable: a passed completion then does not block taking the code again.

Revision ID: c4a1d2e3f5b6
Revises: 862a9e9d9989
Create Date: 2026-12-02 01:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4a1d2e3f5b6'
down_revision = '862a9e9d9989'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('repeatable', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_column('repeatable')
