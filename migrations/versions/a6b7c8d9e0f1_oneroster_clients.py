"""OneRoster REST clients: `oneroster_clients` (OAuth 2 client credentials, secret hashed).

Revision ID: a6b7c8d9e0f1
Revises: 9c0d1e2f3a4b
Create Date: 2026-12-02 14:10:00

"""
import sqlalchemy as sa
from alembic import op

import enrollment.models.types

# revision identifiers, used by Alembic.
revision = 'a6b7c8d9e0f1'
down_revision = '9c0d1e2f3a4b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'oneroster_clients',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', enrollment.models.types.UTCDateTime(), nullable=False),
        sa.Column('last_token_at', enrollment.models.types.UTCDateTime(), nullable=True),
        sa.Column('revoked_at', enrollment.models.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_oneroster_clients')),
        sa.UniqueConstraint('client_id', name=op.f('uq_oneroster_clients_client_id')),
    )


def downgrade():
    op.drop_table('oneroster_clients')
