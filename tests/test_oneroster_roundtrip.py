"""A OneRoster bundle of a demo school, imported into an empty database, gives the same terms,
courses, students, instructors and rosters (1.1 and 1.2), with the same sourcedIds; importing
it again changes nothing; a delta of the same school then finds what the bundle made."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from enrollment import services
from enrollment.cli.oneroster_csv import export_command, import_command
from enrollment.cli.seed import seed_demo
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import Course, Enrollment, EnrollmentEvent, Status, Student, Term, User
from tests import factories
from tests.web_helpers import enroll

LINKED = (Status.ENROLLED, Status.COMPLETED)


def snapshot() -> dict:
    db.session.expire_all()
    terms = {t.code: (t.sourced_id, t.name, t.enrollment_opens, t.enrollment_closes,
                      t.drop_deadline, t.classes_start, t.classes_end)
             for t in db.session.scalars(sa.select(Term))}
    courses = {}
    for c in db.session.scalars(sa.select(Course).options(
            selectinload(Course.term), selectinload(Course.department),
            selectinload(Course.instructor_user),
            selectinload(Course.prerequisites).selectinload(Course.term))):
        teacher = c.instructor_user
        courses[(c.term.code, c.code)] = (
            c.sourced_id, c.title, c.department.code, c.credits, c.capacity,
            c.waitlist_capacity, c.days, c.start_time, c.end_time, c.location, c.instructor,
            c.repeatable, sorted((p.term.code, p.code) for p in c.prerequisites),
            (teacher.email, teacher.sourced_id) if teacher else None)
    students = {s.student_number: (s.user.sourced_id, s.user.name, s.user.email, s.program,
                                   s.max_credits)
                for s in db.session.scalars(sa.select(Student).options(
                    selectinload(Student.user)))}
    rosters: dict = {}
    for link in db.session.scalars(sa.select(Enrollment).where(Enrollment.status.in_(LINKED))
                                   .options(selectinload(Enrollment.course)
                                            .selectinload(Course.term),
                                            selectinload(Enrollment.student))):
        key = (link.course.term.code, link.course.code)
        rosters.setdefault(key, set()).add((link.student.student_number, link.status.value,
                                            link.grade))
    return {"terms": terms, "courses": courses, "students": students, "rosters": rosters}


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_export_then_import_into_an_empty_database(make_app, tmp_path, version):
    app = make_app()
    bundle = tmp_path / "bundle.zip"
    with app.app_context():
        runner = app.test_cli_runner()
        result = runner.invoke(seed_demo, ["--students", "80", "--courses", "30", "--seed", "5"])
        assert result.exit_code == 0, result.output
        before = snapshot()
        result = runner.invoke(export_command, ["-o", str(bundle), "--version", version])
        assert result.exit_code == 0, result.output
        db.session.remove()
    assert before["rosters"] and before["students"] and len(before["terms"]) == 2
    assert any(c[-1] for c in before["courses"].values())  # some courses have an instructor
    assert any(c[-2] for c in before["courses"].values())  # and some have prerequisites

    app = make_app()  # the same app, its tables emptied: an empty database
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Course)) == 0
        runner = app.test_cli_runner()
        result = runner.invoke(import_command, [str(bundle)])
        assert result.exit_code == 0, result.output
        after = snapshot()
        assert after["terms"] == before["terms"]
        assert after["courses"] == before["courses"]
        assert after["students"] == before["students"]
        assert after["rosters"] == before["rosters"]
        links = db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment))
        events = db.session.scalar(sa.select(sa.func.count()).select_from(EnrollmentEvent))
        assert events == links  # every link has its audit event
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
            User.password_hash.is_not(None))) == 0  # a bundle carries no passwords

        result = runner.invoke(import_command, [str(bundle)])
        assert result.exit_code == 0, result.output
        assert "created" not in result.output and "updated" not in result.output
        assert snapshot() == after
        db.session.remove()


def test_a_delta_from_the_same_school_finds_what_the_bulk_bundle_made(make_app, tmp_path):
    app = make_app()
    bulk, delta = tmp_path / "bulk.zip", tmp_path / "delta.zip"
    with app.app_context():
        runner = app.test_cli_runner()
        assert runner.invoke(seed_demo, ["--students", "40", "--courses", "10", "--seed",
                                         "3"]).exit_code == 0
        assert runner.invoke(export_command, ["-o", str(bulk)]).exit_code == 0
        since = min(datetime.now(UTC), factories.NOW) - timedelta(seconds=1)
        link = db.session.scalars(sa.select(Enrollment).where(
            Enrollment.status == Status.ENROLLED).order_by(Enrollment.course_id)).first()
        student, course = link.student, link.course
        with write_transaction(db.session):
            services.drop(student, course, actor=None, now=factories.NOW, by_staff=True,
                          override=frozenset({services.Override.DEADLINE}), reason="left")
        db.session.commit()
        newcomer = factories.make_student(student_number="N0000001", name="New Comer")
        db.session.commit()
        enroll(newcomer, course, staff=True)
        db.session.commit()
        result = runner.invoke(export_command, ["-o", str(delta), "--since", since.isoformat()])
        assert result.exit_code == 0, result.output
        expected = snapshot()
        db.session.remove()

    app = make_app()
    with app.app_context():
        runner = app.test_cli_runner()
        assert runner.invoke(import_command, [str(bulk)]).exit_code == 0
        result = runner.invoke(import_command, [str(delta)])
        assert result.exit_code == 0, result.output
        assert "removed" in result.output
        after = snapshot()
        assert after["students"] == expected["students"]
        assert after["rosters"] == expected["rosters"]
        db.session.remove()
