"""`flask oneroster export` and /reports/oneroster.zip: the 1.1 and 1.2 layouts (manifest,
exact header rows, quoting, booleans), deltas with tombstones, and who may download a bundle."""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from enrollment import services
from enrollment.cli.oneroster_csv import export_command
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import Role
from enrollment.oneroster import csv_format, ids
from enrollment.oneroster.csv_people import placeholder_email
from tests.factories import NOW, at, make_user
from tests.web_helpers import complete, enroll

HEADER_11 = {
    "academicSessions.csv": "sourcedId,status,dateLastModified,title,type,startDate,endDate,"
                            "parentSourcedId,schoolYear",
    "orgs.csv": "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
    "courses.csv": "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,"
                   "grades,orgSourcedId,subjects,subjectCodes",
    "classes.csv": "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,"
                   "classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,"
                   "periods",
    "users.csv": "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,"
                 "userIds,givenName,familyName,middleName,identifier,email,sms,phone,"
                 "agentSourcedIds,grades,password",
    "enrollments.csv": "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,"
                       "userSourcedId,role,primary,beginDate,endDate",
}
USERS_12 = ("sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,"
            "familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,"
            "userMasterIdentifier,resourceSourcedIds,preferredGivenName,preferredMiddleName,"
            "preferredFamilyName,primaryOrgSourcedId,pronouns")
ROLES_12 = ("sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,"
            "orgSourcedId,userProfileSourcedId")
METADATA = {
    "academicSessions.csv": ",metadata.code,metadata.enrollmentOpens,metadata.enrollmentCloses,"
                            "metadata.dropDeadline",
    "classes.csv": ",metadata.department,metadata.credits,metadata.capacity,"
                   "metadata.waitlistCapacity,"
                   "metadata.days,metadata.startTime,metadata.endTime,metadata.instructor,"
                   "metadata.repeatable,metadata.prerequisites",
    "users.csv": ",metadata.program,metadata.maxCredits",
    "enrollments.csv": ",metadata.status,metadata.grade",
}


@pytest.fixture
def school(app, make_term, make_department, make_course, make_student):
    """A term with two courses (one taught by an instructor account), three students."""
    term = make_term(code="2027SP", name="Spring 2027")
    past = make_term(code="2026FA", name="Fall 2026", classes_start=datetime(2026, 9, 1).date(),
                     classes_end=datetime(2026, 12, 15).date())
    cs = make_department(code="CS", name="Computer Science")
    teacher = make_user(email="ada@example.edu", name="Ada Lovelace", role=Role.INSTRUCTOR)
    course = make_course(term=term, department=cs, code="CS201", title="Data Structures, II",
                         capacity=2, days="TR", start_time=at("09:30"), end_time=at("10:45"),
                         location="Turing 102", instructor="Dr. Ada", instructor_id=teacher.id)
    other = make_course(term=term, department=cs, code="CS301", title="Algorithms")
    old = make_course(term=past, department=cs, code="CS101", title="Intro")
    ann = make_student(student_number="S1", name="Ann Marie One", email="ann@example.edu")
    bob = make_student(student_number="S2", name="Plato", email="bob@example.edu")
    cy = make_student(student_number="S3", name="Cy Three", email=placeholder_email("cy"))
    db.session.commit()
    enroll(ann, course, staff=True)
    enroll(bob, course, staff=True)
    enroll(cy, course, staff=True)  # waitlisted: not a OneRoster enrollment
    enroll(ann, other, staff=True)
    complete(ann, old, "B+")
    db.session.commit()
    return {"term": term, "course": course, "other": other, "old": old, "ann": ann, "bob": bob,
            "cy": cy, "teacher": teacher}


def export(runner, tmp_path, *args) -> dict[str, str]:
    path = tmp_path / "bundle.zip"
    result = runner.invoke(export_command, ["-o", str(path), *args])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def manifest(files) -> dict[str, str]:
    return {r["propertyName"]: r["value"] for r in rows(files["manifest.csv"])}


