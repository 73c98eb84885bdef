"""Instructors: the `instructor` role, the account that teaches a course, and instructor
permissions to enroll past named rules.

The role is a VARCHAR with a CHECK constraint (`ck_users_role`) on both backends: it is
dropped and created again with the new value (SQLite rebuilds the table in batch mode).
A downgrade turns instructors into students (the old constraint has no other role for them;
they have no student profile, so they still cannot act as students).

Revision ID: a8e5b6c7d9f0
Revises: f7d4a5b6c8e9
Create Date: 2026-12-02 06:30:00

"""
from alembic import op
import sqlalchemy as sa

import enrollment.models.types


# revision identifiers, used by Alembic.
revision = 'a8e5b6c7d9f0'
down_revision = 'f7d4a5b6c8e9'
branch_labels = None
depends_on = None

ROLES_BEFORE = ('student', 'staff')
ROLES_AFTER = ('student', 'instructor', 'staff')


def _role_check(batch_op, roles):
    batch_op.drop_constraint(op.f('ck_users_role'), type_='check')
    batch_op.create_check_constraint(
        op.f('ck_users_role'), sa.column('role').in_(roles))


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        _role_check(batch_op, ROLES_AFTER)
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('instructor_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_courses_instructor_id'), ['instructor_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_courses_instructor_id_users'), 'users',
                                    ['instructor_id'], ['id'], ondelete='SET NULL')
    op.create_table(
        'permissions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('course_id', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('rules', sa.String(length=120), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('granted_by_id', sa.Integer(), nullable=True),
        sa.Column('granted_at', enrollment.models.types.UTCDateTime(), nullable=False),
        sa.Column('used_at', enrollment.models.types.UTCDateTime(), nullable=True),
        sa.Column('revoked_at', enrollment.models.types.UTCDateTime(), nullable=True),
        sa.Column('revoked_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['course_id'], ['courses.id'],
                                name=op.f('fk_permissions_course_id_courses'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['student_id'], ['students.id'],
                                name=op.f('fk_permissions_student_id_students'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'],
                                name=op.f('fk_permissions_granted_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'],
                                name=op.f('fk_permissions_revoked_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_permissions')),
    )
    with op.batch_alter_table('permissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_permissions_course_id'), ['course_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_permissions_student_id'), ['student_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('permissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_permissions_student_id'))
        batch_op.drop_index(batch_op.f('ix_permissions_course_id'))
    op.drop_table('permissions')
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_courses_instructor_id_users'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_courses_instructor_id'))
        batch_op.drop_column('instructor_id')
    users = sa.table('users', sa.column('role', sa.String))
    op.execute(users.update().where(users.c.role == 'instructor').values(role='student'))
    with op.batch_alter_table('users', schema=None) as batch_op:
        _role_check(batch_op, ROLES_BEFORE)
