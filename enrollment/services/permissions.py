"""Instructor permissions: granting, revoking and using the permission to enroll past rules.

A permission lifts named rules for one student in one course, for one use: the student's
next successful enroll in that course (`enroll.enroll`, in its transaction). The rules engine
reads an unused permission with the other facts (`facts.load_facts`), so the course
page's "why can't I enroll" and the enroll itself decide alike. Grants and revocations lock
the course, so that they cannot cross an enroll that is using the permission.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update

from ..extensions import db
from ..fields import strip_text
from ..models import Course, Permission, Student, User
from .eligibility import ENROLL_OVERRIDES
from .errors import EnrollmentRefused, Override
from .facts import GrantedPermission
from .locking import lock_course

# The rules an instructor may lift, in the order forms offer them. A name without a rule in
# the registry yet is not offered (see `UNAVAILABLE`).
PERMITTABLE = ("capacity", "prerequisites", "corequisites", "repeat")
PERMISSION_OVERRIDES = tuple(o for name in PERMITTABLE for o in ENROLL_OVERRIDES
                             if o.value == name)
UNAVAILABLE = tuple(name for name in PERMITTABLE
                    if name not in {o.value for o in PERMISSION_OVERRIDES})
REASON_REQUIRED = "A reason is required to grant a permission."
REVOKE_REASON_MISSING = "There is no such permission for this course."


def permission_rules(names: Iterable[str]) -> frozenset[Override]:
    """The overrides named (form values, any case and surrounding space), or a refusal that
    names what is not a rule an instructor may lift."""
    chosen, unknown = set(), []
    offered = {o.value: o for o in PERMISSION_OVERRIDES}
    for name in names:
        key = (name or "").strip().lower()
        if key in offered:
            chosen.add(offered[key])
        elif key:
            unknown.append(name.strip()[:40])
    if unknown:
        not_yet = [n for n in unknown if n.lower() in UNAVAILABLE]
        if not_yet:
            return _refuse("rule_unavailable",
                           f"{', '.join(not_yet)} cannot be lifted: there is no such rule "
                           "yet. Choose among " + ", ".join(offered) + ".")
        return _refuse("unknown_rule", f"Unknown rule{'s' if len(unknown) > 1 else ''} "
                                       f"{', '.join(repr(n) for n in unknown)}: choose among "
                                       f"{', '.join(offered)}.")
    if not chosen:
        return _refuse("rules_required", "Choose at least one rule to lift.")
    return frozenset(chosen)


def _refuse(code: str, message: str):
    raise EnrollmentRefused.single(code, message)


def active_permission(student: Student, course: Course) -> Permission | None:
    """The student's unused, unrevoked permission for the course, if any."""
    return db.session.scalar(select(Permission).where(
        Permission.student_id == student.id, Permission.course_id == course.id,
        Permission.used_at.is_(None), Permission.revoked_at.is_(None)))


def grant_permission(course: Course, student: Student, rules: Iterable[str], *, reason: str,
                     actor: User | None, now: datetime) -> Permission:
    """Let the student enroll in the course past `rules` (override names), once.

    Refused (`EnrollmentRefused`, nothing written) without a reason, for a rule that is not
    one an instructor may lift, and while the student holds an unused permission for the
    course (revoke it first). Locks the course; must run inside `write_transaction`; flushes.
    """
    lifted = permission_rules(rules)
    reason = strip_text(reason or "")
    if not reason:
        _refuse("reason_required", REASON_REQUIRED)
    course = lock_course(course)
    if active_permission(student, course) is not None:
        _refuse("permission_exists",
                f"{student.name or student.student_number} already has an unused permission "
                f"for {course.code}: revoke it first to grant another.")
    permission = Permission(course_id=course.id, student_id=student.id,
                            rules=" ".join(sorted(lifted)), reason=reason,
                            granted_by_id=actor.id if actor is not None else None,
                            granted_at=now)
    db.session.add(permission)
    db.session.flush()
    return permission


def revoke_permission(permission: Permission, *, actor: User | None,
                      now: datetime) -> Permission:
    """Revoke a permission that has not been used. Locks its course (an enroll that uses the
    permission holds the same lock); must run inside `write_transaction`; flushes."""
    lock_course(permission.course_id)
    db.session.refresh(permission)
    if permission.used_at is not None:
        _refuse("permission_used", "This permission was used already; it cannot be revoked "
                                   "(drop the student from the course instead).")
    if permission.revoked_at is not None:
        _refuse("permission_revoked", "This permission is revoked already.")
    permission.revoked_at = now
    permission.revoked_by_id = actor.id if actor is not None else None
    db.session.flush()
    return permission


def use_permission(permission: GrantedPermission, *, now: datetime) -> None:
    """Mark the permission used (one statement), in the enroll's transaction and under its
    course lock. A permission revoked or used meanwhile refuses the enroll."""
    result = db.session.execute(
        update(Permission)
        .where(Permission.id == permission.id, Permission.used_at.is_(None),
               Permission.revoked_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        _refuse("permission_gone", "Your permission for this course was revoked or used "
                                   "meanwhile; try again.")