def test_bulk_1_1_headers_manifest_and_rows(school, runner, tmp_path):
    files = export(runner, tmp_path)
    assert set(files) == {"manifest.csv", *HEADER_11}
    assert next(iter(files)) == "manifest.csv"  # first in the zip
    for name, header in HEADER_11.items():
        assert files[name].split("\r\n", 1)[0] == header + METADATA.get(name, "")
    props = manifest(files)
    assert files["manifest.csv"].startswith("propertyName,value\r\nmanifest.version,1.0\r\n"
                                            "oneroster.version,1.1\r\n")
    assert [k for k in props if k.startswith("file.")] == [
        f"file.{name}" for name in csv_format.MANIFEST_FILES["1.1"]]
    assert {k: v for k, v in props.items() if v == "bulk"} == {
        f"file.{n}": "bulk" for n in ("academicSessions", "classes", "courses", "enrollments",
                                      "orgs", "users")}
    assert props["file.demographics"] == "absent" and props["file.results"] == "absent"

    classes = {r["classCode"]: r for r in rows(files["classes.csv"])}
    cs201 = classes["CS201"]
    assert cs201["sourcedId"] == school["course"].sourced_id
    assert cs201["title"] == "Data Structures, II" and cs201["classType"] == "scheduled"
    assert cs201["termSourcedIds"] == school["term"].sourced_id
    assert cs201["courseSourcedId"] == ids.course_id("CS201")
    assert cs201["dateLastModified"].endswith("Z") and cs201["status"] == "active"
    assert (cs201["metadata.capacity"], cs201["metadata.days"], cs201["metadata.startTime"]) == (
        "2", "TR", "09:30")
    # List fields are always quoted; a cell with a comma is quoted too.
    line = next(li for li in files["classes.csv"].split("\r\n") if ",CS201," in li)
    assert f',"{school["term"].sourced_id}",' in line and '"Data Structures, II"' in line

    users = {r["sourcedId"]: r for r in rows(files["users.csv"])}
    ann = users[school["ann"].user.sourced_id]
    assert (ann["role"], ann["identifier"], ann["email"], ann["username"]) == (
        "student", "S1", "ann@example.edu", "ann@example.edu")
    assert (ann["givenName"], ann["familyName"], ann["enabledUser"]) == ("Ann Marie", "One",
                                                                         "true")
    assert ann["userIds"] == "{studentNumber:S1}"
    assert ann["orgSourcedIds"] == ids.school_id("Enrollment University")
    plato = users[school["bob"].user.sourced_id]
    assert (plato["givenName"], plato["familyName"]) == ("Plato", "Plato")
    cy = users[school["cy"].user.sourced_id]
    assert (cy["email"], cy["username"]) == ("", "S3")  # a placeholder address is left out
    teacher = users[school["teacher"].sourced_id]
    assert teacher["role"] == "teacher" and teacher["email"] == "ada@example.edu"

    enrollments = rows(files["enrollments.csv"])
    students = sorted((r["classSourcedId"], r["userSourcedId"], r["metadata.status"],
                       r["metadata.grade"]) for r in enrollments if r["role"] == "student")
    course, other, old = school["course"], school["other"], school["old"]
    assert students == sorted([
        (course.sourced_id, school["ann"].user.sourced_id, "enrolled", ""),
        (course.sourced_id, school["bob"].user.sourced_id, "enrolled", ""),
        (other.sourced_id, school["ann"].user.sourced_id, "enrolled", ""),
        (old.sourced_id, school["ann"].user.sourced_id, "completed", "B+")])
    teachers = [r for r in enrollments if r["role"] == "teacher"]
    assert [(r["classSourcedId"], r["userSourcedId"], r["primary"]) for r in teachers] == [
        (course.sourced_id, school["teacher"].sourced_id, "true")]
    assert {r["primary"] for r in enrollments if r["role"] == "student"} == {"false"}
    link = next(r for r in enrollments if r["userSourcedId"] == school["bob"].user.sourced_id)
    assert link["sourcedId"] == ids.enrollment_id(course.id, school["bob"].id)

    sessions = {r["type"]: r for r in rows(files["academicSessions.csv"])}
    assert sessions["term"]["metadata.code"] in ("2027SP", "2026FA")
    years = [r for r in rows(files["academicSessions.csv"]) if r["type"] == "schoolYear"]
    assert [(y["schoolYear"], y["startDate"], y["endDate"]) for y in years] == [
        ("2027", "2026-09-01", "2027-08-31")]
    orgs = {r["type"]: r for r in rows(files["orgs.csv"])}
    assert orgs["department"]["identifier"] == "CS"
    assert orgs["department"]["parentSourcedId"] == orgs["school"]["sourcedId"]
    courses = {r["courseCode"]: r for r in rows(files["courses.csv"])}
    assert courses["CS201"]["orgSourcedId"] == orgs["school"]["sourcedId"]
    assert cs201["metadata.department"] == "CS"


