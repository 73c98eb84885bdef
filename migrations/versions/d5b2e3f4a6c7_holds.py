"""Holds: an office blocks a student's registration until it clears the hold.

Revision ID: d5b2e3f4a6c7
Revises: c4a1d2e3f5b6
Create Date: 2026-12-02 01:40:00

"""
from alembic import op
import sqlalchemy as sa

import enrollment.models.types


# revision identifiers, used by Alembic.
revision = 'd5b2e3f4a6c7'
down_revision = 'c4a1d2e3f5b6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'holds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('office', sa.String(length=80), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('contact', sa.String(length=200), nullable=False),
        sa.Column('blocks_registration', sa.Boolean(), nullable=False),
        sa.Column('added_at', enrollment.models.types.UTCDateTime(), nullable=False),
        sa.Column('added_by_id', sa.Integer(), nullable=True),
        sa.Column('cleared_at', enrollment.models.types.UTCDateTime(), nullable=True),
        sa.Column('cleared_by_id', sa.Integer(), nullable=True),
        sa.Column('cleared_reason', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['added_by_id'], ['users.id'],
                                name=op.f('fk_holds_added_by_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['cleared_by_id'], ['users.id'],
                                name=op.f('fk_holds_cleared_by_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['student_id'], ['students.id'],
                                name=op.f('fk_holds_student_id_students'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_holds')),
        sa.UniqueConstraint('student_id', 'office', name='uq_holds_student_office'),
    )
    with op.batch_alter_table('holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_holds_student_id'), ['student_id'], unique=False)


def downgrade():
    with op.batch_alter_table('holds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_holds_student_id'))
    op.drop_table('holds')
