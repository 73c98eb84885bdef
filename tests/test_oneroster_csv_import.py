"""`flask oneroster import`: hand-written 1.1 and 1.2 bundles, the tolerant reader, every kind
of problem (`FILE line N: column: reason`, nothing written) and --dry-run."""
from __future__ import annotations

import io
import zipfile

import pytest
import sqlalchemy as sa

from enrollment.cli.oneroster_csv import import_command
from enrollment.extensions import db
from enrollment.models import (
    Course,
    Department,
    Enrollment,
    EnrollmentEvent,
    Role,
    Source,
    Status,
    Student,
    Term,
    User,
)
from enrollment.oneroster.csv_people import PLACEHOLDER_DOMAIN

SCHOOL = "11111111-0000-0000-0000-000000000001"
DEPT = "11111111-0000-0000-0000-000000000002"
YEAR = "22222222-0000-0000-0000-000000000001"
TERM = "22222222-0000-0000-0000-000000000002"
TERM2 = "22222222-0000-0000-0000-000000000003"
COURSE = "33333333-0000-0000-0000-000000000001"
CLASS = "44444444-0000-0000-0000-000000000001"
CLASS2 = "44444444-0000-0000-0000-000000000002"
ANN, BOB, TEA, GUA = (f"55555555-0000-0000-0000-00000000000{n}" for n in range(1, 5))


def manifest(version="1.1", **modes) -> str:
    files = {"academicSessions": "bulk", "orgs": "bulk", "courses": "bulk", "classes": "bulk",
             "users": "bulk", "enrollments": "bulk"}
    if version == "1.2":
        files["roles"] = "bulk"
    files.update(modes)
    lines = ["propertyName,value", "manifest.version,1.0", f"oneroster.version,{version}"]
    lines += [f"file.{name},{mode}" for name, mode in files.items()]
    return "\n".join(lines) + "\n"


ORGS = f"""sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId
{SCHOOL},active,2027-01-01T00:00:00Z,Example High,school,EXH,
{DEPT},,,Computer Science,DEPARTMENT,CS,{SCHOOL}
"""
SESSIONS = f"""sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear
{YEAR},active,2027-01-01T00:00:00.000Z,2026-2027,schoolYear,2026-09-01,2027-08-31,,2027
{TERM},Active,2027-01-01T00:00:00Z,Spring 2027,Term,2027-02-01,2027-05-14,{YEAR},2027
"""
COURSES = f"""sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,subjectCodes
{COURSE},active,2027-01-01T00:00:00Z,{YEAR},Intro to Programming,CS101,,{DEPT},,
"""
CLASSES = f"""sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods
{CLASS},active,2027-01-01T00:00:00Z,Intro to Programming,,{COURSE},CS101-01,scheduled,Turing 101,{SCHOOL},"{TERM}",,,
{CLASS2},active,2027-01-01T00:00:00Z,World History,"09,10",no-such-course,hist101,SCHEDULED,,{SCHOOL},{TERM},,,
"""
USERS_11 = f"""sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password
{ANN},active,2027-01-01T00:00:00Z,true,{SCHOOL},student,ann,"{{studentNumber:S1}}",Ann,One,,S1,Ann@Example.edu,,,,,secret-not-used
{BOB},active,2027-01-01T00:00:00Z,true,{SCHOOL},Student,bob,"{{studentNumber:S2}}",Bob,Two,Q,,,,,,,
{TEA},active,2027-01-01T00:00:00Z,true,{SCHOOL},teacher,tea,,Tess,Teacher,,,tess@example.edu,,,,,
{GUA},active,2027-01-01T00:00:00Z,true,{SCHOOL},guardian,gua,,Gus,Guardian,,,gus@example.edu,,,,,
"""
USERS_12 = f"""sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,resourceSourcedIds,preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns
{ANN},active,2027-01-01T00:00:00Z,true,ann,"{{studentNumber:S1}}",Ann,One,,S1,ann@example.edu,,,,,,,,,,,{SCHOOL},
{BOB},active,2027-01-01T00:00:00Z,true,bob,"{{studentNumber:S2}}",Bob,Two,Q,,,,,,,,,,,,,{SCHOOL},
{TEA},active,2027-01-01T00:00:00Z,true,tea,,Tess,Teacher,,,tess@example.edu,,,,,,,,,,,{SCHOOL},
{GUA},active,2027-01-01T00:00:00Z,true,gua,,Gus,Guardian,,,gus@example.edu,,,,,,,,,,,{SCHOOL},
"""
ROLES_12 = f"""sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId
r1,active,2027-01-01T00:00:00Z,{ANN},primary,student,,,{SCHOOL},
r2,active,2027-01-01T00:00:00Z,{BOB},PRIMARY,STUDENT,,,{SCHOOL},
r3,active,2027-01-01T00:00:00Z,{TEA},secondary,aide,,,{SCHOOL},
r4,active,2027-01-01T00:00:00Z,{TEA},primary,teacher,,,{SCHOOL},
r5,active,2027-01-01T00:00:00Z,{GUA},primary,guardian,,,{SCHOOL},
"""
ENROLLMENTS = f"""sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate
e1,active,2027-01-01T00:00:00Z,{CLASS},{SCHOOL},{ANN},student,false,,
e2,,,{CLASS},{SCHOOL},{BOB},Student,false,,
e3,active,2027-01-01T00:00:00Z,{CLASS},{SCHOOL},{TEA},teacher,true,,
e4,active,2027-01-01T00:00:00Z,{CLASS2},{SCHOOL},{ANN},student,false,,
e5,active,2027-01-01T00:00:00Z,{CLASS2},{SCHOOL},{GUA},administrator,false,,
"""


