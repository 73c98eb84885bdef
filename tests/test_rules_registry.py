"""The rules as data: each refusal names the override that lifts it, and a reason goes with it."""
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from enrollment import services
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import Enrollment, Source, Status
from enrollment.services import EnrollmentRefused, Override
from enrollment.services.eligibility import RULES, evaluate
from enrollment.services.facts import Facts
from tests.factories import NOW


def test_every_overridable_rule_is_in_the_registry_once():
    overrides = [rule.override for rule in RULES if rule.override is not None]
    assert len(overrides) == len(set(overrides))
    # The drop deadline is the one override outside enrollment: `drop` refuses with it.
    assert set(overrides) | {Override.DEADLINE} == set(Override)
    assert all(member.label for member in Override)


def test_each_refusal_carries_its_override(make_course, make_student, make_term):
    term = make_term(enrollment_opens=NOW + timedelta(days=1),
                     enrollment_closes=NOW + timedelta(days=9))
    prereq = make_course(code="PRE1")
    busy = make_course(term=term, days="MWF", start_time=time(9), end_time=time(10))
    course = make_course(term=term, days="MWF", start_time=time(9), end_time=time(10),
                         credits=5, capacity=0, waitlist_capacity=0, prerequisites=[prereq])
    student = make_student(max_credits=6)
    with write_transaction(db.session):
        services.enroll(student, busy, actor=None, now=NOW,
                        source=Source.STAFF, override={Override.WINDOW}, reason="test")
    refusals = services.enrollment_blockers(student, course, now=NOW)
    assert {(r.code, r.override) for r in refusals} == {
        ("window_not_open", Override.WINDOW), ("time_conflict", Override.CONFLICT),
        ("missing_prerequisite", Override.PREREQUISITES),
        ("credit_limit", Override.CREDIT_LOAD), ("course_full", Override.CAPACITY)}
    refused = EnrollmentRefused(refusals)
    assert refused.overrides == {r.override for r in refusals}
    # Ticking exactly those overrides, with a reason, enrolls on the second try.
    with write_transaction(db.session):
        link = services.enroll(student, course, actor=None, now=NOW, source=Source.STAFF,
                               override=refused.overrides, reason="Dean's approval")
    assert link.status == Status.ENROLLED


def test_a_refusal_nobody_may_lift_has_no_override(make_course, make_student):
    course, student = make_course(), make_student()
    with write_transaction(db.session):
        services.enroll(student, course, actor=None, now=NOW)
    [again] = services.enrollment_blockers(student, course, now=NOW)
    assert again.code == "already_enrolled" and again.override is None
    assert EnrollmentRefused(again).overrides == frozenset()


def test_skipped_rules_are_not_checked(make_course, make_student):
    course, student = make_course(capacity=0, waitlist_capacity=0), make_student()
    facts = Facts(student, course, NOW)
    assert [r.code for r in evaluate(facts)] == ["course_full"]
    assert evaluate(facts, skip=frozenset({Override.CAPACITY})) == []


@pytest.mark.parametrize("call", ["enroll", "drop", "batch"])
def test_an_override_without_a_reason_is_refused_by_the_services(call, make_course,
                                                                make_student):
    course, student = make_course(), make_student()
    with pytest.raises(EnrollmentRefused) as refused, write_transaction(db.session):
        if call == "enroll":
            services.enroll(student, course, actor=None, now=NOW, source=Source.STAFF,
                            override={Override.CAPACITY}, reason="  ")
        elif call == "drop":
            services.drop(student, course, actor=None, now=NOW, by_staff=True,
                          override={Override.DEADLINE})
        else:
            services.enroll_many([(student, course)], actor=None, now=NOW,
                                 override={Override.CAPACITY})
    assert refused.value.code == "reason_required"
    assert refused.value.message == services.REASON_REQUIRED
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 0


def test_promote_needs_every_failing_rule_overridden(make_course, make_student):
    """Overriding the conflict alone does not let a credit-limit breach through."""
    other = make_course(days="MWF", start_time=time(9), end_time=time(10), credits=4)
    course = make_course(term=other.term, days="MWF", start_time=time(9), end_time=time(10),
                         credits=4, capacity=1, waitlist_capacity=5)
    first, student = make_student(), make_student(max_credits=6)
    with write_transaction(db.session):
        services.enroll(first, course, actor=None, now=NOW)
        services.enroll(student, course, actor=None, now=NOW)  # waitlisted
        services.enroll(student, other, actor=None, now=NOW, source=Source.STAFF,
                        override={Override.CREDIT_LOAD}, reason="setup")
        services.set_capacity(course, 2, actor=None, now=NOW)  # skipped: conflict and credits
    with pytest.raises(EnrollmentRefused) as refused, write_transaction(db.session):
        services.promote(student, course, actor=None, now=NOW, reason="asked",
                         override={Override.CONFLICT})
    assert [r.code for r in refused.value.reasons] == ["credit_limit"]
    with write_transaction(db.session):
        link = services.promote(student, course, actor=None, now=NOW, reason="asked",
                                override={Override.CONFLICT, Override.CREDIT_LOAD})
    assert link.status == Status.ENROLLED
    assert "Overrode: conflict, credit_load." in services.history_for_student(student)[-1].reason


def test_drop_deadline_refusal_names_its_override(make_course, make_student):
    course, student = make_course(), make_student()
    with write_transaction(db.session):
        services.enroll(student, course, actor=None, now=NOW)
    late = course.term.drop_deadline + timedelta(minutes=1)
    with pytest.raises(EnrollmentRefused) as refused, write_transaction(db.session):
        services.drop(student, course, actor=None, now=late)
    assert refused.value.reasons[0].override == Override.DEADLINE


def test_students_read_you_and_staff_read_the_students_name(make_course, make_student):
    from datetime import time as clock_time

    prereq = make_course(code="CS100")
    busy = make_course(days="MWF", start_time=clock_time(9), end_time=clock_time(10), credits=4)
    course = make_course(term=busy.term, code="CS201", prerequisites=[prereq], credits=4,
                         days="TR", start_time=clock_time(9), end_time=clock_time(10))
    student = make_student(name="Alan Turing", max_credits=6)
    with write_transaction(db.session):
        services.enroll(student, busy, actor=None, now=NOW)
    own = {r.code: r.message for r in services.enrollment_blockers(student, course, now=NOW)}
    assert own["missing_prerequisite"] == "You have not completed the prerequisite CS100."
    assert own["credit_limit"] == ("CS201 would bring your credits this term to 8, over your "
                                   "maximum of 6 (you have 4).")
    with pytest.raises(EnrollmentRefused) as staff, write_transaction(db.session):
        services.enroll(student, course, actor=None, now=NOW, source=Source.STAFF)
    words = {r.code: r.message for r in staff.value.reasons}
    assert words["missing_prerequisite"] == "Alan Turing has not completed the prerequisite CS100."
    assert words["credit_limit"] == ("CS201 would bring Alan Turing's credits this term to 8, "
                                     "over Alan Turing's maximum of 6 (Alan Turing has 4).")
    with write_transaction(db.session):
        [batch] = services.enroll_many([(student, busy)], actor=None, now=NOW)
    assert batch.reasons[0].message == f"Alan Turing is already enrolled in {busy.code}."
