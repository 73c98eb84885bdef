"""The OneRoster 1.1 REST provider: every endpoint, the record shapes, paging, sorting,
filters, field selection, deltas with tombstones, errors, and a fixed number of statements."""
from datetime import UTC, datetime, timedelta

import pytest

from enrollment import clock, services
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.oneroster import ids
from tests.factories import NOW, make_course, make_enrollment, make_student
from tests.oneroster_support import PREFIX, access_token, bearer, make_roster


@pytest.fixture
def roster(app):
    return make_roster()


@pytest.fixture
def get(client, roster):
    token = access_token(client, roster.client_id, roster.secret)

    def _get(path, status=200, **params):
        response = client.get(PREFIX + path, query_string=params, headers=bearer(token))
        if status is not None:
            assert response.status_code == status, (path, response.get_data(as_text=True))
        return response
    return _get


def school_id(app):
    return ids.school_id(app.config["SCHOOL_NAME"])


def sids(response, key):
    return [r["sourcedId"] for r in response.json[key]]


def minor(response):
    return response.json["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]


COLLECTIONS = [("/academicSessions", "academicSessions", 4), ("/terms", "academicSessions", 2),
               ("/orgs", "orgs", 2), ("/schools", "orgs", 1), ("/courses", "courses", 2),
               ("/classes", "classes", 3), ("/users", "users", 4), ("/students", "users", 3),
               ("/teachers", "users", 1), ("/enrollments", "enrollments", 4)]


@pytest.mark.parametrize(("path", "key", "total"), COLLECTIONS)
def test_every_collection_wraps_its_records_under_the_plural_key(get, path, key, total):
    response = get(path)
    assert list(response.json) == [key]
    assert len(response.json[key]) == total
    assert response.headers["X-Total-Count"] == str(total)
    assert 'rel="first"' in response.headers["Link"]
    for record in response.json[key]:
        assert record["status"] == "active"
        assert record["dateLastModified"].endswith("Z")


@pytest.mark.parametrize(("path", "key", "single"), [
    ("/academicSessions", "academicSessions", "academicSession"),
    ("/terms", "academicSessions", "academicSession"), ("/orgs", "orgs", "org"),
    ("/schools", "orgs", "org"), ("/courses", "courses", "course"),
    ("/classes", "classes", "class"), ("/users", "users", "user"),
    ("/students", "users", "user"), ("/teachers", "users", "user"),
    ("/enrollments", "enrollments", "enrollment")])
def test_every_single_read_wraps_its_record_under_the_singular_key(get, path, key, single):
    for record in get(path).json[key]:
        found = get(f"{path}/{record['sourcedId']}").json
        assert found == {single: record}
    missing = get(f"{path}/00000000-0000-0000-0000-000000000000", status=404)
    assert minor(missing) == "unknownobject"
    assert missing.json["imsx_codeMajor"] == "failure"
    assert missing.json["imsx_severity"] == "error"


def test_typed_endpoints_do_not_read_records_of_another_type(get, roster, app):
    assert get(f"/terms/{ids.school_year_id(2027)}", status=404)
    dept = get("/orgs", filter="type='department'").json["orgs"][0]
    get(f"/schools/{dept['sourcedId']}", status=404)
    get(f"/teachers/{roster.ada.user.sourced_id}", status=404)
    get(f"/students/{roster.instructor.sourced_id}", status=404)


def test_record_shapes_follow_the_binding(get, roster, app):
    base = "http://localhost" + PREFIX
    school = school_id(app)
    cls = get(f"/classes/{roster.course.sourced_id}").json["class"]
    assert cls["title"] == "Programming I" and cls["classCode"] == "CS101"
    assert cls["classType"] == "scheduled" and cls["location"] == "Room 1"
    assert cls["course"] == {"href": f"{base}/courses/{ids.course_id('CS101')}",
                             "sourcedId": ids.course_id("CS101"), "type": "course"}
    assert cls["school"] == {"href": f"{base}/orgs/{school}", "sourcedId": school,
                             "type": "org"}
    assert cls["terms"] == [{"href": f"{base}/academicSessions/{roster.term.sourced_id}",
                             "sourcedId": roster.term.sourced_id, "type": "academicSession"}]

    ada = get(f"/users/{roster.ada.user.sourced_id}").json["user"]
    assert ada["role"] == "student" and ada["identifier"] == "S1"
    assert ada["username"] == ada["email"] == "ada@example.edu"
    assert ada["userIds"] == [{"type": "studentNumber", "identifier": "S1"}]
    assert (ada["givenName"], ada["familyName"]) == ("Ada", "Lovelace")
    assert ada["enabledUser"] == "true"
    assert [o["sourcedId"] for o in ada["orgs"]] == [school]
    linus = get(f"/users/{roster.linus.user.sourced_id}").json["user"]
    assert (linus["givenName"], linus["familyName"]) == ("Linus", "Linus")
    turing = get(f"/teachers/{roster.instructor.sourced_id}").json["user"]
    assert turing["role"] == "teacher"
    assert (turing["givenName"], turing["familyName"]) == ("Alan Mathison", "Turing")

    term = get(f"/terms/{roster.term.sourced_id}").json["academicSession"]
    assert term == {"sourcedId": roster.term.sourced_id, "status": "active",
                    "dateLastModified": term["dateLastModified"], "title": "Spring 2027",
                    "type": "term", "startDate": "2027-02-01", "endDate": "2027-05-14",
                    "parent": {"href": f"{base}/academicSessions/{ids.school_year_id(2027)}",
                               "sourcedId": ids.school_year_id(2027),
                               "type": "academicSession"},
                    "children": [], "schoolYear": "2027"}
    year = get(f"/academicSessions/{ids.school_year_id(2028)}").json["academicSession"]
    assert year["type"] == "schoolYear" and year["parent"] is None
    assert (year["startDate"], year["endDate"]) == ("2027-09-01", "2028-08-31")

    orgs = {o["type"]: o for o in get("/orgs").json["orgs"]}
    assert orgs["school"]["identifier"] and orgs["school"]["parent"] is None
    assert orgs["school"]["children"][0]["sourcedId"] == roster.dept.sourced_id
    assert orgs["department"]["identifier"] == "CS"
    assert orgs["department"]["parent"]["sourcedId"] == school

    # One OneRoster course per code, titled after its latest section.
    course = get(f"/courses/{ids.course_id('CS101')}").json["course"]
    assert course["courseCode"] == "CS101" and course["title"] == "Programming One"
    assert course["org"]["sourcedId"] == school

    enrollment = get(f"/enrollments/{ids.enrollment_id(roster.course.id, roster.ada.id)}"
                     ).json["enrollment"]
    assert enrollment["role"] == "student" and enrollment["primary"] == "false"
    assert enrollment["user"]["sourcedId"] == roster.ada.user.sourced_id
    assert enrollment["class"]["sourcedId"] == roster.course.sourced_id
    assert enrollment["beginDate"] is None and enrollment["endDate"] is None
    teacher = get("/enrollments/"
                  f"{ids.teacher_enrollment_id(roster.course.id, roster.instructor.id)}"
                  ).json["enrollment"]
    assert teacher["role"] == "teacher" and teacher["primary"] == "true"


def test_waitlisted_links_are_not_enrollments_and_completed_ones_are(get, roster):
    found = get("/enrollments").json["enrollments"]
    pairs = {(e["user"]["sourcedId"], e["class"]["sourcedId"]) for e in found}
    assert (roster.grace.user.sourced_id, roster.other.sourced_id) in pairs
    assert (roster.linus.user.sourced_id, roster.other.sourced_id) not in pairs
    get(f"/enrollments/{ids.enrollment_id(roster.other.id, roster.linus.id)}", status=404)


def test_nested_reads(get, roster, app):
    users = get(f"/classes/{roster.course.sourced_id}/students")
    assert sorted(sids(users, "users")) == sorted([roster.ada.user.sourced_id,
                                                   roster.grace.user.sourced_id])
    assert sids(get(f"/classes/{roster.course.sourced_id}/teachers"), "users") == [
        roster.instructor.sourced_id]
    assert get(f"/classes/{roster.other.sourced_id}/teachers").json == {"users": []}
    school = school_id(app)
    assert len(get(f"/schools/{school}/classes").json["classes"]) == 3
    assert len(get(f"/schools/{school}/enrollments").json["enrollments"]) == 4
    assert sorted(sids(get(f"/terms/{roster.term.sourced_id}/classes"), "classes")) == sorted(
        [roster.course.sourced_id, roster.other.sourced_id])
    assert sorted(sids(get(f"/courses/{ids.course_id('CS101')}/classes"), "classes")) == \
        sorted([roster.course.sourced_id, roster.later.sourced_id])
    grace = sorted([roster.course.sourced_id, roster.other.sourced_id])
    assert sorted(sids(get(f"/users/{roster.grace.user.sourced_id}/classes"), "classes")) == grace
    assert sorted(sids(get(f"/students/{roster.grace.user.sourced_id}/classes"),
                       "classes")) == grace
    assert sids(get(f"/teachers/{roster.instructor.sourced_id}/classes"), "classes") == [
        roster.course.sourced_id]
    assert sids(get(f"/users/{roster.instructor.sourced_id}/classes"), "classes") == [
        roster.course.sourced_id]
    # Linus is only waitlisted: no classes.
    assert get(f"/students/{roster.linus.user.sourced_id}/classes").json == {"classes": []}


@pytest.mark.parametrize("path", [
    "/classes/{x}/students", "/classes/{x}/teachers", "/schools/{x}/classes",
    "/schools/{x}/enrollments", "/terms/{x}/classes", "/courses/{x}/classes",
    "/users/{x}/classes", "/students/{x}/classes", "/teachers/{x}/classes"])
def test_a_nested_read_of_an_unknown_parent_is_unknownobject(get, path):
    response = get(path.format(x="3f2504e0-4f89-11d3-9a0c-0305e82c3301"), status=404)
    assert minor(response) == "unknownobject"
    response = get(path.format(x="x" * 300), status=404)
    assert minor(response) == "unknownobject"


def test_a_student_is_not_a_teacher_in_nested_reads(get, roster):
    get(f"/teachers/{roster.ada.user.sourced_id}/classes", status=404)
    get(f"/students/{roster.instructor.sourced_id}/classes", status=404)


def test_paging_limit_offset_total_and_link(get, roster):
    first = get("/users", limit=2, sort="identifier")
    assert first.headers["X-Total-Count"] == "4"
    assert len(first.json["users"]) == 2
    link = first.headers["Link"]
    assert 'rel="next"' in link and "offset=2" in link and 'rel="last"' in link
    assert 'rel="prev"' not in link
    second = get("/users", limit=2, offset=2, sort="identifier")
    assert 'rel="prev"' in second.headers["Link"] and 'rel="next"' not in second.headers["Link"]
    every = sids(first, "users") + sids(second, "users")
    assert sorted(every) == sorted(sids(get("/users"), "users"))
    beyond = get("/users", offset=10)
    assert beyond.json == {"users": []} and beyond.headers["X-Total-Count"] == "4"
    # Small types page the same way.
    sessions = get("/academicSessions", limit=3, offset=3)
    assert len(sessions.json["academicSessions"]) == 1
    assert sessions.headers["X-Total-Count"] == "4"


def test_default_limit_is_100(app, get, roster):
    for _ in range(101):
        make_course(term=roster.term, department=roster.dept)
    db.session.commit()
    response = get("/classes")
    assert len(response.json["classes"]) == 100
    assert response.headers["X-Total-Count"] == "104"


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "x"}, {"limit": "-1"},
                                    {"offset": "-1"}, {"limit": "99999999999999999999"},
                                    {"orderBy": "sideways"}, {"filter": "a\x00='b'"}])
