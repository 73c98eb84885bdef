"""The outbox: pending audit and course events, notifications, webhook endpoints and
deliveries; a student's choice of confirmation mails.

Revision ID: c2d3e4f5a6b7
Revises: b1c2d3e4f5a6
Create Date: 2026-12-02 06:53:02.232223

"""
from alembic import op
import sqlalchemy as sa

import enrollment.models.types


# revision identifiers, used by Alembic.
revision = 'c2d3e4f5a6b7'
down_revision = 'b1c2d3e4f5a6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('webhook_endpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('secret', sa.String(length=200), nullable=False),
    sa.Column('events', sa.String(length=200), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', enrollment.models.types.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_webhook_endpoints_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoints'))
    )
    op.create_table('course_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', enrollment.models.types.UTCDateTime(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('changes', sa.Text(), nullable=False),
    sa.Column('course_label', sa.String(length=200), nullable=False),
    sa.Column('fanned_out_at', enrollment.models.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_course_events_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_events_course_id_courses'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_events'))
    )
    with op.batch_alter_table('course_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_events_course_id'), ['course_id'], unique=False)
        batch_op.create_index('ix_course_events_pending', ['id'], unique=False, postgresql_where=sa.text('fanned_out_at IS NULL'), sqlite_where=sa.text('fanned_out_at IS NULL'))

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=True),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('created_at', enrollment.models.types.UTCDateTime(), nullable=False),
    sa.Column('due_at', enrollment.models.types.UTCDateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('claimed_until', enrollment.models.types.UTCDateTime(), nullable=True),
    sa.Column('sent_at', enrollment.models.types.UTCDateTime(), nullable=True),
    sa.Column('failed_at', enrollment.models.types.UTCDateTime(), nullable=True),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('course_event_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['course_event_id'], ['course_events.id'], name=op.f('fk_notifications_course_event_id_course_events'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_notifications_course_id_courses'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_id'], ['enrollment_events.id'], name=op.f('fk_notifications_event_id_enrollment_events'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_notifications_student_id_students'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('course_event_id', 'student_id', name='uq_notifications_course_event'),
    sa.UniqueConstraint('event_id', 'student_id', 'kind', name='uq_notifications_event'),
    sa.UniqueConstraint('key', name=op.f('uq_notifications_key'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_course_event_id'), ['course_event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_student_id'), ['student_id'], unique=False)
        batch_op.create_index('ix_notifications_unsent', ['due_at'], unique=False, postgresql_where=sa.text('sent_at IS NULL AND failed_at IS NULL'), sqlite_where=sa.text('sent_at IS NULL AND failed_at IS NULL'))

    op.create_table('webhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('endpoint_id', sa.Integer(), nullable=False),
    sa.Column('event_type', sa.String(length=40), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('created_at', enrollment.models.types.UTCDateTime(), nullable=False),
    sa.Column('due_at', enrollment.models.types.UTCDateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('claimed_until', enrollment.models.types.UTCDateTime(), nullable=True),
    sa.Column('sent_at', enrollment.models.types.UTCDateTime(), nullable=True),
    sa.Column('failed_at', enrollment.models.types.UTCDateTime(), nullable=True),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('course_event_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['course_event_id'], ['course_events.id'], name=op.f('fk_webhook_deliveries_course_event_id_course_events'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id'], name=op.f('fk_webhook_deliveries_endpoint_id_webhook_endpoints'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['enrollment_events.id'], name=op.f('fk_webhook_deliveries_event_id_enrollment_events'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sa.UniqueConstraint('endpoint_id', 'course_event_id', name='uq_webhook_deliveries_course_event'),
    sa.UniqueConstraint('endpoint_id', 'event_id', name='uq_webhook_deliveries_event'),
    sa.UniqueConstraint('key', name=op.f('uq_webhook_deliveries_key'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_course_event_id'), ['course_event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_endpoint_id'), ['endpoint_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_event_id'), ['event_id'], unique=False)
        batch_op.create_index('ix_webhook_deliveries_unsent', ['due_at'], unique=False, postgresql_where=sa.text('sent_at IS NULL AND failed_at IS NULL'), sqlite_where=sa.text('sent_at IS NULL AND failed_at IS NULL'))

    with op.batch_alter_table('enrollment_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fanned_out_at', enrollment.models.types.UTCDateTime(), nullable=True))
        batch_op.create_index('ix_enrollment_events_pending', ['id'], unique=False, postgresql_where=sa.text('fanned_out_at IS NULL'), sqlite_where=sa.text('fanned_out_at IS NULL'))
    # What happened before the outbox existed is not news: nobody is told of it now.
    op.execute("UPDATE enrollment_events SET fanned_out_at = at")

    with op.batch_alter_table('students', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mail_confirmations', sa.Boolean(), server_default=sa.true(), nullable=False))



def downgrade():
    with op.batch_alter_table('students', schema=None) as batch_op:
        batch_op.drop_column('mail_confirmations')

    with op.batch_alter_table('enrollment_events', schema=None) as batch_op:
        batch_op.drop_index('ix_enrollment_events_pending', postgresql_where=sa.text('fanned_out_at IS NULL'), sqlite_where=sa.text('fanned_out_at IS NULL'))
        batch_op.drop_column('fanned_out_at')

    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_deliveries_unsent', postgresql_where=sa.text('sent_at IS NULL AND failed_at IS NULL'), sqlite_where=sa.text('sent_at IS NULL AND failed_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_event_id'))
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_endpoint_id'))
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_course_event_id'))

    op.drop_table('webhook_deliveries')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_unsent', postgresql_where=sa.text('sent_at IS NULL AND failed_at IS NULL'), sqlite_where=sa.text('sent_at IS NULL AND failed_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_notifications_student_id'))
        batch_op.drop_index(batch_op.f('ix_notifications_event_id'))
        batch_op.drop_index(batch_op.f('ix_notifications_course_event_id'))

    op.drop_table('notifications')
    with op.batch_alter_table('course_events', schema=None) as batch_op:
        batch_op.drop_index('ix_course_events_pending', postgresql_where=sa.text('fanned_out_at IS NULL'), sqlite_where=sa.text('fanned_out_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_course_events_course_id'))

    op.drop_table('course_events')
    op.drop_table('webhook_endpoints')
