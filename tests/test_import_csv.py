"""`flask import-csv` and the imports API: good files, every kind of bad file, re-imports."""
from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
import sqlalchemy as sa

from enrollment import clock, services
from enrollment.cli.imports import import_csv
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.imports import KINDS, ImportRefused, apply_import, plan_import
from enrollment.models import (
    Action,
    Course,
    Department,
    Enrollment,
    EnrollmentEvent,
    Source,
    Status,
    Student,
    Term,
    User,
)
from tests.factories import NOW, PASSWORD, at

TERMS = """code,name,enrollment_opens,enrollment_closes,drop_deadline,classes_start,classes_end
2026FA,Fall 2026,2026-08-01T00:00,2026-08-31,2026-09-15,2026-09-01,2026-12-15
2027SP,Spring 2027,2027-01-01T00:00:00Z,2027-01-31,2027-02-15T23:59+00:00,,
"""
COURSES = """term,code,title,department,credits,capacity,waitlist_capacity,days,start_time,end_time,location,instructor,prerequisites
2026FA,CS101,Intro to Programming,CS,4,30,5,MWF,09:00,09:50,Turing 101,Dr. Ada,
2027SP,CS201,Data Structures,CS,4,2,1,TR,09:30,10:45,Turing 102,Dr. Bo,CS101
2027SP,CS301,Algorithms,cs,3,30,5,mwf,10:00,10:50,,,CS201 CS101
2027SP,HIST101,World History,HIST,3,40,10,,,,,,
"""
STUDENTS = """student_number,name,email,program,max_credits,password
S1,Ann One,ann@example.edu,Computer Science,18,
S2,Bob Two,Bob@Example.EDU,,,
S3,Cy Three,cy@example.edu,Mathematics,12,
"""
ENROLLMENTS = """term,code,student_number,status,grade
2026FA,CS101,S1,completed,a-
2027SP,CS201,S1,,
2027SP,CS201,S2,enrolled,
2027SP,CS201,S3,,
"""
FILES = {"terms": TERMS, "courses": COURSES, "students": STUDENTS, "enrollments": ENROLLMENTS}


@pytest.fixture
def run(import_file):
    return import_file


@pytest.fixture
def school(run):
    """The terms, courses and students of the files above, imported."""
    for kind in ("terms", "courses", "students"):
        result = run(kind, FILES[kind])
        assert result.exit_code == 0, result.output


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def course(term_code, code) -> Course:
    return db.session.scalar(sa.select(Course).join(Term).where(Term.code == term_code,
                                                                Course.code == code))


def student(number) -> Student:
    return db.session.scalar(sa.select(Student).where(Student.student_number == number))


def snapshot():
    return {m.__name__: count(m) for m in (Term, Course, Department, User, Student, Enrollment,
                                           EnrollmentEvent)}


# Good files ---------------------------------------------------------------------------------

def test_terms_import(run):
    result = run("terms", "\ufeff" + TERMS)  # Excel's UTF-8 BOM is fine
    assert result.exit_code == 0, result.output
    assert "2 created, 0 updated, 0 unchanged" in result.stdout
    spring = db.session.scalar(sa.select(Term).where(Term.code == "2027SP"))
    assert spring.enrollment_opens == datetime(2027, 1, 1, tzinfo=UTC)
    # A closing date without a time includes the whole day.
    assert spring.enrollment_closes == datetime(2027, 1, 31, 23, 59, tzinfo=UTC)
    # Missing class dates: 15 weeks from the first day after enrollment closes.
    assert (spring.classes_start, spring.classes_end) == (date(2027, 2, 1), date(2027, 5, 16))