def test_bad_paging_is_a_400(get, params):
    response = get("/classes", status=400, **params)
    assert response.json["imsx_codeMajor"] == "failure"


def test_sort_and_order_by(get, roster):
    asc = [c["title"] for c in get("/classes", sort="title").json["classes"]]
    assert asc == sorted(asc)
    desc = [c["title"] for c in get("/classes", sort="title", orderBy="desc").json["classes"]]
    assert desc == sorted(asc, reverse=True)
    names = [o["name"] for o in get("/orgs", sort="name", orderBy="desc").json["orgs"]]
    assert names == sorted(names, reverse=True)
    enrollment_ids = sids(get("/enrollments", sort="sourcedId"), "enrollments")
    assert enrollment_ids == sorted(enrollment_ids)
    for path in ("/classes", "/users", "/enrollments", "/orgs", "/courses"):
        response = get(path, status=400, sort="nope")
        assert minor(response) == "invalid_sort_field"


def test_filters(get, roster):
    def classes(expression):
        return sorted(c["classCode"] for c in
                      get("/classes", filter=expression).json["classes"])
    assert classes("classCode='CS101'") == ["CS101", "CS101"]
    assert classes("classCode!='CS101'") == ["MA201"]
    assert classes("title~'algebra'") == ["MA201"]
    assert classes("classCode='MA201' OR title='Programming I'") == ["CS101", "MA201"]
    assert classes("classCode='CS101' AND title='Programming I'") == ["CS101"]
    assert classes("title='It''s'") == []
    assert sids(get("/users", filter="role='teacher'"), "users") == [
        roster.instructor.sourced_id]
    assert sids(get("/users", filter="identifier='S2'"), "users") == [
        roster.grace.user.sourced_id]
    assert len(get("/users", filter="enabledUser='true'").json["users"]) == 4
    assert get("/enrollments", filter="role='teacher'").headers["X-Total-Count"] == "1"
    one = ids.enrollment_id(roster.course.id, roster.ada.id)
    assert sids(get("/enrollments", filter=f"sourcedId='{one}'"), "enrollments") == [one]
    assert one not in sids(get("/enrollments", filter=f"sourcedId!='{one}'"), "enrollments")
    assert get("/terms", filter="title~'fall'").json["academicSessions"][0]["title"] == \
        "Fall 2027"
    assert get("/courses", filter="courseCode='MA201'").headers["X-Total-Count"] == "1"
    assert get("/orgs", filter="type='department'").headers["X-Total-Count"] == "1"


