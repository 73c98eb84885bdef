"""Summaries for the reports, kept by triggers: links per course and status
(`course_counts`) and the net change of enrolled seats per course and UTC day
(`enrolled_day_changes`), filled from the links and the audit trail as they are now; and an
index on `enrollments.status_changed_at` (the admin's list of links, latest first).

Revision ID: 9c0d1e2f3a4b
Revises: f5a6b7c8d9e0
Create Date: 2026-12-02 14:30:00

"""
import sqlalchemy as sa
from alembic import op

from enrollment.models.summaries import BACKFILL, backfill_days, triggers

# revision identifiers, used by Alembic.
revision = '9c0d1e2f3a4b'
down_revision = 'f5a6b7c8d9e0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'course_counts',
        sa.Column('course_id', sa.Integer(), nullable=False),
        *[sa.Column(name, sa.Integer(), server_default='0', nullable=False)
          for name in ('enrolled', 'offered', 'waitlisted', 'completed')],
        sa.ForeignKeyConstraint(['course_id'], ['courses.id'],
                                name=op.f('fk_course_counts_course_id_courses'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('course_id', name=op.f('pk_course_counts')),
    )
    op.create_table(
        'enrolled_day_changes',
        sa.Column('course_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('change', sa.Integer(), server_default='0', nullable=False),
        sa.ForeignKeyConstraint(['course_id'], ['courses.id'],
                                name=op.f('fk_enrolled_day_changes_course_id_courses'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('course_id', 'day', name=op.f('pk_enrolled_day_changes')),
    )
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrollments_status_changed_at'),
                              ['status_changed_at'], unique=False)
    dialect = op.get_bind().dialect.name
    for statement in [*BACKFILL, backfill_days(dialect), *triggers(dialect)]:
        op.execute(statement)


def downgrade():
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrollments_status_changed_at'))
    if op.get_bind().dialect.name == 'sqlite':
        for name in ('course_counts_insert', 'course_counts_delete', 'course_counts_update',
                     'enrolled_day_changes_insert'):
            op.execute(f'DROP TRIGGER IF EXISTS {name}')
    else:
        for name in ('course_counts_insert', 'course_counts_delete', 'course_counts_update'):
            op.execute(f'DROP TRIGGER IF EXISTS {name} ON enrollments')
        op.execute('DROP TRIGGER IF EXISTS enrolled_day_changes_add ON enrollment_events')
        op.execute('DROP FUNCTION IF EXISTS course_counts_change()')
        op.execute('DROP FUNCTION IF EXISTS enrolled_day_changes_add()')
    op.drop_table('enrolled_day_changes')
    op.drop_table('course_counts')
