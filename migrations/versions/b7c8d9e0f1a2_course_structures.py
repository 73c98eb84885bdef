"""Course structures: co-requisites (courses taken together in a term), cross-listed groups
(one seat pool and one waitlist for several sections) and the swap attached to a waitlist
entry (a conditional swap waiting for a seat).

Revision ID: b7c8d9e0f1a2
Revises: a6b7c8d9e0f1
Create Date: 2026-12-02 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7c8d9e0f1a2'
down_revision = 'a6b7c8d9e0f1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'corequisites',
        sa.Column('course_id', sa.Integer(), nullable=False),
        sa.Column('corequisite_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['course_id'], ['courses.id'],
                                name=op.f('fk_corequisites_course_id_courses'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['corequisite_id'], ['courses.id'],
                                name=op.f('fk_corequisites_corequisite_id_courses'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('course_id', 'corequisite_id', name=op.f('pk_corequisites')),
    )
    with op.batch_alter_table('corequisites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_corequisites_corequisite_id'), ['corequisite_id'],
                              unique=False)
    op.create_table(
        'crosslists',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('term_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('capacity', sa.Integer(), nullable=False),
        sa.CheckConstraint('capacity >= 0', name=op.f('ck_crosslists_capacity_nonnegative')),
        sa.ForeignKeyConstraint(['term_id'], ['terms.id'],
                                name=op.f('fk_crosslists_term_id_terms'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_crosslists')),
        sa.UniqueConstraint('term_id', 'key', name='uq_crosslists_term_key'),
    )
    op.create_table(
        'crosslist_sections',
        sa.Column('course_id', sa.Integer(), nullable=False),
        sa.Column('crosslist_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['course_id'], ['courses.id'],
                                name=op.f('fk_crosslist_sections_course_id_courses'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['crosslist_id'], ['crosslists.id'],
                                name=op.f('fk_crosslist_sections_crosslist_id_crosslists'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('course_id', name=op.f('pk_crosslist_sections')),
    )
    with op.batch_alter_table('crosslist_sections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crosslist_sections_crosslist_id'), ['crosslist_id'],
                              unique=False)
    op.create_table(
        'waitlist_swaps',
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('course_id', sa.Integer(), nullable=False),
        sa.Column('drop_course_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['student_id', 'course_id'],
                                ['enrollments.student_id', 'enrollments.course_id'],
                                name='fk_waitlist_swaps_link', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['drop_course_id'], ['courses.id'],
                                name=op.f('fk_waitlist_swaps_drop_course_id_courses'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('student_id', 'course_id', name=op.f('pk_waitlist_swaps')),
    )
    with op.batch_alter_table('waitlist_swaps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waitlist_swaps_drop_course_id'), ['drop_course_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('waitlist_swaps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_waitlist_swaps_drop_course_id'))
    op.drop_table('waitlist_swaps')
    with op.batch_alter_table('crosslist_sections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crosslist_sections_crosslist_id'))
    op.drop_table('crosslist_sections')
    op.drop_table('crosslists')
    with op.batch_alter_table('corequisites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_corequisites_corequisite_id'))
    op.drop_table('corequisites')