@pytest.mark.parametrize("path", ["/classes", "/users", "/enrollments", "/academicSessions",
                                  "/orgs", "/courses", "/students",
                                  "/classes/{course}/students"])
def test_an_unknown_filter_field_is_invalid_filter_field(get, roster, path):
    response = get(path.format(course=roster.course.sourced_id), status=400,
                   filter="favouriteColour='blue'")
    assert minor(response) == "invalid_filter_field"
    assert "favouriteColour" in response.json["imsx_description"]


@pytest.mark.parametrize("expression", [
    "title", "title='x", "title=x", "title='a' XOR title='b'", "title='a' AND", "='x'",
    "dateLastModified>'yesterday'", "enabledUser='maybe'", "dateLastModified~'2027'",
    "sourcedId>'x'"])
def test_bad_filter_syntax_is_a_400(get, expression):
    response = get("/enrollments" if "sourcedId" in expression else "/classes" if
                   "enabled" not in expression else "/users", status=400, filter=expression)
    assert response.json["imsx_codeMajor"] == "failure"


def test_fields_selects_fields(get, roster):
    response = get("/classes", fields="sourcedId,title", sort="title")
    assert response.json["classes"][0] == {"sourcedId": roster.other.sourced_id,
                                           "title": "Linear Algebra"}
    single = get(f"/users/{roster.ada.user.sourced_id}", fields="givenName").json
    assert single == {"user": {"givenName": "Ada"}}
    response = get("/classes", status=400, fields="sourcedId,shoeSize")
    assert minor(response) == "invalid_selection_field"


