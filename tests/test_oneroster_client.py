"""An independent client drives every OneRoster 1.1 endpoint over HTTP: strongmind's
`oneroster_client`, generated from 1EdTech's OpenAPI definition of the 1.1 REST binding. Each
response is deserialized into its models, which check the binding's required fields and
enumerations; the access token comes from /oauth/token over HTTP too."""
import pytest
import requests

oneroster_client = pytest.importorskip("oneroster_client")

from enrollment.oneroster import ids  # noqa: E402
from tests.factories import NOW  # noqa: E402
from tests.oneroster_support import PREFIX, make_roster  # noqa: E402

SCOPE = "https://purl.imsglobal.org/spec/or/v1p1/scope/roster.readonly"
pytestmark = pytest.mark.sqlite_file


@pytest.fixture
def served(app, live_server):
    roster = make_roster()
    token = requests.post(f"{live_server}/oauth/token",
                          data={"grant_type": "client_credentials", "scope": SCOPE},
                          auth=(roster.client_id, roster.secret), timeout=10)
    assert token.status_code == 200, token.text
    config = oneroster_client.Configuration()
    config.host = live_server + PREFIX
    config.access_token = token.json()["access_token"]
    return roster, oneroster_client.ApiClient(config), app.config["SCHOOL_NAME"]


def apis(api_client):
    names = ["AcademicSessionsManagementApi", "ClassesManagementApi", "CoursesManagementApi",
             "EnrollmentsManagementApi", "OrgsManagementApi", "SchoolsManagementApi",
             "StudentsManagementApi", "TeachersManagementApi", "TermsManagementApi",
             "UsersManagementApi"]
    return {name: getattr(oneroster_client, name)(api_client) for name in names}


def test_every_endpoint_deserializes_into_the_binding_s_models(served):
    roster, api_client, school_name = served
    api = apis(api_client)
    m = oneroster_client
    school = ids.school_id(school_name)
    cls, term = roster.course.sourced_id, roster.term.sourced_id
    ada, turing = roster.ada.user.sourced_id, roster.instructor.sourced_id
    course = ids.course_id("CS101")
    enrollment = ids.enrollment_id(roster.course.id, roster.ada.id)

    sessions = api["AcademicSessionsManagementApi"].get_academic_sessions(limit=10)
    assert isinstance(sessions, m.MultipleAcademicSessionsType)
    assert len(sessions.academic_sessions) == 4
    assert {s.type for s in sessions.academic_sessions} == {"term", "schoolYear"}
    one = api["AcademicSessionsManagementApi"].get_academic_session(term)
    assert isinstance(one, m.SingleAcademicSessionType)
    assert one.academic_session.title == "Spring 2027"
    assert str(one.academic_session.start_date) == "2027-02-01"
    assert one.academic_session.parent.sourced_id == ids.school_year_id(2027)

    terms = api["TermsManagementApi"].get_terms()
    assert [t.type for t in terms.academic_sessions] == ["term", "term"]
    assert api["TermsManagementApi"].get_term(term).academic_session.sourced_id == term
    assert len(api["TermsManagementApi"].get_terms_for_school(school).academic_sessions) == 2

    orgs = api["OrgsManagementApi"].get_orgs()
    assert isinstance(orgs, m.OrgsType) and len(orgs.orgs) == 2
    assert api["OrgsManagementApi"].get_org(school).org.type == "school"
    schools = api["SchoolsManagementApi"].get_schools()
    assert [o.name for o in schools.orgs] == [school_name]
    assert isinstance(api["SchoolsManagementApi"].get_school(school), m.SingleOrgType)

    courses = api["CoursesManagementApi"].get_courses(sort="courseCode")
    assert isinstance(courses, m.CoursesType)
    assert [c.course_code for c in courses.courses] == ["CS101", "MA201"]
    assert api["CoursesManagementApi"].get_course(course).course.title == "Programming One"
    assert len(api["CoursesManagementApi"].get_courses_for_school(school).courses) == 2

    classes = api["ClassesManagementApi"]
    every = classes.get_classes(sort="title", order_by="asc")
    assert isinstance(every, m.ClassesType)
    assert [c.title for c in every.classes] == ["Linear Algebra", "Programming I",
                                                "Programming One"]
    single = classes.get_class(cls)
    assert isinstance(single, m.SingleClassType)
    assert single._class.class_code == "CS101" and single._class.class_type == "scheduled"
    assert single._class.course.sourced_id == course
    assert single._class.school.href.endswith(f"/orgs/{school}")
    assert [t.sourced_id for t in single._class.terms] == [term]
    assert len(classes.get_classes_for_course(course).classes) == 2
    assert len(classes.get_classes_for_school(school).classes) == 3
    assert len(classes.get_classes_for_term(term).classes) == 2
    assert {c.sourced_id for c in classes.get_classes_for_user(
        roster.grace.user.sourced_id).classes} == {cls, roster.other.sourced_id}
    assert [c.sourced_id for c in classes.get_classes_for_student(ada).classes] == [cls]
    assert [c.sourced_id for c in classes.get_classes_for_teacher(turing).classes] == [cls]

    users = api["UsersManagementApi"].get_users(filter="role='student'", sort="identifier")
    assert isinstance(users, m.UsersType)
    assert [u.identifier for u in users.users] == ["S1", "S2", "S3"]
    first = users.users[0]
    assert first.enabled_user is True  # "true" in the JSON, a boolean in the model
    assert first.user_ids[0].type == "studentNumber" and first.user_ids[0].identifier == "S1"
    assert first.orgs[0].sourced_id == school
    assert api["UsersManagementApi"].get_user(ada).user.given_name == "Ada"

    students = api["StudentsManagementApi"]
    assert len(students.get_students().users) == 3
    assert students.get_student(ada).user.role == "student"
    assert {u.sourced_id for u in students.get_students_for_class(cls).users} == {
        ada, roster.grace.user.sourced_id}
    assert len(students.get_students_for_school(school).users) == 3
    assert len(students.get_students_for_class_in_school(school, cls).users) == 2

    teachers = api["TeachersManagementApi"]
    assert [u.sourced_id for u in teachers.get_teachers().users] == [turing]
    assert teachers.get_teacher(turing).user.role == "teacher"
    assert [u.sourced_id for u in teachers.get_teachers_for_class(cls).users] == [turing]
    assert len(teachers.get_teachers_for_school(school).users) == 1
    assert len(teachers.get_teachers_for_class_in_school(school, cls).users) == 1

    enrollments = api["EnrollmentsManagementApi"]
    every = enrollments.get_enrollments(limit=2, offset=0)
    assert isinstance(every, m.EnrollmentsType) and len(every.enrollments) == 2
    assert api_client.last_response.headers["X-Total-Count"] == "4"
    got = enrollments.get_enrollment(enrollment).enrollment
    assert got.role == "student" and got.primary is False
    assert got.user.sourced_id == ada and got._class.sourced_id == cls
    assert len(enrollments.get_enrollments_for_school(school).enrollments) == 4
    assert len(enrollments.get_enrollments_for_class_in_school(school, cls).enrollments) == 3


