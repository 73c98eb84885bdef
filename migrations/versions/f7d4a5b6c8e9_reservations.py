"""Reserved seats: seats of a course kept for a program until a release time.

Revision ID: f7d4a5b6c8e9
Revises: e6c3f4a5b7d8
Create Date: 2026-12-02 03:10:00

"""
from alembic import op
import sqlalchemy as sa

import enrollment.models.types


# revision identifiers, used by Alembic.
revision = 'f7d4a5b6c8e9'
down_revision = 'e6c3f4a5b7d8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'reservations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('course_id', sa.Integer(), nullable=False),
        sa.Column('program', sa.String(length=120), nullable=False),
        sa.Column('seats', sa.Integer(), nullable=False),
        sa.Column('release_at', enrollment.models.types.UTCDateTime(), nullable=False),
        sa.Column('released_at', enrollment.models.types.UTCDateTime(), nullable=True),
        sa.CheckConstraint('seats >= 0', name=op.f('ck_reservations_seats_nonnegative')),
        sa.ForeignKeyConstraint(['course_id'], ['courses.id'],
                                name=op.f('fk_reservations_course_id_courses'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reservations')),
        sa.UniqueConstraint('course_id', 'program', name='uq_reservations_course_program'),
    )
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reservations_course_id'), ['course_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_reservations_released_at'), ['released_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reservations_released_at'))
        batch_op.drop_index(batch_op.f('ix_reservations_course_id'))
    op.drop_table('reservations')