def test_delta_returns_what_changed_and_tombstones(get, roster, app):
    dropped = ids.enrollment_id(roster.course.id, roster.grace.id)
    assert dropped in sids(get("/enrollments"), "enrollments")
    cut = datetime.now(UTC) - timedelta(milliseconds=1)
    stamp = cut.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    with write_transaction(db.session):
        services.drop(roster.grace, roster.course, actor=None, now=clock.utcnow())
    roster.other.title = "Linear Algebra II"
    gone = make_course(term=roster.term, department=roster.dept)
    gone_id = gone.sourced_id
    db.session.commit()
    db.session.delete(gone)
    db.session.commit()

    delta = get("/enrollments", filter=f"dateLastModified>'{stamp}'").json["enrollments"]
    tombstone = next(e for e in delta if e["sourcedId"] == dropped)
    assert tombstone["status"] == "tobedeleted"
    assert tombstone["user"]["sourcedId"] == roster.grace.user.sourced_id
    assert tombstone["class"]["sourcedId"] == roster.course.sourced_id
    assert all(e["dateLastModified"] > stamp for e in delta)
    assert [e["sourcedId"] for e in delta if e["status"] == "tobedeleted"] == [dropped]
    # Without a dateLastModified filter no tombstone is listed.
    assert dropped not in sids(get("/enrollments"), "enrollments")
    get(f"/enrollments/{dropped}", status=404)

    classes = get("/classes", filter=f"dateLastModified>'{stamp}'").json["classes"]
    by_id = {c["sourcedId"]: c for c in classes}
    assert by_id[roster.other.sourced_id]["title"] == "Linear Algebra II"
    assert by_id[gone_id]["status"] == "tobedeleted"
    assert roster.later.sourced_id not in by_id
    assert gone_id not in sids(get("/classes"), "classes")
    # A delta can be paged and sorted like any read.
    paged = get("/classes", filter=f"dateLastModified>'{stamp}'", limit=1)
    assert paged.headers["X-Total-Count"] == str(len(classes))