def test_courses_import_creates_departments_and_links_prerequisites(run):
    assert run("terms", TERMS).exit_code == 0
    result = run("courses", COURSES)
    assert result.exit_code == 0, result.output
    assert "4 created" in result.stdout
    assert {d.code for d in db.session.scalars(sa.select(Department))} == {"CS", "HIST"}
    algorithms = course("2027SP", "CS301")
    assert algorithms.days == "MWF" and algorithms.start_time == time(10, 0)
    assert algorithms.department.code == "CS"
    assert [(p.term.code, p.code) for p in algorithms.prerequisites] == [
        ("2026FA", "CS101"), ("2027SP", "CS201")]  # an earlier term's CS101
    history = course("2027SP", "HIST101")
    assert history.days == "" and history.start_time is None and history.prerequisites == []


def test_students_import(run):
    result = run("students", STUDENTS + "S4,Di Four,di@example.edu,,,long-enough-42\n")
    assert result.exit_code == 0, result.output
    bob = student("S2")
    assert bob.email == "bob@example.edu" and bob.max_credits == 18
    assert bob.user.password_hash is None  # no password given: no login yet
    assert student("S3").max_credits == 12 and student("S3").program == "Mathematics"
    assert student("S4").user.check_password("long-enough-42")


def test_enrollments_import_respects_capacity_and_writes_audit(school, run):
    result = run("enrollments", ENROLLMENTS)
    assert result.exit_code == 0, result.output
    assert "4 created" in result.stdout
    done = db.session.get(Enrollment, (student("S1").id, course("2026FA", "CS101").id))
    assert done.status == Status.COMPLETED and done.grade == "A-"
    cs201 = course("2027SP", "CS201")
    statuses = {link.student.student_number: link.status for link in cs201.enrollments}
    # Capacity 2: the third row joins the waitlist; the window and CS101 are not checked.
    assert statuses == {"S1": Status.ENROLLED, "S2": Status.ENROLLED, "S3": Status.WAITLISTED}
    assert {link.source for link in cs201.enrollments} == {Source.IMPORT}
    actions = sorted(e.action for e in db.session.scalars(sa.select(EnrollmentEvent)))
    assert actions == sorted([Action.COMPLETED, Action.IMPORTED, Action.IMPORTED,
                              Action.IMPORTED])


