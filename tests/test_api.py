"""The JSON API /api/v1: every endpoint, the collections and their headers, the token
authorization matrix, refusals as 409 with the engine's codes, bad input, and cookies."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from enrollment.extensions import db
from enrollment.models import ApiToken, Enrollment, EnrollmentEvent, Status
from tests.api_support import bearer, make_school, make_token
from tests.factories import NOW, make_course, make_student, make_term
from tests.web_helpers import enroll


@pytest.fixture
def school(app):
    return make_school()


@pytest.fixture
def api(client, school):
    """`api(method, url, who, **kwargs)`: a request with the named token of `school`."""
    def call(method, url, who="staff", **kwargs):
        headers = bearer(school.secrets[who]) if who else {}
        return client.open(url, method=method, headers=headers, **kwargs)
    return call


def _error(response, status, code=None):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "reasons"} and error["message"]
    if code:
        assert error["code"] == code, error
    return error


def _links(response) -> dict:
    links = {}
    for part in response.headers["Link"].split(", "):
        url, rel = part.split("; ")
        links[rel.split('"')[1]] = url.strip("<>")
    return links


# --- reads ------------------------------------------------------------------------------------
def test_terms(api, school):
    response = api("GET", "/api/v1/terms", "student_read")
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 1 and body["limit"] == 50 and body["offset"] == 0
    assert body["items"] == [{"code": "2027SP", "name": "Spring 2027",
                              "enrollment_opens": "2027-01-01T00:00:00+00:00",
                              "enrollment_closes": "2027-01-31T23:59:00+00:00",
                              "drop_deadline": "2027-02-15T23:59:00+00:00"}]
    assert response.headers["X-Total-Count"] == "1"
    assert response.headers["Cache-Control"] == "no-store"


def test_courses_with_seats_and_filters(api, school):
    enroll(school.student, school.full)
    body = api("GET", "/api/v1/courses").get_json()
    assert [c["code"] for c in body["items"]] == ["CS101", "CS201", "CS301"]
    algorithms = body["items"][2]
    assert algorithms == {"id": school.full.id, "code": "CS301", "title": "Algorithms",
                          "term": "2027SP", "department": "CS", "credits": 3, "capacity": 1,
                          "enrolled": 1, "waitlisted": 0, "seats_left": 0, "days": "",
                          "start_time": None, "end_time": None, "location": "Room 1",
                          "instructor": "Dr. Test"}
    assert [c["code"] for c in api("GET", "/api/v1/courses?open=true").get_json()["items"]] \
        == ["CS101", "CS201"]
    assert [c["code"] for c in api("GET", "/api/v1/courses?q=data").get_json()["items"]] \
        == ["CS201"]
    assert api("GET", "/api/v1/courses?term=2027SP&department=CS").get_json()["total"] == 3
    other_term = make_course(code="MA101")
    db.session.commit()
    assert api("GET", "/api/v1/courses?term=2027SP").get_json()["total"] == 3
    assert api("GET", f"/api/v1/courses?term={other_term.term.code}").get_json()["total"] == 1
    error = _error(api("GET", "/api/v1/courses?term=NOPE"), 422, "invalid")
    assert "term" in error["message"]
    _error(api("GET", "/api/v1/courses?department=NOPE"), 422, "invalid")
    _error(api("GET", "/api/v1/courses?open=maybe"), 422, "invalid")


def test_pagination_headers(api, school):
    for n in range(7):
        make_course(code=f"X{n}", term=school.term, department=school.course.department)
    db.session.commit()
    response = api("GET", "/api/v1/courses?q=x&limit=3&offset=3")
    body = response.get_json()
    assert (body["total"], body["limit"], body["offset"]) == (7, 3, 3)
    assert [c["code"] for c in body["items"]] == ["X3", "X4", "X5"]
    assert response.headers["X-Total-Count"] == "7"
    links = _links(response)
    assert set(links) == {"first", "prev", "next", "last"}
    assert "offset=0" in links["first"] and "offset=0" in links["prev"]
    assert "offset=6" in links["next"] and "offset=6" in links["last"]
    assert all("q=x" in url and "limit=3" in url for url in links.values())
    last = api("GET", links["last"].replace("http://localhost", ""))
    assert [c["code"] for c in last.get_json()["items"]] == ["X6"]
    assert set(_links(last)) == {"first", "prev", "last"}
    first = _links(api("GET", "/api/v1/courses?q=x&limit=3"))
    assert set(first) == {"first", "next", "last"}


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "limit=x", "offset=-1",
                                   "offset=y", f"offset={2**40}", "limit=1e3"])
def test_bad_limit_or_offset_is_422(api, school, query):
    for url in ("/api/v1/terms", "/api/v1/courses", f"/api/v1/courses/{school.taught.id}/roster"):
        _error(api("GET", f"{url}?{query}"), 422, "invalid")


def test_limit_500_is_fine(api, school):
    assert api("GET", "/api/v1/courses?limit=500").get_json()["limit"] == 500


def test_course_detail_and_404(api, school):
    school.taught.prerequisites.append(school.course)
    db.session.commit()
    body = api("GET", f"/api/v1/courses/{school.taught.id}", "student").get_json()
    assert body["code"] == "CS201" and body["prerequisites"] == ["CS101"]
    assert body["waitlist_capacity"] == 10 and "description" in body
    _error(api("GET", "/api/v1/courses/999999"), 404, "not_found")
    _error(api("GET", f"/api/v1/courses/{2**31}"), 404, "not_found")
    _error(api("GET", "/api/v1/nothing-here"), 404, "not_found")


def test_roster_staff_and_its_instructor_only(api, school):
    enroll(school.student, school.taught)
    enroll(school.other, school.full)
    response = api("GET", f"/api/v1/courses/{school.taught.id}/roster", "instructor")
    assert response.status_code == 200
    (entry,) = response.get_json()["items"]
    assert entry["student_number"] == "S1" and entry["status"] == "enrolled"
    assert entry["email"] == "ada@example.edu" and entry["waitlist_position"] is None
    assert entry["enrolled_at"] == "2027-01-10T12:00:00+00:00"
    assert api("GET", f"/api/v1/courses/{school.full.id}/roster").status_code == 200
    _error(api("GET", f"/api/v1/courses/{school.full.id}/roster", "instructor"), 403)
    _error(api("GET", f"/api/v1/courses/{school.taught.id}/roster", "student"), 403)
    _error(api("GET", f"/api/v1/courses/{school.taught.id}/roster", "staff_read"), 403,
           "insufficient_scope")
    _error(api("GET", "/api/v1/courses/999999/roster"), 404)


def test_roster_waitlist_positions(api, school):
    enroll(school.other, school.full)
    school.full.waitlist_capacity = 5
    db.session.commit()
    enroll(school.student, school.full)
    items = api("GET", f"/api/v1/courses/{school.full.id}/roster").get_json()["items"]
    assert [(i["student_number"], i["status"], i["waitlist_position"]) for i in items] == [
        ("S2", "enrolled", None), ("S1", "waitlisted", 1)]


def test_schedule(api, school):
    enroll(school.student, school.course)
    body = api("GET", "/api/v1/students/me/schedule", "student").get_json()
    assert body["student_number"] == "S1" and body["name"] == "Ada Lovelace"
    (term,) = body["terms"]
    assert term["code"] == "2027SP" and term["credits"] == 3
    assert [(c["code"], c["status"]) for c in term["courses"]] == [("CS101", "enrolled")]
    assert api("GET", "/api/v1/students/S1/schedule", "student").status_code == 200
    assert api("GET", "/api/v1/students/S1/schedule", "staff_read").get_json() == body
    _error(api("GET", "/api/v1/students/S2/schedule", "student"), 403)
    _error(api("GET", "/api/v1/students/S1/schedule", "instructor"), 403)
    _error(api("GET", "/api/v1/students/NOPE/schedule", "staff"), 404)


# --- writes -----------------------------------------------------------------------------------
def _links_of(student):
    return {(e.course_id, e.status) for e in db.session.scalars(
        select(Enrollment).where(Enrollment.student_id == student.id))}


def test_student_token_enrolls_and_drops_itself(api, school):
    response = api("POST", f"/api/v1/courses/{school.course.id}/enrollments", "student",
                   json={})
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {"student_number": "S1", "course_id": school.course.id,
                                   "status": "enrolled", "waitlist_position": None}
    db.session.expire_all()
    assert _links_of(school.student) == {(school.course.id, Status.ENROLLED)}
    event = db.session.scalars(select(EnrollmentEvent)).one()
    assert event.actor_id == school.student.user_id and event.action.value == "enrolled"
    response = api("DELETE", f"/api/v1/courses/{school.course.id}/enrollments/me", "student")
    assert response.status_code == 200
    assert response.get_json()["previous_status"] == "enrolled"
    db.session.expire_all()
    assert _links_of(school.student) == set()


def test_student_token_acts_for_itself_only(api, school):
    url = f"/api/v1/courses/{school.course.id}/enrollments"
    _error(api("POST", url, "student", json={"student_number": "S2"}), 403)
    assert api("POST", url, "student", json={"student_number": "S1"}).status_code == 201
    _error(api("POST", url, "other", json={"override": ["capacity"], "reason": "x"}), 403)
    _error(api("DELETE", f"{url}/S1", "other"), 403)
    _error(api("DELETE", f"{url}/S1", "instructor"), 403)
    db.session.expire_all()
    assert _links_of(school.other) == set()
    assert _links_of(school.student) == {(school.course.id, Status.ENROLLED)}


def test_a_read_token_cannot_enroll(api, school):
    url = f"/api/v1/courses/{school.course.id}/enrollments"
    _error(api("POST", url, "student_read", json={}), 403, "insufficient_scope")
    _error(api("POST", url, "staff_read", json={"student_number": "S1"}), 403)
    _error(api("POST", url, "instructor", json={"student_number": "S1"}), 403)
    db.session.expire_all()
    assert _links_of(school.student) == set()


def test_refusals_are_409_with_the_engines_codes(api, school):
    url = f"/api/v1/courses/{school.full.id}/enrollments"
    enroll(school.other, school.full)
    error = _error(api("POST", url, "student", json={}), 409, "refused")
    assert [r["code"] for r in error["reasons"]] == ["course_full"]
    enroll(school.student, school.course)
    error = _error(api("POST", f"/api/v1/courses/{school.course.id}/enrollments", "student",
                       json={}), 409, "refused")
    assert [r["code"] for r in error["reasons"]] == ["already_enrolled"]
    error = _error(api("DELETE", f"/api/v1/courses/{school.taught.id}/enrollments/me",
                       "student"), 409, "refused")
    assert [r["code"] for r in error["reasons"]] == ["not_enrolled"]
    events = db.session.scalar(select(func.count()).select_from(EnrollmentEvent))
    assert events == 2  # the two setup enrolls; refusals change nothing


def test_every_reason_is_listed(api, school, app):
    enroll(school.other, school.full)
    app.config["FIXED_NOW"] = NOW + timedelta(days=30)  # past the window too
    error = _error(api("POST", f"/api/v1/courses/{school.full.id}/enrollments", "student",
                       json={}), 409)
    assert {r["code"] for r in error["reasons"]} == {"window_closed", "course_full"}


def test_staff_token_enrolls_anyone_with_overrides_and_a_reason(api, school):
    enroll(school.other, school.full)
    url = f"/api/v1/courses/{school.full.id}/enrollments"
    error = _error(api("POST", url, "staff", json={"student_number": "S1"}), 409)
    assert [r["code"] for r in error["reasons"]] == ["course_full"]
    _error(api("POST", url, "staff", json={"student_number": "S1", "override": ["capacity"]}),
           422, "invalid")
    _error(api("POST", url, "staff_enroll", json={"student_number": "S1",
                                                  "override": ["capacity"], "reason": "x"}),
           403, "insufficient_scope")
    response = api("POST", url, "staff", json={"student_number": "S1", "override": ["capacity"],
                                               "reason": "Department approval"})
    assert response.status_code == 201 and response.get_json()["status"] == "enrolled"
    event = db.session.scalars(select(EnrollmentEvent).order_by(EnrollmentEvent.id.desc())
                               ).first()
    assert event.action.value == "added_by_staff" and event.actor_id == school.staff.id
    assert "capacity" in event.reason and "Department approval" in event.reason
    _error(api("POST", url, "staff", json={"student_number": "NOPE"}), 404)
    _error(api("POST", url, "staff", json={}), 422)
    _error(api("POST", "/api/v1/courses/999999/enrollments", "staff",
               json={"student_number": "S1"}), 404)
    response = api("DELETE", f"/api/v1/courses/{school.full.id}/enrollments/S1", "staff")
    assert response.status_code == 200
    _error(api("DELETE", f"/api/v1/courses/{school.full.id}/enrollments/NOPE", "staff"), 404)


def test_staff_drop_after_the_deadline_needs_the_override(api, school, app):
    enroll(school.student, school.course)
    app.config["FIXED_NOW"] = NOW + timedelta(days=60)
    url = f"/api/v1/courses/{school.course.id}/enrollments/S1"
    error = _error(api("DELETE", url, "staff"), 409)
    assert [r["code"] for r in error["reasons"]] == ["drop_deadline_passed"]
    _error(api("DELETE", url + "?override=deadline", "staff"), 422)
    _error(api("DELETE", url + "?override=nonsense&reason=x", "staff"), 422)
    response = api("DELETE", url + "?override=deadline&reason=Medical", "staff")
    assert response.status_code == 200


def test_a_drop_promotes_the_waitlist(api, school):
    school.full.waitlist_capacity = 3
    db.session.commit()
    enroll(school.student, school.full)
    enroll(school.other, school.full)
    response = api("DELETE", f"/api/v1/courses/{school.full.id}/enrollments/me", "student")
    assert response.get_json()["promoted"] == 1
    db.session.expire_all()
    assert _links_of(school.other) == {(school.full.id, Status.ENROLLED)}


@pytest.mark.parametrize("body, status", [
    ("{not json", 400), ("[1, 2]", 422), ('"x"', 422), ('{"override": "capacity"}', 422),
    ('{"override": ["nonsense"]}', 422), ('{"student_number": 5}', 422),
    ('{"unknown": 1}', 422), ('{"reason": "' + "x" * 501 + '"}', 422),
    ('{"student_number": "S\\u0000"}', 422),
])
def test_bad_json_and_fields(api, school, body, status):
    response = api("POST", f"/api/v1/courses/{school.course.id}/enrollments", "staff",
                   data=body, content_type="application/json")
    _error(response, status)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 0


# --- tokens -----------------------------------------------------------------------------------
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer"},
                                     {"Authorization": "Bearer enr_nope"},
                                     {"Authorization": "Basic dXNlcjpwYXNz"},
                                     {"Authorization": "Bearer " + "x" * 5000}])
def test_no_or_bad_token_is_401(client, school, headers):
    for method, url in (("GET", "/api/v1/terms"), ("GET", "/api/v1/courses"),
                        ("POST", f"/api/v1/courses/{school.course.id}/enrollments"),
                        ("GET", "/api/v1/students/me/schedule")):
        response = client.open(url, method=method, headers=headers, json={})
        _error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_and_expired_tokens_are_401(api, client, school, app):
    token = db.session.scalars(select(ApiToken).where(ApiToken.name == "Student app")).one()
    token.revoked_at = NOW
    db.session.commit()
    error = _error(api("GET", "/api/v1/terms", "student"), 401)
    assert "revoked" in error["message"]
    short = make_token(school.other.user, "read", days=1)
    db.session.commit()
    assert client.get("/api/v1/terms", headers=bearer(short)).status_code == 200
    app.config["FIXED_NOW"] = NOW + timedelta(days=1)
    error = _error(client.get("/api/v1/terms", headers=bearer(short)), 401)
    assert "expired" in error["message"]


def test_an_inactive_account_is_401(api, school):
    school.student.user.active = False
    db.session.commit()
    _error(api("GET", "/api/v1/terms", "student"), 401)


def test_last_use_is_recorded(api, school):
    assert api("GET", "/api/v1/terms", "instructor").status_code == 200
    token = db.session.scalars(select(ApiToken).where(ApiToken.name == "LMS")).one()
    db.session.refresh(token)
    assert token.last_used_at == NOW


def test_only_the_hash_is_stored(school):
    secret = school.secrets["staff"]
    for token in db.session.scalars(select(ApiToken)):
        assert secret not in (token.token_hash, token.prefix, token.name, token.scopes)
    assert secret.startswith("enr_") and len(secret) > 40


# --- cookies and CSRF -------------------------------------------------------------------------
def test_a_session_cookie_does_not_authorize_the_api(make_app, login):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        school = make_school()
        client = app.test_client()
        login(school.student.user, client)
        assert client.get("/me/schedule").status_code == 200  # the cookie works on the site
        _error(client.get("/api/v1/terms"), 401)
        _error(client.post(f"/api/v1/courses/{school.course.id}/enrollments", json={}), 401)
        _error(client.delete(f"/api/v1/courses/{school.course.id}/enrollments/me"), 401)
        # With the token, no CSRF token is needed, and no cookie is set.
        response = client.post(f"/api/v1/courses/{school.course.id}/enrollments", json={},
                               headers=bearer(school.secrets["student"]))
        assert response.status_code == 201
        assert "Set-Cookie" not in response.headers
        db.session.rollback()


def test_the_api_sets_no_cookie(api, school):
    for who in ("student", None):
        response = api("GET", "/api/v1/terms", who)
        assert "Set-Cookie" not in response.headers
        assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_method_not_allowed_is_json(api, school):
    error = _error(api("PUT", "/api/v1/terms"), 405)
    assert error["code"] == "method_not_allowed"


# --- query counts -----------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["/api/v1/courses", "/api/v1/terms",
                                 "/api/v1/courses/{taught}/roster"])
def test_a_list_costs_the_same_statements_whatever_the_limit(api, school, count_queries, url):
    for n in range(12):
        course = make_course(code=f"Y{n:02d}", term=school.term,
                             department=school.course.department)
        student = make_student()
        enroll(student, course)
        enroll(student, school.taught)
        make_term()
    db.session.commit()
    url = url.format(taught=school.taught.id)
    assert api("GET", url).status_code == 200  # the token's first use is written once
    counts = []
    for limit in (2, 12):
        with count_queries() as queries:
            response = api("GET", f"{url}?limit={limit}")
        assert len(response.get_json()["items"]) == limit
        counts.append(queries.count)
    assert counts[0] == counts[1], counts


def test_too_many_requests_is_429_json(make_app):
    app = make_app(RATELIMIT_ENABLED=True, API_RATE_LIMIT="2 per minute")
    with app.app_context():
        school = make_school()
        client = app.test_client()
        headers = bearer(school.secrets["student"])
        assert [client.get("/api/v1/terms", headers=headers).status_code
                for _ in range(2)] == [200, 200]
        response = client.get("/api/v1/terms", headers=headers)
        error = _error(response, 429, "too_many_requests")
        assert "Too many requests" in error["message"]
        assert int(response.headers["Retry-After"]) >= 1
        # Another token has its own budget.
        assert client.get("/api/v1/terms", headers=bearer(school.secrets["other"])
                          ).status_code == 200
        db.session.rollback()


def test_a_database_outage_is_503_json(api, school, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from enrollment.api import tokens

    def gone(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(tokens, "token_for", gone)
    response = api("GET", "/api/v1/terms")
    _error(response, 503, "unavailable")
    assert response.headers["Retry-After"]


@pytest.mark.parametrize("url", ["/api/v1/students/S%00/schedule",
                                 "/api/v1/courses?q=a%00b", "/api/v1/courses?term=%00",
                                 "/api/v1/courses?department=%00"])
def test_a_nul_character_is_never_a_500(api, school, url):
    assert api("GET", url).status_code in (404, 422)
    assert api("DELETE", "/api/v1/courses/1/enrollments/S%00").status_code == 404
