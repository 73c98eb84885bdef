"""Instructor permissions: granted with a reason, used once by the student's own enroll (past a
full course or a missing prerequisite), named in the audit, revocable until used; refused
inputs change nothing."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from enrollment import services
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import EnrollmentEvent, Permission, Role, Source, Status
from enrollment.services.permissions import PERMISSION_OVERRIDES, UNAVAILABLE
from tests.factories import NOW, make_user
from tests.web_helpers import enroll, flashes


@pytest.fixture
def instructor(app):
    return make_user(role=Role.INSTRUCTOR, name="Dr. Ines Instructor")


@pytest.fixture
def full(make_course, make_student, instructor):
    """A course taught by `instructor` with its one seat taken and no waitlist."""
    course = make_course(code="FULL1", capacity=1, waitlist_capacity=0,
                         instructor_id=instructor.id)
    enroll(make_student(), course)
    db.session.commit()
    return course


def grant(course, student, rules, *, reason="Needs it to graduate", actor=None):
    with write_transaction(db.session):
        return services.grant_permission(course, student, rules, reason=reason, actor=actor,
                                         now=NOW)


def revoke(permission, actor=None):
    with write_transaction(db.session):
        return services.revoke_permission(permission, actor=actor, now=NOW)


def self_enroll(student, course):
    with write_transaction(db.session):
        return services.enroll(student, course, actor=student.user, now=NOW)


def permissions() -> list[Permission]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Permission).order_by(Permission.id)))


def test_the_rules_offered_are_those_with_a_rule_in_the_registry():
    assert [o.value for o in PERMISSION_OVERRIDES] == ["capacity", "prerequisites",
                                                       "corequisites", "repeat"]
    assert UNAVAILABLE == ()  # every rule an instructor may lift is in the registry


def test_a_capacity_permission_enrolls_past_a_full_course_once(full, make_student,
                                                                 instructor):
    student = make_student()
    db.session.commit()
    with pytest.raises(services.EnrollmentRefused) as refused:
        self_enroll(student, full)
    assert refused.value.code == "course_full"

    permission = grant(full, student, ["capacity"], actor=instructor)
    assert (permission.rules, permission.state) == ("capacity", "active")
    link = self_enroll(student, full)
    assert link.status == Status.ENROLLED  # past the seat limit: 2 of 1 seats

    (used,) = permissions()
    assert used.state == "used" and used.used_at == NOW
    event = db.session.scalars(sa.select(EnrollmentEvent).where(
        EnrollmentEvent.student_id == student.id)).one()
    assert event.actor_id == student.user.id
    assert "Permission from Dr. Ines Instructor: Needs it to graduate" in event.reason
    assert "Overrode: capacity." in event.reason

    # Used up: after a drop the course is full again for this student.
    with write_transaction(db.session):
        services.drop(student, full, actor=student.user, now=NOW)
    with pytest.raises(services.EnrollmentRefused) as again:
        self_enroll(student, full)
    assert again.value.code == "course_full"


def test_a_capacity_permission_enrolls_rather_than_waitlists(make_course, make_student):
    course = make_course(capacity=1, waitlist_capacity=5)
    enroll(make_student(), course)
    student, waiting = make_student(), make_student()
    assert enroll(waiting, course) == Status.WAITLISTED
    grant(course, student, ["capacity"])
    assert self_enroll(student, course).status == Status.ENROLLED


def test_a_permission_not_needed_is_used_and_the_audit_says_no_override(make_course,
                                                                        make_student):
    course = make_course(capacity=5)
    student = make_student()
    grant(course, student, ["capacity", "prerequisites"], reason="Just in case")
    assert self_enroll(student, course).status == Status.ENROLLED
    assert permissions()[0].state == "used"
    event = db.session.scalars(sa.select(EnrollmentEvent).where(
        EnrollmentEvent.student_id == student.id)).one()
    assert event.reason == "Enrolled. Permission from a removed account: Just in case"


def test_a_prerequisite_permission_lifts_only_that_rule(make_course, make_student, instructor):
    required = make_course(code="REQ1")
    course = make_course(code="ADV1", instructor_id=instructor.id, term=required.term)
    course.prerequisites.append(required)
    student = make_student()
    db.session.commit()
    blockers = services.enrollment_blockers(student, course, now=NOW)
    assert [r.code for r in blockers] == ["missing_prerequisite"]

    grant(course, student, ["prerequisites"], actor=instructor)
    # One code path: the course page's "why can't I enroll" already knows.
    assert services.enrollment_blockers(student, course, now=NOW) == []
    assert permissions()[0].state == "active"  # reading uses nothing up
    assert self_enroll(student, course).status == Status.ENROLLED
    assert permissions()[0].state == "used"


def test_a_permission_lifts_no_other_rule(full, make_student, instructor):
    student = make_student()
    grant(full, student, ["prerequisites"], actor=instructor)
    with pytest.raises(services.EnrollmentRefused) as refused:
        self_enroll(student, full)
    assert refused.value.code == "course_full"
    assert permissions()[0].state == "active"  # a refused enroll does not use it


def test_staff_enrolls_do_not_use_the_students_permission(full, make_student, make_staff):
    student, staff = make_student(), make_staff()
    grant(full, student, ["capacity"])
    with write_transaction(db.session):
        services.enroll(student, full, actor=staff, now=NOW, source=Source.STAFF,
                        override=frozenset({services.Override.CAPACITY}), reason="Registrar")
    assert permissions()[0].state == "active"


def test_revoked_before_use_lifts_nothing(full, make_student, instructor):
    student = make_student()
    permission = grant(full, student, ["capacity"], actor=instructor)
    revoke(permission, actor=instructor)
    (revoked,) = permissions()
    assert revoked.state == "revoked" and revoked.revoked_by_id == instructor.id
    with pytest.raises(services.EnrollmentRefused) as refused:
        self_enroll(student, full)
    assert refused.value.code == "course_full"
    with pytest.raises(services.EnrollmentRefused) as twice:
        revoke(revoked)
    assert twice.value.code == "permission_revoked"


def test_a_used_permission_cannot_be_revoked(full, make_student):
    student = make_student()
    permission = grant(full, student, ["capacity"])
    self_enroll(student, full)
    with pytest.raises(services.EnrollmentRefused) as refused:
        revoke(permission)
    assert refused.value.code == "permission_used"
    assert permissions()[0].state == "used"


@pytest.mark.parametrize(("rules", "reason", "code"), [
    ([], "Because", "rules_required"),
    (["teleport"], "Because", "unknown_rule"),
    (["capacity", "window"], "Because", "unknown_rule"),  # staff's override, not a permission
    (["capacity"], "   ", "reason_required"),
    (["capacity"], "\x00\x01", "reason_required"),
])
def test_refused_grants_store_nothing(full, make_student, rules, reason, code):
    student = make_student()
    db.session.commit()
    with pytest.raises(services.EnrollmentRefused) as refused:
        grant(full, student, rules, reason=reason)
    assert refused.value.code == code
    assert permissions() == []


def test_one_unused_permission_at_a_time(full, make_student):
    student = make_student()
    grant(full, student, ["capacity"])
    with pytest.raises(services.EnrollmentRefused) as refused:
        grant(full, student, ["prerequisites"])
    assert refused.value.code == "permission_exists"
    assert len(permissions()) == 1


def test_a_permission_is_for_its_course_only(full, make_course, make_student):
    other = make_course(capacity=1, waitlist_capacity=0, term=full.term)
    enroll(make_student(), other)
    student = make_student()
    grant(full, student, ["capacity"])
    with pytest.raises(services.EnrollmentRefused):
        self_enroll(student, other)
    assert permissions()[0].state == "active"


def test_the_web_enroll_uses_the_permission_in_one_more_statement(
        client, login, full, make_student, count_queries):
    """The permission loads in the facts' UNION: using it adds only its UPDATE."""
    student = make_student()
    grant(full, student, ["capacity"])
    db.session.commit()
    course_id, user = full.id, student.user
    login(user)
    db.session.remove()
    with count_queries() as q:
        response = client.post(f"/courses/{course_id}/enroll")
    assert response.status_code == 303
    assert "You are enrolled" in flashes(client.get(response.headers["Location"]))[0]
    assert q.count <= 7, q.statements
    assert sum(s.lstrip().upper().startswith("UPDATE") for s in q.statements) == 1
    assert permissions()[0].state == "used"


