"""Waitlist offers: a term's `waitlist_mode` and `offer_hours`, the `offered` status with its
`offer_expires_at`, and the audit actions of offers.

Statuses and actions are VARCHARs with CHECK constraints on both backends: each is dropped and
created again with the new values (SQLite rebuilds the tables in batch mode).
A downgrade turns offered links back into waitlisted ones at the head of their line (waitlist
number 0) and rewrites the offer events as the older actions they amount to there (an offer a
waitlisted→waitlisted `refused`, an accept a `promoted`, a decline or an expiry a `dropped`),
so the trail still rebuilds the table.

Revision ID: b1c2d3e4f5a6
Revises: a8e5b6c7d9f0
Create Date: 2026-12-02 07:00:00

"""
from alembic import op
import sqlalchemy as sa

import enrollment.models.types


# revision identifiers, used by Alembic.
revision = 'b1c2d3e4f5a6'
down_revision = 'a8e5b6c7d9f0'
branch_labels = None
depends_on = None

STATUSES_BEFORE = ('enrolled', 'waitlisted', 'completed')
STATUSES_AFTER = ('enrolled', 'waitlisted', 'offered', 'completed')
ACTIONS_BEFORE = ('enrolled', 'waitlisted', 'promoted', 'dropped', 'added_by_staff',
                  'removed_by_staff', 'imported', 'completed', 'refused')
OFFER_ACTIONS = {'offered': 'refused', 'offer_accepted': 'promoted',
                 'offer_declined': 'dropped', 'offer_expired': 'dropped'}
ACTIONS_AFTER = ACTIONS_BEFORE + tuple(OFFER_ACTIONS)
MODES = ('auto', 'offer')
OFFER_HOURS_MAX = 336


def _check(batch_op, name, column, values):
    batch_op.drop_constraint(op.f(name), type_='check')
    batch_op.create_check_constraint(op.f(name), sa.column(column).in_(values))


def _event_checks(batch_op, statuses, actions):
    _check(batch_op, 'ck_enrollment_events_enrollment_action', 'action', actions)
    _check(batch_op, 'ck_enrollment_events_event_status_before', 'status_before', statuses)
    _check(batch_op, 'ck_enrollment_events_event_status_after', 'status_after', statuses)


def upgrade():
    with op.batch_alter_table('terms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waitlist_mode', sa.String(length=20),
                                      server_default='auto', nullable=False))
        batch_op.create_check_constraint(op.f('ck_terms_waitlist_mode'),
                                         sa.column('waitlist_mode').in_(MODES))
        batch_op.add_column(sa.Column('offer_hours', sa.Integer(), server_default='24',
                                      nullable=False))
        batch_op.create_check_constraint(op.f('ck_terms_offer_hours_range'),
                                         f'offer_hours BETWEEN 1 AND {OFFER_HOURS_MAX}')
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offer_expires_at',
                                      enrollment.models.types.UTCDateTime(), nullable=True))
        _check(batch_op, 'ck_enrollments_enrollment_status', 'status', STATUSES_AFTER)
        batch_op.create_check_constraint(
            op.f('ck_enrollments_offer_expires_iff_offered'),
            "(status = 'offered') = (offer_expires_at IS NOT NULL)")
    with op.batch_alter_table('enrollment_events', schema=None) as batch_op:
        _event_checks(batch_op, STATUSES_AFTER, ACTIONS_AFTER)


def downgrade():
    links = sa.table('enrollments', sa.column('status', sa.String),
                     sa.column('waitlist_seq', sa.Integer),
                     sa.column('offer_expires_at', sa.DateTime))
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_enrollments_offer_expires_iff_offered'),
                                 type_='check')
    op.execute(links.update().where(links.c.status == 'offered')
               .values(status='waitlisted', waitlist_seq=0, offer_expires_at=None))
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        _check(batch_op, 'ck_enrollments_enrollment_status', 'status', STATUSES_BEFORE)
        batch_op.drop_column('offer_expires_at')
    events = sa.table('enrollment_events', sa.column('action', sa.String),
                      sa.column('status_before', sa.String),
                      sa.column('status_after', sa.String))
    for column in (events.c.status_before, events.c.status_after):
        op.execute(events.update().where(column == 'offered').values({column.name: 'waitlisted'}))
    for new, old in OFFER_ACTIONS.items():
        op.execute(events.update().where(events.c.action == new).values(action=old))
    with op.batch_alter_table('enrollment_events', schema=None) as batch_op:
        _event_checks(batch_op, STATUSES_BEFORE, ACTIONS_BEFORE)
    with op.batch_alter_table('terms', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_terms_offer_hours_range'), type_='check')
        batch_op.drop_constraint(op.f('ck_terms_waitlist_mode'), type_='check')
        batch_op.drop_column('offer_hours')
        batch_op.drop_column('waitlist_mode')
