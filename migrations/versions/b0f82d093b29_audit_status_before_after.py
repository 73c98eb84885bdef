"""Audit events record the link's status before and after the change.

Existing events are filled in from their action and the first words of their reason, which is
where the services wrote the outcome until now.

Revision ID: b0f82d093b29
Revises: 918e7a9d1eb3
Create Date: 2026-11-25 14:52:23.143348

"""
from alembic import op
import sqlalchemy as sa

import enrollment.models.types


# revision identifiers, used by Alembic.
revision = 'b0f82d093b29'
down_revision = '918e7a9d1eb3'
branch_labels = None
depends_on = None


STATUSES = "('enrolled', 'waitlisted', 'completed')"

# (condition on existing rows, status_before, status_after)
BACKFILL = [
    ("action = 'enrolled'", None, "enrolled"),
    ("action = 'waitlisted'", None, "waitlisted"),
    ("action = 'promoted'", "waitlisted", "enrolled"),
    ("action = 'refused'", "waitlisted", "waitlisted"),
    ("action IN ('added_by_staff', 'imported') AND reason LIKE 'Enrolled.%'", None, "enrolled"),
    ("action IN ('added_by_staff', 'imported') AND reason LIKE 'Waitlisted%'", None,
     "waitlisted"),
    ("action IN ('dropped', 'removed_by_staff') AND reason LIKE 'Dropped.%'", "enrolled", None),
    ("action IN ('dropped', 'removed_by_staff') AND reason LIKE 'Left the waitlist.%'",
     "waitlisted", None),
    ("action = 'removed_by_staff' AND reason LIKE 'Removed a completed record.%'", "completed",
     None),
    ("action = 'completed'", None, "completed"),
]


def upgrade():
    with op.batch_alter_table('enrollment_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_before', sa.Enum('enrolled', 'waitlisted', 'completed', name='event_status_before', native_enum=False, create_constraint=False, length=20), nullable=True))
        batch_op.add_column(sa.Column('status_after', sa.Enum('enrolled', 'waitlisted', 'completed', name='event_status_after', native_enum=False, create_constraint=False, length=20), nullable=True))
        batch_op.create_check_constraint('event_status_before', f"status_before IN {STATUSES}")
        batch_op.create_check_constraint('event_status_after', f"status_after IN {STATUSES}")
    events = sa.table('enrollment_events', sa.column('status_before'), sa.column('status_after'))
    for condition, before, after in BACKFILL:
        op.execute(events.update().where(sa.text(condition))
                   .values(status_before=before, status_after=after))


def downgrade():
    with op.batch_alter_table('enrollment_events', schema=None) as batch_op:
        batch_op.drop_constraint('event_status_after', type_='check')
        batch_op.drop_constraint('event_status_before', type_='check')
        batch_op.drop_column('status_after')
        batch_op.drop_column('status_before')