def test_the_course_page_lets_a_permitted_student_enroll(client, login, full, make_student):
    student = make_student()
    db.session.commit()
    login(student.user)
    page = client.get(f"/courses/{full.id}").get_data(as_text=True)
    assert 'data-code="course_full"' in page
    grant(full, student, ["capacity"])
    page = client.get(f"/courses/{full.id}").get_data(as_text=True)
    assert 'data-code="course_full"' not in page
    assert f'action="/courses/{full.id}/enroll"' in page


def test_a_deleted_granter_keeps_the_permission_and_the_audit_readable(full, make_student,
                                                                      instructor):
    student = make_student()
    grant(full, student, ["capacity"], actor=instructor)
    db.session.delete(instructor)  # SET NULL: the permission stays, without its granter
    db.session.commit()
    self_enroll(student, full)
    event = db.session.scalars(sa.select(EnrollmentEvent).where(
        EnrollmentEvent.student_id == student.id)).one()
    assert "Permission from a removed account: Needs it to graduate" in event.reason
    (used,) = permissions()
    assert used.granted_by_id is None and used.used_at == NOW


def test_the_course_page_says_the_permission_applies(client, login, make_course, make_student):
    """A full course with a capacity permission offers "Enroll", not "Join the waitlist"
    (the click enrolls), and says whose permission it uses."""
    course = make_course(capacity=1, waitlist_capacity=5)
    enroll(make_student(), course)
    student = make_student()
    teacher = make_user(role=Role.INSTRUCTOR, name="Ines Instructor")
    db.session.commit()
    login(student.user)
    before = client.get(f"/courses/{course.id}").text
    assert "Join the waitlist" in before and "permission-note" not in before
    grant(course, student, ["capacity"], actor=teacher)
    db.session.commit()
    after = client.get(f"/courses/{course.id}").text
    assert "Join the waitlist" not in after and ">Enroll</button>" in after
    assert "permission from Ines Instructor to enroll past: capacity" in after