def test_a_drop_through_the_service_is_tobedeleted_since_2027(get, roster):
    dropped = ids.enrollment_id(roster.course.id, roster.ada.id)
    with write_transaction(db.session):
        services.drop(roster.ada, roster.course, actor=None, now=NOW)
    delta = get("/enrollments", filter="dateLastModified>'2027-01-01T00:00:00Z'")
    found = {e["sourcedId"]: e for e in delta.json["enrollments"]}
    assert found[dropped]["status"] == "tobedeleted"
    assert found[dropped]["dateLastModified"] == "2027-01-10T12:00:00.000Z"
    # Enrolled again: no longer a tombstone, an active record with the same id.
    with write_transaction(db.session):
        services.enroll(roster.ada, roster.course, actor=None, now=NOW)
    found = {e["sourcedId"]: e for e in get(
        "/enrollments", filter="dateLastModified>'2000-01-01'").json["enrollments"]}
    assert found[dropped]["status"] == "active"


def test_deleted_users_are_tombstones_in_a_user_delta(get, roster):
    student = make_student()
    gone = student.user.sourced_id
    user = student.user
    db.session.commit()
    db.session.delete(student)
    db.session.delete(user)
    db.session.commit()
    found = {u["sourcedId"]: u for u in get(
        "/users", filter="dateLastModified>'2000-01-01T00:00:00Z'").json["users"]}
    assert found[gone]["status"] == "tobedeleted"
    assert found[roster.ada.user.sourced_id]["status"] == "active"


PATHS = ["/academicSessions", "/terms", "/orgs", "/schools", "/courses", "/classes", "/users",
         "/students", "/teachers", "/enrollments", "/enrollments?filter=dateLastModified>"
         "'2000-01-01T00:00:00Z'", "/classes?filter=dateLastModified>'2000-01-01' AND "
         "title~'a'", "/users?filter=dateLastModified>'2000-01-01'",
         "/classes/{course}/students", "/classes/{course}/teachers", "/terms/{term}/classes",
         "/courses/{code}/classes", "/users/{ada}/classes", "/schools/{school}/enrollments"]