def test_bulk_1_2_keeps_roles_in_roles_csv(school, runner, tmp_path):
    files = export(runner, tmp_path, "--version", "1.2")
    assert files["users.csv"].split("\r\n", 1)[0] == USERS_12 + METADATA["users.csv"]
    assert files["roles.csv"].split("\r\n", 1)[0] == ROLES_12
    props = manifest(files)
    assert props["oneroster.version"] == "1.2" and props["file.roles"] == "bulk"
    assert [k for k in props if k.startswith("file.")] == [
        f"file.{name}" for name in csv_format.MANIFEST_FILES["1.2"]]
    roles = {r["userSourcedId"]: r for r in rows(files["roles.csv"])}
    assert roles[school["ann"].user.sourced_id]["role"] == "student"
    assert roles[school["teacher"].sourced_id]["role"] == "teacher"
    assert {r["roleType"] for r in roles.values()} == {"primary"}
    school_id = ids.school_id("Enrollment University")
    assert {r["orgSourcedId"] for r in roles.values()} == {school_id}
    users = rows(files["users.csv"])
    assert {u["primaryOrgSourcedId"] for u in users} == {school_id}
    assert len(roles) == len(users) == 4


def test_a_delta_lists_changes_and_a_dropped_enrollment_as_tobedeleted(school, runner,
                                                                      tmp_path):
    # The services stamp links with the time they are given (the suite's frozen clock).
    since = NOW + timedelta(seconds=30)
    ann, course = school["ann"], school["course"]
    with write_transaction(db.session):
        services.drop(ann, course, actor=None, now=NOW + timedelta(minutes=1), by_staff=True)
    db.session.commit()
    files = export(runner, tmp_path, "--since", since.isoformat())
    props = manifest(files)
    assert {k: v for k, v in props.items() if k.startswith("file.") and v != "absent"} == {
        f"file.{n}": "delta" for n in ("academicSessions", "classes", "courses", "enrollments",
                                       "orgs", "users")}
    enrollments = rows(files["enrollments.csv"])
    gone = [r for r in enrollments if r["status"] == "tobedeleted"]
    assert [(r["sourcedId"], r["classSourcedId"], r["userSourcedId"], r["role"])
            for r in gone] == [(ids.enrollment_id(course.id, ann.id), course.sourced_id,
                                ann.user.sourced_id, "student")]
    # The drop promoted Cy from the waitlist: that link is new in the delta.
    active = [(r["userSourcedId"], r["status"]) for r in enrollments if r["role"] == "student"
              and r["status"] == "active"]
    assert active == [(school["cy"].user.sourced_id, "active")]
    assert rows(files["academicSessions.csv"]) == [] and rows(files["users.csv"]) == []


def test_a_delta_lists_deleted_records(school, runner, tmp_path, make_term):
    since = datetime.now(UTC)
    extra = make_term(code="2028SP")
    sourced_id = extra.sourced_id
    db.session.commit()
    db.session.delete(extra)
    db.session.commit()
    files = export(runner, tmp_path, "--since", since.isoformat())
    sessions = rows(files["academicSessions.csv"])
    assert [(r["sourcedId"], r["status"]) for r in sessions] == [(sourced_id, "tobedeleted")]


def test_a_failed_export_leaves_no_file(app, runner, tmp_path, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from enrollment.cli import oneroster_csv

    def unreachable(*args, **kwargs):
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(oneroster_csv, "write_bundle", unreachable)
    result = runner.invoke(export_command, ["-o", str(tmp_path / "b.zip")])
    assert result.exit_code == 1
    assert "error: the database could not be read (connection refused); no bundle was " \
           "written." in result.output
    assert list(tmp_path.iterdir()) == []


def test_bad_since(app, runner, tmp_path):
    result = runner.invoke(export_command, ["-o", str(tmp_path / "b.zip"), "--since", "soon"])
    assert result.exit_code == 2 and "'soon' is not an ISO 8601 time" in result.output


def test_reports_zip_for_staff_only(school, client, login, make_staff, make_student):
    anonymous = client.get("/reports/oneroster.zip?version=1.1")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    login(school["teacher"])
    assert client.get("/reports/oneroster.zip").status_code == 403
    login(make_student().user)
    assert client.get("/reports/oneroster.zip").status_code == 403
    login(make_staff())
    index = client.get("/reports/").get_data(as_text=True)
    assert "/reports/oneroster.zip?version=1.1" in index
    assert "/reports/oneroster.zip?version=1.2" in index
    response = client.get("/reports/oneroster.zip?version=1.2")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    data = response.data
    response.close()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "roles.csv" in archive.namelist()
        text = archive.read("manifest.csv").decode()
    assert "oneroster.version,1.2" in text
    assert client.get("/reports/oneroster.zip?version=2.0").status_code == 400
    assert client.get("/reports/oneroster.zip?since=yesterday").status_code == 400


def test_export_queries_do_not_grow_with_the_data(school, runner, tmp_path, count_queries,
                                                  make_student):
    def queries() -> int:
        with count_queries() as counted:
            export(runner, tmp_path, "--version", "1.2")
        return counted.count

    first = queries()
    for _ in range(5):
        enroll(make_student(), school["other"], staff=True)
    db.session.commit()
    assert queries() == first
