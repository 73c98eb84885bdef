"""Appointments: a student's own enrollment opening time in a term.

Revision ID: e6c3f4a5b7d8
Revises: d5b2e3f4a6c7
Create Date: 2026-12-02 01:45:00

"""
from alembic import op
import sqlalchemy as sa

import enrollment.models.types


# revision identifiers, used by Alembic.
revision = 'e6c3f4a5b7d8'
down_revision = 'd5b2e3f4a6c7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'appointments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('term_id', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('opens_at', enrollment.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['student_id'], ['students.id'],
                                name=op.f('fk_appointments_student_id_students'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['term_id'], ['terms.id'],
                                name=op.f('fk_appointments_term_id_terms'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_appointments')),
        sa.UniqueConstraint('term_id', 'student_id', name='uq_appointments_term_student'),
    )
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointments_student_id'), ['student_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointments_student_id'))
    op.drop_table('appointments')
