"""The enrollments list: filters, search, the drop/promote/move/complete bulk actions."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask_admin.tools import iterencode

from enrollment import services
from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import Action, Source
from tests.admin_support import events, links, staff_client_fixture, staff_fixture  # noqa: F401
from tests.factories import NOW
from tests.web_helpers import flashes


def _enroll(student, course, staff):
    with write_transaction(db.session):
        services.enroll(student, course, actor=staff, now=NOW, source=Source.STAFF)


def _key(student, course):
    return iterencode([student.id, course.id])


@pytest.fixture
def roster(make_course, make_student, staff):
    course = make_course(code="BIO100", capacity=1, waitlist_capacity=5)
    first = make_student(name="Alice Enrolled", student_number="S1000001")
    second = make_student(name="Bob Waiting", student_number="S1000002")
    db.session.commit()
    _enroll(first, course, staff)
    _enroll(second, course, staff)
    return course, first, second


def test_list_filters_and_search(staff_client, roster, make_course, make_student, staff):
    course, first, second = roster
    other = make_course(code="ART200")
    db.session.commit()
    _enroll(make_student(name="Carol Art"), other, staff)
    page = staff_client.get("/admin/enrollment/").get_data(as_text=True)
    assert "Alice Enrolled" in page and "Carol Art" in page
    assert re.search(r"waitlisted\s*</td>\s*<td[^>]*>\s*1\s*</td>", page)  # Bob's position
    searched = staff_client.get("/admin/enrollment/?search=S1000002").get_data(as_text=True)
    assert "Bob Waiting" in searched and "Alice Enrolled" not in searched
    by_email = staff_client.get(f"/admin/enrollment/?search={first.email}").get_data(as_text=True)
    assert "Alice Enrolled" in by_email and "Bob Waiting" not in by_email
    # Filter names: each filter's index is in the page; find the course-code "equals" one.
    html = staff_client.get("/admin/enrollment/").get_data(as_text=True)
    assert "Course" in html and "Term" in html and "Department" in html and "Status" in html
    for column in ["course_code", "status", "course_term_code", "course_department_code"]:
        assert staff_client.get(f"/admin/enrollment/?flt1_{column}_equals=x").status_code == 200


def test_status_filters_by_the_stored_word_and_refuse_unknown_ones(staff_client, roster):
    def names(query):
        page = staff_client.get(f"/admin/enrollment/?{query}")
        assert page.status_code == 200, query
        html = page.get_data(as_text=True)
        return {n for n in ("Alice Enrolled", "Bob Waiting") if n in html}, flashes(html)

    assert names("flt0_status_equals=waitlisted") == ({"Bob Waiting"}, [])
    assert names("flt0_status_not_equal=waitlisted") == ({"Alice Enrolled"}, [])
    assert names("flt0_status_in_list=enrolled,waitlisted")[0] == {"Alice Enrolled",
                                                                   "Bob Waiting"}
    assert names("flt0_source_equals=staff")[0] == {"Alice Enrolled", "Bob Waiting"}
    shown, messages = names("flt0_status_equals=WAITLISTED")
    assert shown == {"Alice Enrolled", "Bob Waiting"}
    assert any("Invalid Filter Value" in m for m in messages)


def test_filter_names_are_unique_in_every_view(app):
    # Named filter URLs (?flt0_status_equals=...): two filters with one name would clash.
    for view in app.extensions["admin"][0]._views:
        if getattr(view, "_filters", None):
            assert len(view._filter_args) == len(view._filters), view.endpoint


def test_list_query_count_does_not_grow(staff_client, roster, make_course, make_student, staff,
                                        count_queries):
    with count_queries() as few:
        staff_client.get("/admin/enrollment/")
    for _ in range(6):
        course = make_course()
        db.session.commit()
        _enroll(make_student(), course, staff)
    with count_queries() as many:
        staff_client.get("/admin/enrollment/")
    assert many.count == few.count


def test_delete_is_a_staff_drop_that_promotes(staff_client, roster):
    course, first, second = roster
    response = staff_client.post("/admin/enrollment/delete/", data={"id": _key(first, course)})
    assert response.status_code == 302
    assert links() == {(second.id, course.id): "enrolled"}
    assert [e.action for e in events()][-2:] == [Action.REMOVED_BY_STAFF, Action.PROMOTED]


def test_bulk_drop_after_the_deadline_needs_the_override(app, staff_client, roster):
    course, first, second = roster
    app.config["FIXED_NOW"] = datetime(2027, 3, 1, tzinfo=UTC)
    ids = [_key(first, course), _key(second, course)]
    page = staff_client.post("/admin/enrollment/bulk/drop/", data={"rowid": ids},
                             follow_redirects=True).get_data(as_text=True)
    assert any("2 of 2 not done" in m and "drop deadline" in m for m in flashes(page))
    assert len(links()) == 2
    page = staff_client.post("/admin/enrollment/bulk/drop/", data={
        "rowid": ids, "overrides": "deadline", "reason": "Medical leave"},
        follow_redirects=True).get_data(as_text=True)
    assert any("2 of 2 done" in m for m in flashes(page))
    assert links() == {}


def test_bulk_promote_needs_a_reason_and_capacity_override(staff_client, roster):
    course, first, second = roster
    ids = [_key(second, course)]
    assert staff_client.post("/admin/enrollment/bulk/promote/",
                             data={"rowid": ids}).status_code == 400
    page = staff_client.post("/admin/enrollment/bulk/promote/", data={
        "rowid": ids, "reason": "Advisor"}, follow_redirects=True).get_data(as_text=True)
    assert any("1 of 1 not done" in m for m in flashes(page))
    page = staff_client.post("/admin/enrollment/bulk/promote/", data={
        "rowid": ids, "reason": "Advisor", "overrides": "capacity"},
        follow_redirects=True).get_data(as_text=True)
    assert any("1 of 1 done (1 promoted)" in m for m in flashes(page))
    assert links()[(second.id, course.id)] == "enrolled"


def test_bulk_move_and_complete(staff_client, roster, make_course):
    course, first, second = roster
    target = make_course(code="BIO101", term=course.term)
    db.session.commit()
    page = staff_client.post("/admin/enrollment/action/", data={
        "action": "move", "rowid": [_key(first, course)]}).get_data(as_text=True)
    assert "Move to section" in page and "Alice Enrolled" in page
    page = staff_client.post("/admin/enrollment/bulk/move/", data={
        "rowid": [_key(first, course)], "course": target.id},
        follow_redirects=True).get_data(as_text=True)
    assert any("1 of 1 done" in m for m in flashes(page))
    assert links() == {(first.id, target.id): "enrolled", (second.id, course.id): "enrolled"}

    page = staff_client.post("/admin/enrollment/bulk/complete/", data={
        "rowid": [_key(first, target)], "grade": ""}).get_data(as_text=True)
    assert "Choose a grade" in page
    staff_client.post("/admin/enrollment/bulk/complete/", data={
        "rowid": [_key(first, target)], "grade": "A-"})
    assert links()[(first.id, target.id)] == "completed"


def test_rows_cannot_be_created_or_edited_directly(staff_client, roster):
    course, first, _ = roster
    assert staff_client.get("/admin/enrollment/new/").status_code == 302
    assert staff_client.get(f"/admin/enrollment/edit/?id={_key(first, course)}").status_code == 302
    assert staff_client.post("/admin/enrollment/new/", data={"status": "completed"}
                             ).status_code == 302
    assert links()[(first.id, course.id)] == "enrolled"


def test_bad_keys_are_ignored(staff_client, roster):
    response = staff_client.post("/admin/enrollment/delete/", data={"id": "x,y"})
    assert response.status_code == 302
    response = staff_client.post("/admin/enrollment/action/", data={
        "action": "drop", "rowid": ["1", "a,b", "99999999999,1"]})
    assert response.status_code == 302