def test_a_delta_with_a_tombstone_deserializes(served, app):
    from enrollment import services
    from enrollment.database import write_transaction
    from enrollment.extensions import db

    roster, api_client, _ = served
    dropped = ids.enrollment_id(roster.course.id, roster.grace.id)
    with write_transaction(db.session):
        services.drop(roster.grace, roster.course, actor=None, now=NOW)
    api = apis(api_client)["EnrollmentsManagementApi"]
    delta = api.get_enrollments(filter="dateLastModified>'2027-01-01T00:00:00Z'")
    found = {e.sourced_id: e for e in delta.enrollments}
    assert found[dropped].status == "tobedeleted"
    assert found[dropped].user.sourced_id == roster.grace.user.sourced_id


def test_errors_deserialize_into_imsx_status_info(served):
    roster, api_client, _ = served
    api = apis(api_client)
    m = oneroster_client
    with pytest.raises(requests.HTTPError) as missing:
        api["ClassesManagementApi"].get_class("00000000-0000-0000-0000-000000000000")
    assert missing.value.response.status_code == 404
    info = api_client.deserialize(missing.value.response, "ImsxStatusInfoType")
    assert isinstance(info, m.ImsxStatusInfoType)
    assert info.imsx_code_major == "failure" and info.imsx_severity == "error"
    field = info.imsx_code_minor.imsx_code_minor_field[0]
    assert field.imsx_code_minor_field_value == "unknownobject"
    with pytest.raises(requests.HTTPError) as bad:
        api["UsersManagementApi"].get_users(filter="shoeSize='9'")
    assert bad.value.response.status_code == 400
    assert bad.value.response.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0][
        "imsx_codeMinorFieldValue"] == "invalid_filter_field"
    with pytest.raises(requests.HTTPError) as sort:
        api["UsersManagementApi"].get_users(sort="shoeSize")
    info = api_client.deserialize(sort.value.response, "ImsxStatusInfoType")
    assert info.imsx_code_minor.imsx_code_minor_field[0].imsx_code_minor_field_value == \
        "invalid_sort_field"
    api_client.configuration.access_token = "expired-or-forged"
    with pytest.raises(requests.HTTPError) as refused:
        api["ClassesManagementApi"].get_classes()
    assert refused.value.response.status_code == 401