def files_11(**changes) -> dict[str, str]:
    files = {"manifest.csv": manifest(), "orgs.csv": ORGS, "academicSessions.csv": SESSIONS,
             "courses.csv": COURSES, "classes.csv": CLASSES, "users.csv": USERS_11,
             "enrollments.csv": ENROLLMENTS}
    files.update(changes)
    return {name: text for name, text in files.items() if text is not None}


def files_12(**changes) -> dict[str, str]:
    files = files_11(**{"manifest.csv": manifest("1.2"), "users.csv": USERS_12,
                        "roles.csv": ROLES_12})
    files.update(changes)
    return {name: text for name, text in files.items() if text is not None}


def make_zip(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture
def run(runner, tmp_path):
    def _run(files, *args):
        path = tmp_path / "bundle.zip"
        path.write_bytes(files if isinstance(files, bytes) else make_zip(files))
        result = runner.invoke(import_command, [str(path), *args])
        assert "Traceback" not in result.output, result.output
        db.session.expire_all()
        return result
    return _run


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def nothing_written() -> None:
    for model in (Term, Course, Department, User, Enrollment, EnrollmentEvent):
        assert count(model) == 0, model


def problems(result) -> list[str]:
    return [line for line in result.output.splitlines() if " line " in line]


def check_school() -> None:
    term = db.session.scalar(sa.select(Term))
    assert (term.code, term.name, term.sourced_id) == ("SPRING2027", "Spring 2027", TERM)
    assert (str(term.classes_start), str(term.classes_end)) == ("2027-02-01", "2027-05-14")
    # No window in the bundle: it opens 60 days before classes and closes the day before.
    assert term.enrollment_opens.date().isoformat() == "2026-12-03"
    assert term.enrollment_closes.date().isoformat() == "2027-01-31"
    dept = db.session.scalar(sa.select(Department).where(Department.code == "CS"))
    assert (dept.name, dept.sourced_id) == ("Computer Science", DEPT)
    cs, hist = db.session.scalars(sa.select(Course).order_by(Course.code)).all()
    # courseCode wins over classCode; a class without a courses.csv row takes its classCode.
    assert (cs.code, cs.title, cs.sourced_id, cs.department.code) == (
        "CS101", "Intro to Programming", CLASS, "CS")
    assert (hist.code, hist.sourced_id, hist.department.code) == ("HIST101", CLASS2, "GENERAL")
    assert cs.location == "Turing 101"
    ann = db.session.scalar(sa.select(Student).where(Student.student_number == "S1"))
    bob = db.session.scalar(sa.select(Student).where(Student.student_number == "S2"))
    assert (ann.user.email, ann.user.name, ann.user.sourced_id) == ("ann@example.edu",
                                                                     "Ann One", ANN)
    assert ann.user.password_hash is None  # a bundle never sets passwords
    # No e-mail: imported without a login, at an address that cannot receive mail.
    assert bob.user.email.endswith("@" + PLACEHOLDER_DOMAIN) and bob.user.name == "Bob Q Two"
    assert bob.user.password_hash is None
    tess = db.session.scalar(sa.select(User).where(User.email == "tess@example.edu"))
    assert (tess.role, tess.sourced_id) == (Role.INSTRUCTOR, TEA)
    assert cs.instructor_id == tess.id and cs.instructor == "Tess Teacher"
    assert db.session.scalar(sa.select(User).where(User.email == "gus@example.edu")) is None
    links = db.session.scalars(sa.select(Enrollment)).all()
    assert sorted((link.course.code, link.student.student_number, link.status, link.source)
                  for link in links) == [
        ("CS101", "S1", Status.ENROLLED, Source.IMPORT),
        ("CS101", "S2", Status.ENROLLED, Source.IMPORT),
        ("HIST101", "S1", Status.ENROLLED, Source.IMPORT)]
    assert count(EnrollmentEvent) == 3  # every link has its audit event


def test_import_a_1_1_bundle(app, run):
    result = run(files_11())
    assert result.exit_code == 0, result.output
    check_school()
    assert "classes.csv: 2 created" in result.output
    assert "users.csv: 3 created, 1 skipped" in result.output
    assert "enrollments.csv: 3 created, 1 updated, 1 skipped" in result.output


def test_import_a_1_2_bundle_reads_roles_from_roles_csv(app, run):
    result = run(files_12())
    assert result.exit_code == 0, result.output
    check_school()


def test_reimport_is_unchanged_and_matches_by_sourced_id(app, run):
    assert run(files_11()).exit_code == 0
    # The SIS renames the class and the student; the sourcedIds find the same records.
    renamed = files_11(**{
        "classes.csv": CLASSES.replace("Intro to Programming,,", "Programming I,,"),
        "users.csv": USERS_11.replace("Ann,One,,S1,Ann@Example.edu", "Anne,One,,S1,"
                                                                     "anne@example.edu")})
    result = run(renamed)
    assert result.exit_code == 0, result.output
    assert count(Course) == 2 and count(Student) == 2 and count(Enrollment) == 3
    cs = db.session.scalar(sa.select(Course).where(Course.sourced_id == CLASS))
    assert cs.title == "Programming I"
    ann = db.session.scalar(sa.select(User).where(User.sourced_id == ANN))
    assert (ann.name, ann.email) == ("Anne One", "anne@example.edu")
    assert count(EnrollmentEvent) == 3


def test_a_delta_drops_tobedeleted_enrollments(app, run):
    assert run(files_11()).exit_code == 0
    delta = {"manifest.csv": manifest(academicSessions="absent", orgs="absent",
                                      courses="absent", classes="absent", users="absent",
                                      enrollments="delta"),
             "enrollments.csv": ENROLLMENTS.splitlines()[0] + "\n" +
             f"e1,inactive,2027-01-05T00:00:00Z,{CLASS},{SCHOOL},{ANN},student,false,,\n"
             f"e9,tobedeleted,2027-01-05T00:00:00Z,,,,,,,\n"}
    result = run(delta)
    assert result.exit_code == 0, result.output
    assert "enrollments.csv: 1 removed, 1 skipped" in result.output
    assert sorted(link.student.student_number for link in
                  db.session.scalars(sa.select(Enrollment))) == ["S1", "S2"]
    dropped = db.session.scalar(sa.select(EnrollmentEvent).where(
        EnrollmentEvent.status_after.is_(None)))
    assert "Removed by a OneRoster import." in dropped.reason


def test_delta_rows_need_status_and_date(app, run):
    delta = {"manifest.csv": manifest(academicSessions="absent", orgs="absent",
                                      courses="absent", classes="absent", users="absent",
                                      enrollments="delta"),
             "enrollments.csv": ENROLLMENTS.splitlines()[0] + "\n" +
             f"e1,,,{CLASS},{SCHOOL},{ANN},student,false,,\n"}
    result = run(delta)
    assert result.exit_code == 1
    assert problems(result) == [
        "enrollments.csv line 2: status: is required in a delta file (active or tobedeleted)",
        "enrollments.csv line 2: dateLastModified: is required in a delta file"]


def test_dry_run_writes_nothing(app, run):
    result = run(files_11(), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "classes.csv: 2 created" in result.output
    assert "users.csv line 5: skipped: a user with role guardian is not stored" in result.output
    assert "nothing was written" in result.output
    nothing_written()


BAD_CASES = [
    pytest.param({"users.csv": USERS_11.replace("dateLastModified", "dataLastModified", 1)},
                 ["users.csv line 1: dataLastModified: unknown column; expected sourcedId,"
                  "status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,"
                  "givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,"
                  "grades,password"], id="misspelt-header"),
    pytest.param({"classes.csv": CLASSES.replace(",scheduled,Turing", ",scheduled,Turing")
                  .replace(f",{TERM},,,\n", ",no-such-term,,,\n")},
                 ["classes.csv line 3: termSourcedIds: no term among no-such-term: an academic "
                  "session of type term in academicSessions.csv, or imported before"],
                 id="unknown-term"),
    pytest.param({"academicSessions.csv": SESSIONS.replace("2027-05-14", "14/05/2027")},
                 ["academicSessions.csv line 3: endDate: '14/05/2027' is not a date "
                  "(YYYY-MM-DD)"], id="bad-date"),
    pytest.param({"academicSessions.csv": SESSIONS.replace("2027-02-01,2027-05-14",
                                                           "2027-06-01,2027-05-14")},
                 ["academicSessions.csv line 3: endDate: is before classes_start"],
                 id="dates-reversed"),
    pytest.param({"users.csv": USERS_11.replace("Ann@Example.edu", "not-an-email")},
                 ["users.csv line 2: email: 'not-an-email' is not an email address (An email "
                  "address must have an @-sign.)"], id="bad-email"),
    pytest.param({"users.csv": USERS_11.replace('"{studentNumber:S2}"', "")},
                 ["users.csv line 3: identifier: is required for a student (the student "
                  "number), or a userIds entry {studentNumber:…}"], id="no-student-number"),
    pytest.param({"users.csv": USERS_11.replace(",student,ann", ",pupil,ann")},
                 ["users.csv line 2: role: 'pupil' is not one of administrator, aide, "
                  "guardian, parent, proctor, relative, student, teacher"], id="bad-role"),
    pytest.param({"enrollments.csv": ENROLLMENTS.replace(f"e4,active,2027-01-01T00:00:00Z,"
                                                         f"{CLASS2}", "e4,active,2027-01-01T"
                                                                      "00:00:00Z,nope")},
                 ["enrollments.csv line 5: classSourcedId: no class nope in classes.csv, or "
                  "imported before"], id="unknown-class"),
    pytest.param({"enrollments.csv": ENROLLMENTS.replace("e2,", "e1,")},
                 ["enrollments.csv line 3: sourcedId: e1 already appears on line 2"],
                 id="repeated-sourced-id"),
    pytest.param({"orgs.csv": ORGS.replace(",active,2027-01-01T00:00:00Z,Example",
                                           ",deleted,2027-01-01T00:00:00Z,Example")},
                 ["orgs.csv line 2: status: 'deleted' is not active or tobedeleted"],
                 id="bad-status"),
    pytest.param({"classes.csv": CLASSES.replace("hist101", "hist 101")},
                 ["classes.csv line 3: classCode: 'HIST 101' is not a code (letters and "
                  "digits, no spaces)"], id="bad-code"),
    pytest.param({"users.csv": USERS_11.replace(",email,", ",email,email,", 1)},
                 ["users.csv line 1: email: column appears more than once"],
                 id="repeated-column"),
    pytest.param({"classes.csv": CLASSES.replace(",termSourcedIds,", ",terms,", 1)},
                 ["classes.csv line 1: terms: unknown column; expected sourcedId,status,"
                  "dateLastModified,title,grades,courseSourcedId,classCode,classType,location,"
                  "schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods",
                  "classes.csv line 1: termSourcedIds: required column is missing"],
                 id="missing-column"),
    pytest.param({"users.csv": USERS_11.replace("2027-01-01T00:00:00Z,true,", "yesterday,true,",
                                                1)},
                 ["users.csv line 2: dateLastModified: 'yesterday' is not an ISO 8601 time "
                  "(e.g. 2027-01-10T12:00:00.000Z)"], id="bad-date-last-modified"),
    pytest.param({"classes.csv": CLASSES.replace("periods\n", "periods,metadata.capacity\n")
                  .replace(",,,\n", ",,,,lots\n")},
                 ["classes.csv line 2: metadata.capacity: 'lots' is not a whole number",
                  "classes.csv line 3: metadata.capacity: 'lots' is not a whole number"],
                 id="bad-capacity"),
    pytest.param({"orgs.csv": ORGS.encode("utf-8").replace(b"Computer", b"Comp\xe9ter")},
                 ["orgs.csv line 3: file: not UTF-8 text (byte 0xe9); save the file as CSV "
                  "UTF-8"],
                 id="not-utf8"),
    pytest.param({"enrollments.csv": None},
                 ["manifest.csv line 9: value: file.enrollments is bulk but enrollments.csv "
                  "is not in the bundle"], id="missing-file"),
    pytest.param({"manifest.csv": manifest().replace("oneroster.version,1.1",
                                                     "oneroster.version,1.0")},
                 ["manifest.csv line 3: value: oneroster.version '1.0' is not supported (1.1 "
                  "or 1.2)"], id="old-version"),
    pytest.param({"classes.csv": CLASSES + "x,active,,T,,,,scheduled,,,\n"},
                 ["classes.csv line 4: row: has 11 cells; the header has 14"],
                 id="short-row"),
]


@pytest.mark.parametrize(("changes", "expected"), BAD_CASES)
def test_every_problem_is_reported_and_nothing_written(app, run, changes, expected):
    result = run(files_11(**changes))
    assert result.exit_code == 1, result.output
    assert problems(result) == expected
    assert "nothing was imported" in result.output
    nothing_written()


def test_1_2_problems(app, run):
    users = USERS_12.replace("primaryOrgSourcedId,pronouns", "primaryOrgSourcedId,role")
    result = run(files_12(**{"users.csv": users}))
    assert result.exit_code == 1
    assert problems(result)[0].startswith(
        "users.csv line 1: role: unknown column (OneRoster 1.2 keeps roles in roles.csv); "
        "expected sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,"
        "familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,"
        "userMasterIdentifier,resourceSourcedIds,preferredGivenName,preferredMiddleName,"
        "preferredFamilyName,primaryOrgSourcedId,pronouns")
    roles = ROLES_12.replace(f"r5,active,2027-01-01T00:00:00Z,{GUA}",
                             "r5,active,2027-01-01T00:00:00Z,nobody")
    result = run(files_12(**{"roles.csv": roles}))
    assert problems(result) == ["roles.csv line 6: userSourcedId: no user nobody in users.csv",
                                "users.csv line 5: sourcedId: the user has no role in "
                                "roles.csv"]
    nothing_written()


def test_refused_by_the_rules_writes_nothing(app, run):
    # One seat and no waitlist: the rules refuse the second student, and the whole bundle is
    # rolled back.
    header = CLASSES.splitlines()[0] + ",metadata.capacity,metadata.waitlistCapacity"
    rows = [line + ",1,0" for line in CLASSES.splitlines()[1:]]
    result = run(files_11(**{"classes.csv": "\n".join([header, *rows]) + "\n"}))
    assert result.exit_code == 1
    assert problems(result) == ["enrollments.csv line 3: userSourcedId: S2 in CS101: CS101 is "
                                "full (1/1 seats taken) and it has no waitlist."]
    nothing_written()


def test_tolerant_reader(app, run):
    # A blank courseCode falls back to the class's classCode; a teacher enrollment of a user
    # who is not an instructor leaves the instructor as it is.
    courses = COURSES.replace("Intro to Programming,CS101,", "Intro to Programming,,")
    enrollments = ENROLLMENTS + (f"e6,active,,{CLASS2},{SCHOOL},{ANN},TEACHER,true,,\n"
                                 f"e7,active,,{CLASS2},{SCHOOL},{GUA},student,false,,\n")
    result = run(files_11(**{"courses.csv": courses, "enrollments.csv": enrollments}),
                 "--dry-run")
    assert result.exit_code == 0, result.output
    assert ("enrollments.csv line 7: skipped: teacher ann@example.edu is a student account, "
            "not an instructor's") in result.output
    assert ("enrollments.csv line 8: skipped: its class or user is skipped (not stored here)"
            in result.output)
    result = run(files_11(**{"courses.csv": courses, "enrollments.csv": enrollments}))
    assert result.exit_code == 0, result.output
    codes = sorted(db.session.scalars(sa.select(Course.code)))
    assert codes == ["CS101-01", "HIST101"]
    hist = db.session.scalar(sa.select(Course).where(Course.code == "HIST101"))
    assert hist.instructor_id is None


def test_not_a_zip(app, run):
    result = run(b"sourcedId,status\n")
    assert result.exit_code == 1
    assert problems(result)[0].startswith("bundle line 1: file: not a zip file")


def _students_bundle(n: int) -> bytes:
    users = USERS_11.splitlines()[0] + "\n" + "".join(
        f"u{i},active,,true,{SCHOOL},student,s{i},,Stu,Dent{i},,N{i},s{i}@example.edu,,,,,\n"
        for i in range(n))
    enrollments = ENROLLMENTS.splitlines()[0] + "\n" + "".join(
        f"e{i},active,,{CLASS},{SCHOOL},u{i},student,false,,\n" for i in range(n))
    return make_zip(files_11(**{"users.csv": users, "enrollments.csv": enrollments}))


def test_queries_do_not_grow_with_the_rows(app, runner, tmp_path, count_queries):
    from enrollment.extensions import db as database

    def queries(n: int) -> int:
        path = tmp_path / f"b{n}.zip"
        path.write_bytes(_students_bundle(n))
        with count_queries() as counted:
            result = runner.invoke(import_command, [str(path), "--dry-run"])
        assert result.exit_code == 0, result.output
        database.session.rollback()
        # The students importer adds each new account with the ORM (an INSERT each on SQLite);
        # everything else is a fixed number of statements.
        return len([s for s in counted.statements
                    if not s.lstrip().startswith(("INSERT INTO users", "INSERT INTO students"))])

    assert queries(3) == queries(12)


def test_records_matched_by_key_take_the_bundle_sourced_ids(app, run, make_term, make_student):
    term = make_term(code="SPRING2027", name="Old name")
    student = make_student(student_number="S1", email="ann@example.edu")
    db.session.commit()
    result = run(files_11())
    assert result.exit_code == 0, result.output
    assert "academicSessions.csv: 1 updated" in result.output
    assert count(Term) == 1
    term = db.session.get(Term, term.id)
    assert (term.sourced_id, term.name) == (TERM, "Spring 2027")
    assert db.session.get(Student, student.id).user.sourced_id == ANN


def test_a_sourced_id_keeps_its_code(app, run):
    assert run(files_11()).exit_code == 0
    result = run(files_11(**{"courses.csv": COURSES.replace(",CS101,", ",CS102,")}))
    assert result.exit_code == 1
    assert problems(result) == ["classes.csv line 2: classCode: CS102 differs from the code of "
                                "the class this sourcedId names (CS101); a class's code is its "
                                "key"]
    assert sorted(db.session.scalars(sa.select(Course.code))) == ["CS101", "HIST101"]


def test_roles_in_a_1_1_bundle(app, run):
    result = run(files_11(**{"manifest.csv": manifest(roles="bulk"), "roles.csv": ROLES_12}))
    assert result.exit_code == 1
    assert problems(result) == ["manifest.csv line 10: propertyName: file.roles is a OneRoster "
                                "1.2 file; this bundle says oneroster.version 1.1"]