def test_dry_run_writes_nothing(school, run):
    before = snapshot()
    result = run("enrollments", ENROLLMENTS, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "line 2: create: record 2026FA CS101 S1 completed with A-" in result.stdout
    assert "would create 4, update 0 and leave 0 unchanged" in result.stdout
    assert snapshot() == before
    result = run("terms", TERMS.replace("Fall 2026", "Autumn 2026"), "--dry-run")
    assert "line 2: update: term 2026FA: name" in result.stdout
    assert db.session.scalar(sa.select(Term.name).where(Term.code == "2026FA")) == "Fall 2026"


def test_reimport_updates_instead_of_duplicating(school, run):
    before = snapshot()
    for kind in ("terms", "courses", "students"):
        result = run(kind, FILES[kind])
        assert result.exit_code == 0 and "0 created, 0 updated" in result.stdout, result.output
    assert snapshot() == before
    changed = COURSES.replace("Algorithms,cs,3,30", "Algorithms and Complexity,cs,4,30")
    assert "1 updated" in run("courses", changed).stdout
    assert course("2027SP", "CS301").title == "Algorithms and Complexity"
    # A student matched by email gets the new number; by number, the new email.
    students = ("student_number,name,email\n"
                "S9,Ann One,ANN@example.edu\nS2,Bob Two,bob2@example.edu\n")
    assert "2 updated" in run("students", students).stdout
    assert student("S9").email == "ann@example.edu" and student("S1") is None
    assert student("S2").email == "bob2@example.edu"
    assert snapshot() == before
    result = run("enrollments", ENROLLMENTS.replace("S1,", "S9,"))
    assert result.exit_code == 0, result.output
    again = run("enrollments", ENROLLMENTS.replace("S1,", "S9,"))
    assert "0 created, 0 updated, 4 unchanged" in again.stdout


def test_capacity_raise_promotes_from_the_waitlist(school, run):
    assert run("enrollments", ENROLLMENTS).exit_code == 0
    result = run("courses", COURSES.replace("Data Structures,CS,4,2,1", "Data Structures,CS,4,3,1"))
    assert result.exit_code == 0, result.output
    cs201 = course("2027SP", "CS201")
    assert cs201.capacity == 3
    assert {link.status for link in cs201.enrollments} == {Status.ENROLLED}


def test_refused_enrollment_rolls_back_the_whole_file(school, run):
    rows = ENROLLMENTS + "2027SP,CS301,S2,,\n"
    extra = run("students", "student_number,name,email\nS4,Di Four,di@example.edu\n")
    assert extra.exit_code == 0
    before = snapshot()
    result = run("enrollments", rows + "2027SP,CS201,S4,,\n")  # seats 2 + waitlist 1: full
    assert result.exit_code == 1
    assert "line 7: student_number: S4 in CS201: CS201 is full" in result.stderr
    assert "nothing was imported" in result.stderr
    assert snapshot() == before


def test_override_capacity_needs_a_reason(school, run):
    rows = ENROLLMENTS + "2027SP,CS201,S4,,\n"
    assert run("students", "student_number,name,email\nS4,Di Four,di@example.edu\n").exit_code == 0
    result = run("enrollments", rows, "--override", "capacity")
    assert result.exit_code == 2 and "--reason is required" in result.output
    result = run("enrollments", rows, "--override", "capacity", "--reason", "Room swap")
    assert result.exit_code == 0, result.output
    cs201 = course("2027SP", "CS201")
    assert sum(1 for e in cs201.enrollments if e.status == Status.ENROLLED) == 4


# Bad files ----------------------------------------------------------------------------------

def bad(run, kind, content, *expected):
    before = snapshot()
    result = run(kind, content)
    assert result.exit_code == 1, result.output
    for line in expected:
        assert line in result.stderr, result.stderr
    assert "nothing was imported" in result.stderr
    assert snapshot() == before
    return result


def test_missing_and_unknown_columns(run):
    bad(run, "courses", "term,code,title,department,credits,colour\n2027SP,X1,T,CS,3,red\n",
        "line 1: capacity: required column is missing",
        "line 1: colour: unknown column")


def test_empty_file_and_header_only(run):
    bad(run, "terms", "", "line 1: header: the file is empty")
    bad(run, "terms", "\ufeff\n  \n", "line 1: header: the file is empty")
    bad(run, "students", "student_number,name,email\n", "line 1: header: the file has no data rows")


def test_non_utf8_bytes(run):
    content = STUDENTS.encode() + "S4,Zo\u00eb,zoe@example.edu,,,\n".encode("latin-1")
    bad(run, "students", content, "line 5: file: not UTF-8 text (byte 0xeb")


def test_nul_character(run):
    bad(run, "students", STUDENTS.replace("Bob Two", "Bob\x00Two"),
        "line 3: name: contains a NUL character")


def test_bad_times_and_dates(run):
    content = TERMS.replace("2026-08-31", "31/08/2026").replace("2027-01-31", "2026-12-01")
    bad(run, "terms", content, "line 2: enrollment_closes: '31/08/2026' is not an ISO 8601 time",
        "line 3: enrollment_closes: is before enrollment_opens")


def test_bad_course_rows_each_reported(run):
    assert run("terms", TERMS).exit_code == 0
    header = COURSES.splitlines()[0]
    rows = [
        "2027SP,A1,Bad time,CS,3,10,0,MWF,9am,10:00,,,",             # line 2
        "2027SP,A2,End first,CS,3,10,0,TR,10:00,09:00,,,",           # line 3
        "2027SP,A3,Bad days,CS,3,10,0,MXF,09:00,10:00,,,",           # line 4
        "2099XX,A4,Unknown term,CS,3,10,0,,,,,,",                    # line 5
        "2027SP,A5,No credits,CS,0,-1,0,,,,,,",                      # line 6
        "2027SP,A6,Unknown prereq,CS,3,10,0,,,,,,ZZ999",             # line 7
        "2027SP,A2,Duplicate,CS,3,10,0,,,,,,",                       # line 8
        "2027SP,A7,Half a time,CS,3,10,0,MWF,09:00,,,,",             # line 9
        "2026FA,A8,Later prereq,CS,3,10,0,,,,,,A1",                  # line 10: A1 is in 2027SP
        "2027SP,A1,Fine,CS,3,10,0,,,,,,",                            # line 11 (dup of line 2)
    ]
    bad(run, "courses", "\n".join([header, *rows]) + "\n",
        "line 2: start_time: '9am' is not a time of day as HH:MM",
        "line 3: end_time: 09:00 is not after start_time 10:00",
        "line 4: days: 'MXF' is not a set of days from MTWRFSU",
        "line 5: term: unknown term 2099XX",
        "line 6: credits: must be between 1 and 30, not 0",  # the same bound as the admin
        "line 6: capacity: must be between 0 and 10000, not -1",
        "line 7: prerequisites: unknown course ZZ999 in 2027SP or an earlier term",
        "line 8: code: course A2 of term 2027SP already appears on line 3",
        "line 9: end_time: start_time and end_time go together",
        "line 10: prerequisites: unknown course A1 in 2026FA or an earlier term",
        "line 11: code: course A1 of term 2027SP already appears on line 2")


def test_prerequisite_cycle_refused(run):
    assert run("terms", TERMS).exit_code == 0
    header = COURSES.splitlines()[0]
    content = f"{header}\n2027SP,B1,One,CS,3,10,0,,,,,,B2\n2027SP,B2,Two,CS,3,10,0,,,,,,B1\n"
    bad(run, "courses", content, "line 2: prerequisites: would make a prerequisite cycle")


def test_bad_student_rows(run):
    assert run("students", STUDENTS).exit_code == 0
    content = ("student_number,name,email,program,max_credits,password\n"
               "S7,No Email,not-an-email,,,\n"
               "S8,Dup Email,cy@example.edu,,,\n"        # cy is S3: S3 gets number S8
               "S9,Weak,s9@example.edu,,,short\n"
               "S9,Again,s9b@example.edu,,abc,\n"
               ",No Number,nn@example.edu,,,\n")
    bad(run, "students", content,
        "line 2: email: 'not-an-email' is not an email address",
        "line 4: password: Password must be at least 10 characters long.",
        "line 5: student_number: S9 already appears on line 4",
        "line 5: max_credits: 'abc' is not a whole number",
        "line 6: student_number: is required")


def test_student_number_and_email_of_two_accounts(run):
    assert run("students", STUDENTS).exit_code == 0
    bad(run, "students", "student_number,name,email\nS1,Ann One,cy@example.edu\n",
        "line 2: email: cy@example.edu belongs to another student (S3), not to S1")


def test_bad_enrollment_rows(school, run):
    content = ("term,code,student_number,status,grade\n"
               "2027SP,CS999,S1,,\n"
               "2027SP,CS201,S404,,\n"
               "2026FA,CS101,S1,completed,\n"
               "2026FA,CS101,S2,completed,Q\n"
               "2027SP,CS201,S2,waitlisted,\n"
               "2027SP,CS201,S3,enrolled,B\n"
               "2027SP,CS301,S3,,\n"
               "2027SP,CS301,S3,,\n")
    bad(run, "enrollments", content,
        "line 2: code: unknown course CS999 in term 2027SP",
        "line 3: student_number: unknown student S404",
        "line 4: grade: is required for a completed course",
        "line 5: grade: 'Q' is not a grade",
        "line 6: status: waitlisted cannot be imported",
        "line 7: grade: only completed courses carry a grade",
        "line 9: student_number: S3 in 2027SP CS301 already appears on line 8")


def test_wrong_number_of_cells_and_broken_quotes(run):
    bad(run, "students", 'student_number,name,email\nS1,Ann\nS2,"Bob "x",b@example.edu\n',
        "line 2: row: has 2 cells; the header has 3", "line 3: row: not valid CSV")


# The API the admin upload page uses ---------------------------------------------------------

def test_api_plan_then_apply(app, make_staff):
    assert KINDS == ("terms", "courses", "students", "enrollments", "appointments", "holds",
                     "reservations")
    plan = plan_import("terms", TERMS, now=NOW)
    assert plan.ok and plan.kind == "terms"
    assert plan.counts == {"create": 2, "update": 0, "unchanged": 0}
    assert [(r.line, r.action, r.key) for r in plan.rows] == [(2, "create", "2026FA"),
                                                              (3, "create", "2027SP")]
    with write_transaction(db.session):
        result = apply_import(plan, actor=make_staff(), now=NOW)
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    bad_plan = plan_import("terms", "code,name\nX,Y\n", now=NOW)
    assert not bad_plan.ok and bad_plan.rows == []
    assert str(bad_plan.errors[0]) == "line 1: enrollment_opens: required column is missing"
    with pytest.raises(ImportRefused):
        apply_import(bad_plan, actor=None, now=NOW)


def test_apply_refusal_raises_and_the_transaction_rolls_back(school, make_student):
    make_student(student_number="S4")
    db.session.commit()
    before = snapshot()
    plan = plan_import("enrollments", ENROLLMENTS + "2027SP,CS201,S4,,\n", now=NOW)
    assert plan.ok
    with pytest.raises(ImportRefused) as caught, write_transaction(db.session):
        apply_import(plan, actor=None, now=NOW)
    assert [(e.line, e.column) for e in caught.value.errors] == [(6, "student_number")]
    assert snapshot() == before


def test_planning_queries_do_not_grow_with_rows(school, count_queries):
    def rows(n):
        return "student_number,name,email\n" + "".join(
            f"N{i},Name {i},n{i}@example.edu\n" for i in range(n))

    with count_queries() as few:
        assert plan_import("students", rows(3), now=NOW).ok
    with count_queries() as many:
        assert plan_import("students", rows(60), now=NOW).ok
    assert many.count == few.count
    enrol = "term,code,student_number\n" + "".join(
        f"2027SP,{c},S{s}\n" for c in ("CS201", "CS301", "HIST101") for s in (1, 2, 3))
    with count_queries() as q:
        assert plan_import("enrollments", enrol, now=NOW).ok
    assert q.count <= 6  # courses, terms, students, users, links, term codes


def test_existing_password_is_not_an_update(run, make_student):
    make_student(student_number="P1", email="p1@example.edu", name="Pat")
    db.session.commit()
    same = f"student_number,name,email,password\nP1,Pat,p1@example.edu,{PASSWORD}\n"
    assert "1 unchanged" in run("students", same, "--dry-run").stdout
    other = same.replace(PASSWORD, "another-pass-99")
    assert "update: student P1: password" in run("students", other, "--dry-run").stdout
    assert run("students", other).exit_code == 0
    assert student("P1").user.check_password("another-pass-99")


def test_unknown_kind_and_missing_file(runner, tmp_path):
    result = runner.invoke(import_csv, ["grades", str(tmp_path / "x.csv")])
    assert result.exit_code == 2
    result = runner.invoke(import_csv, ["terms", str(tmp_path / "missing.csv")])
    assert result.exit_code == 2 and "missing.csv" in result.output


def test_services_complete_records_time(school, run):
    assert run("enrollments", ENROLLMENTS).exit_code == 0
    done = db.session.get(Enrollment, (student("S1").id, course("2026FA", "CS101").id))
    assert done.status_changed_at == NOW
    assert services.seat_count(course("2027SP", "CS201").id, now=clock.now()).waitlisted == 1
    assert at("09:00") == course("2026FA", "CS101").start_time