def test_every_read_runs_the_same_statements_at_any_limit(app, client, roster, count_queries):
    for _ in range(6):
        student = make_student()
        course = make_course(term=roster.term, department=roster.dept,
                             instructor_id=roster.instructor.id)
        make_enrollment(student=student, course=course)
        make_enrollment(student=student, course=roster.course)
    db.session.commit()
    headers = bearer(access_token(client, roster.client_id, roster.secret))
    values = {"course": roster.course.sourced_id, "term": roster.term.sourced_id,
              "code": ids.course_id("CS101"), "ada": roster.ada.user.sourced_id,
              "school": school_id(app)}
    for path in PATHS:
        counts = []
        for limit in (1, 100):
            url = PREFIX + path.format(**values)
            url += ("&" if "?" in url else "?") + f"limit={limit}"
            db.session.expire_all()
            with count_queries() as q:
                response = client.get(url, headers=headers)
            assert response.status_code == 200, (url, response.get_data(as_text=True))
            counts.append(q.count)
        assert counts[0] == counts[1], (path, counts)
        assert counts[0] <= 4, (path, counts)


def test_iter_records_streams_the_same_records_as_the_rest_reads(get, roster):
    from enrollment.oneroster import records
    base = "http://localhost" + PREFIX
    for kind in records.KINDS:
        streamed = list(records.iter_records(kind, base_url=base))
        assert sorted(r["sourcedId"] for r in streamed) == sorted(
            sids(get(f"/{kind}"), kind)), kind
        assert [r["sourcedId"] for r in streamed if r["status"] == "active"] == \
            sids(get(f"/{kind}", sort="sourcedId"), kind)
    with write_transaction(db.session):
        services.drop(roster.ada, roster.course, actor=None, now=NOW)
    since = datetime(2027, 1, 1, tzinfo=UTC)
    delta = list(records.iter_records("enrollments", since=since))
    dropped = ids.enrollment_id(roster.course.id, roster.ada.id)
    assert delta[-1]["sourcedId"] == dropped and delta[-1]["status"] == "tobedeleted"
    assert delta[-1]["class"]["href"] == f"/classes/{roster.course.sourced_id}"
    assert all(r["dateLastModified"] > "2027-01-01T00:00:00.000Z" for r in delta)


@pytest.mark.parametrize(("method", "path", "status", "code"), [
    ("POST", "/classes", 405, "unsupportedoperation"),
    ("PUT", "/users/x", 405, "unsupportedoperation"),
    ("DELETE", "/enrollments/x", 405, "unsupportedoperation"),
    ("GET", "/lineItems", 404, "unknownobject"),
    ("GET", "/classes/x/y/z", 404, "unknownobject")])
def test_writes_and_unknown_paths_answer_in_the_binding_s_shape(client, roster, method, path,
                                                                status, code):
    headers = bearer(access_token(client, roster.client_id, roster.secret))
    response = client.open(PREFIX + path, method=method, headers=headers)
    assert response.status_code == status
    assert minor(response) == code
    assert client.open(PREFIX + path, method=method).status_code == 401


def test_every_field_filters_and_sorts_without_a_server_error(get, roster):
    """Each filterable field with each operator, and each as the sort: an answer or a 400."""
    from enrollment.oneroster import query, records
    values = {"moment": "2027-01-01T00:00:00Z", "flag": "true"}
    for kind in records.KINDS:
        src = records.source(kind)
        fields = (src.fields(src.rows(False)) if src.in_sql
                  else {n: records.Field(None, k) for n, k in records.PY_FIELDS[kind].items()})
        for name, spec in fields.items():
            for op in query.OPS:
                value = values.get(spec.kind, "a'b%_\\")
                escaped = value.replace("'", "''")
                response = get(f"/{kind}", status=None, filter=f"{name}{op}'{escaped}'")
                assert response.status_code in (200, 400), (kind, name, op, response.text)
                delta = get(f"/{kind}", status=None,
                            filter=f"dateLastModified>'2000-01-01' AND {name}{op}'{escaped}'")
                assert delta.status_code in (200, 400), (kind, name, op, delta.text)
            for order in ("asc", "desc"):
                response = get(f"/{kind}", status=None, sort=name, orderBy=order)
                assert response.status_code == 200, (kind, name, response.text)
