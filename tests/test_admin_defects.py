"""Admin defects found in review: bulk delete, bad record ids, long return addresses, refusals.

The bulk delete and the bad ids ended in a 500 on PostgreSQL (Flask-Admin compared an integer
column with the posted text); run this module on both backends.
"""
from __future__ import annotations

from urllib.parse import quote

import pytest
from flask_admin.tools import iterencode
from sqlalchemy import func, select

from enrollment.admin.bulk import MAX_ITEMS
from enrollment.admin.catalog_views import TermView
from enrollment.admin.guard import MAX_URL, form_problem, problem
from enrollment.extensions import db
from enrollment.models import Course, Department, Enrollment, Student, Term, User
from tests.admin_support import links, staff_client_fixture, staff_fixture  # noqa: F401
from tests.factories import PASSWORD
from tests.web_helpers import enroll, flashes

ONE_COLUMN_KEY_VIEWS = ["course", "student", "term", "department", "user"]


def shown(client, response) -> list[str]:
    """The messages staff read after a POST that redirects (asserting it did)."""
    assert response.status_code == 302, response.status_code
    return flashes(client.get(response.headers["Location"]))


def counts() -> dict[str, int]:
    """Rows per table."""
    db.session.commit()  # a fresh snapshot: see what the requests committed
    return {m.__tablename__: db.session.scalar(select(func.count()).select_from(m))
            for m in (User, Student, Term, Department, Course, Enrollment)}


# --------------------------------------------------------------------------------------------
# The bulk "Delete" action
# --------------------------------------------------------------------------------------------
def _deletable_and_blocked(view, make_course, make_student, make_term, make_department):
    """(model, two rows that can go, one that cannot, a piece of the reason it cannot)."""
    if view == "course":
        blocked = make_course(code="BUSY1")
        enroll(make_student(), blocked)
        return Course, [make_course(), make_course()], blocked, "BUSY1 cannot be deleted"
    if view == "student":
        blocked = make_student(name="Busy Student")
        enroll(blocked, make_course())
        return Student, [make_student(), make_student()], blocked, "Busy Student"
    if view == "term":
        blocked = make_course().term
        return Term, [make_term(), make_term()], blocked, f"{blocked.code} has 1 courses"
    if view == "department":
        blocked = make_course().department
        return (Department, [make_department(), make_department()], blocked,
                f"{blocked.code} has 1 courses")
    busy = make_student(email="busy@example.edu")
    enroll(busy, make_course())
    return (User, [make_student().user, make_student().user], busy.user,
            "busy@example.edu cannot be deleted")


@pytest.mark.config(PROPAGATE_EXCEPTIONS=False)
@pytest.mark.parametrize("view", ONE_COLUMN_KEY_VIEWS)
def test_bulk_delete_deletes_what_it_may_and_says_why_not_the_rest(
        view, staff_client, make_course, make_student, make_term, make_department):
    model, free, blocked, why = _deletable_and_blocked(view, make_course, make_student,
                                                       make_term, make_department)
    db.session.commit()
    free_ids, blocked_id = [row.id for row in free], blocked.id
    response = staff_client.post(f"/admin/{view}/action/", data={
        "action": "delete", "rowid": [str(i) for i in (*free_ids, blocked_id)]})
    done, refused = shown(staff_client, response)
    assert done == "Delete: 2 of 3 deleted."
    assert refused.startswith("Delete: 1 of 3 not deleted — ") and why in refused, refused
    db.session.expire_all()
    assert [db.session.get(model, i) for i in free_ids] == [None, None]
    assert db.session.get(model, blocked_id) is not None


@pytest.mark.config(PROPAGATE_EXCEPTIONS=False)
def test_bulk_delete_names_the_ids_that_are_not_records(staff_client, make_department):
    gone, kept = make_department(), make_department()
    db.session.commit()
    gone_id, huge = gone.id, str(2**70)
    before = counts()
    response = staff_client.post("/admin/department/action/", data={
        "action": "delete", "rowid": ["abc", "0", f"{kept.id},{kept.id}", "-3", huge,
                                      str(2**31), "999999", str(gone_id), f"0{gone_id}"]})
    assert shown(staff_client, response) == [
        "Delete: 1 of 8 deleted.",
        f"Delete: 7 of 8 not deleted — 'abc' is not a record id · '0' is not a record id · "
        f"'{kept.id},{kept.id}' is not a record id · '-3' is not a record id · "
        f"'{huge}' is not a record id · '{2**31}' is not a record id · "
        "1 of the selected records no longer exists"]
    assert counts()["departments"] == before["departments"] - 1
    db.session.expire_all()
    assert db.session.get(Department, gone_id) is None
    assert db.session.get(Department, kept.id) is not None


@pytest.mark.config(PROPAGATE_EXCEPTIONS=False)
def test_bulk_delete_with_a_nul_in_an_id_is_refused_before_anything_runs(staff_client,
                                                                       make_course):
    course = make_course()
    db.session.commit()
    before = counts()
    response = staff_client.post("/admin/course/action/", data={
        "action": "delete", "rowid": [str(course.id), f"{course.id}\x00"]})
    assert response.status_code == 400
    assert "NUL character" in response.get_data(as_text=True)
    assert counts() == before


def test_bulk_delete_of_no_rows_or_too_many_deletes_nothing(staff_client, make_department):
    department = make_department()
    db.session.commit()
    before = counts()
    nothing = staff_client.post("/admin/department/action/", data={"action": "delete"})
    assert shown(staff_client, nothing) == ["Select at least one row first."]
    too_many = staff_client.post("/admin/department/action/", data={
        "action": "delete", "rowid": [str(department.id)] + [str(n + 10_000)
                                                               for n in range(MAX_ITEMS)]})
    assert shown(staff_client, too_many) == [
        f"Select at most {MAX_ITEMS} rows at a time. Nothing was deleted."]
    assert counts() == before


def test_bulk_delete_refused_by_the_database_names_the_record(
        staff_client, make_course, make_term, monkeypatch):
    # As if a course was added between the check and the delete: the foreign key refuses.
    monkeypatch.setattr(TermView, "delete_blocker", lambda self, model: None)
    busy = make_course().term
    empty = make_term()
    db.session.commit()
    busy_id, busy_label, empty_id = busy.id, str(busy), empty.id
    response = staff_client.post("/admin/term/action/", data={
        "action": "delete", "rowid": [str(busy_id), str(empty_id)]})
    assert shown(staff_client, response) == [
        "Delete: 1 of 2 deleted.",
        f"Delete: 1 of 2 not deleted — {busy_label}: This term still has courses; delete or "
        "move them first."]
    db.session.expire_all()
    assert db.session.get(Term, busy_id) is not None and db.session.get(Term, empty_id) is None


def test_bulk_delete_of_your_own_account_is_refused(staff_client, staff, make_student):
    other = make_student().user
    db.session.commit()
    other_id = other.id
    response = staff_client.post("/admin/user/action/", data={
        "action": "delete", "rowid": [str(staff.id), str(other_id)]})
    assert shown(staff_client, response) == [
        "Delete: 1 of 2 deleted.",
        "Delete: 1 of 2 not deleted — You cannot delete your own account."]
    db.session.expire_all()
    assert db.session.get(User, staff.id) is not None and db.session.get(User, other_id) is None


def test_the_enrollment_view_still_has_no_bulk_delete(staff_client, make_course, make_student):
    student, course = make_student(), make_course()
    enroll(student, course)
    db.session.commit()
    before = links()
    offered = staff_client.get("/admin/course/").get_data(as_text=True)
    assert 'data-model-action="delete"' in offered
    page = staff_client.get("/admin/enrollment/").get_data(as_text=True)
    assert 'data-model-action="drop"' in page
    assert 'data-model-action="delete"' not in page
    response = staff_client.post("/admin/enrollment/action/", data={
        "action": "delete", "rowid": iterencode([student.id, course.id])})
    assert response.status_code == 302
    assert links() == before


# --------------------------------------------------------------------------------------------
# Bad record ids on the single delete and the edit page
# --------------------------------------------------------------------------------------------
@pytest.fixture
def two_of_each(make_course, make_student, staff):
    """Rows 1 and 2 in every table, so that "1,2" names two real records."""
    for _ in range(2):
        enroll(make_student(), make_course())
    db.session.commit()


@pytest.mark.config(PROPAGATE_EXCEPTIONS=False)
@pytest.mark.parametrize("view", [*ONE_COLUMN_KEY_VIEWS, "enrollment"])
@pytest.mark.parametrize("bad, reason", [("\x00", "NUL character"), ("1,\x002", "NUL character"),
                                         (str(2**70), "too large"),
                                         (str(2**31), "too large"),
                                         (f"1,{2**31}", "too large")])
def test_single_delete_of_a_nul_or_huge_id_is_a_400_that_says_why(view, bad, reason,
                                                                   staff_client, two_of_each):
    before = counts()
    response = staff_client.post(f"/admin/{view}/delete/", data={"id": bad})
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)
    assert counts() == before


@pytest.mark.config(PROPAGATE_EXCEPTIONS=False)
@pytest.mark.parametrize("view", ONE_COLUMN_KEY_VIEWS)
def test_an_id_that_is_no_record_id_finds_no_record(view, staff_client, two_of_each):
    before = counts()
    for bad in ("abc", "1,2", "0", "-1", "2,x"):
        refused = staff_client.post(f"/admin/{view}/delete/", data={"id": bad})
        assert shown(staff_client, refused) == ["Record does not exist."], bad
    assert counts() == before
    # A list of ids is only a key on the enrollment view; the edit page needs one record.
    edit = staff_client.get(f"/admin/{view}/edit/?id=1,2")
    assert shown(staff_client, edit) == ["Record does not exist."]
    assert staff_client.get(f"/admin/{view}/edit/?id=1").status_code == 200


# --------------------------------------------------------------------------------------------
# The return address
# --------------------------------------------------------------------------------------------
@pytest.mark.config(PROPAGATE_EXCEPTIONS=False)
def test_a_return_address_longer_than_the_bound_is_refused(staff_client, make_course):
    course = make_course()
    db.session.commit()
    long_url = "/admin/course/?search=" + "x" * MAX_URL
    page = staff_client.get(f"/admin/course/edit/?id={course.id}&url={quote(long_url)}")
    assert page.status_code == 400
    assert f"longer than {MAX_URL} characters" in page.get_data(as_text=True)
    refused = staff_client.post("/admin/course/delete/", data={"id": course.id, "url": long_url})
    assert refused.status_code == 400 and "Location" not in refused.headers
    db.session.expire_all()
    assert db.session.get(Course, course.id) is not None
    fits = "/admin/course/?search=" + "x" * (MAX_URL - len("/admin/course/?search="))
    edit = staff_client.get(f"/admin/course/edit/?id={course.id}&url={quote(fits)}")
    assert edit.status_code == 200
    deleted = staff_client.post("/admin/course/delete/", data={"id": course.id, "url": fits})
    assert deleted.status_code == 302 and deleted.headers["Location"].endswith(fits)


@pytest.mark.parametrize("key, value", [
    ("url", "/" * (MAX_URL + 1)), ("url", "/admin/\n"), ("rowid", "3,\x007"), ("id", "\x00"),
    ("id", str(2**31)), ("id", f"3,{2**70}"),
])
def test_the_guard_refuses_posted(key, value):
    assert form_problem(key, value)
    assert problem(key, value)  # and the same in a query string


@pytest.mark.parametrize("key, value", [
    ("url", "/" * MAX_URL), ("rowid", "3,7"), ("rowid", "junk"), ("rowid", str(2**70)),
    ("id", "abc"), ("id", "1,2"), ("id", "-1"),
])
def test_the_guard_leaves_other_posted_ids_to_the_views(key, value):
    assert form_problem(key, value) is None


# --------------------------------------------------------------------------------------------
# One message per outcome; refusals are domain errors
# --------------------------------------------------------------------------------------------
def _user_form(user, **changes) -> dict:
    data = {"email": user.email, "name": user.name, "role": user.role.value, "active": "y",
            "new_password": ""}
    data.update(changes)
    return {k: v for k, v in data.items() if v != "" or k == "new_password"}


def test_locking_yourself_out_is_one_message_and_saves_nothing(staff_client, staff):
    response = staff_client.post(f"/admin/user/edit/?id={staff.id}", data=_user_form(
        staff, active="", name="Renamed", new_password="another-secret-77"))
    assert response.status_code == 200
    assert flashes(response) == [
        "You cannot remove your own staff role or deactivate yourself."]
    db.session.expire_all()
    me = db.session.get(User, staff.id)
    assert me.active and me.name != "Renamed" and me.check_password(PASSWORD)


@pytest.mark.config(FLASK_ADMIN_RAISE_ON_VIEW_EXCEPTION=True)
def test_a_programming_error_in_a_user_save_is_not_shown_as_a_refusal(
        staff_client, make_student, monkeypatch):
    user = make_student().user
    db.session.commit()

    def broken(self, password):
        raise ValueError("internal detail")

    monkeypatch.setattr(User, "set_password", broken)
    with pytest.raises(ValueError, match="internal detail"):
        staff_client.post(f"/admin/user/edit/?id={user.id}",
                          data=_user_form(user, new_password="another-secret-77"))


def test_a_plain_form_says_what_to_fix_and_one_thing_when_saved(staff_client):
    invalid = staff_client.post("/admin/department/new/", data={"code": "HIS", "name": ""})
    assert invalid.status_code == 200
    assert flashes(invalid) == ["Nothing was saved. Check Name below."]
    assert counts()["departments"] == 0
    saved = staff_client.post("/admin/department/new/", data={"code": "HIS", "name": "History"})
    assert shown(staff_client, saved) == ["Record was successfully created."]
    assert counts()["departments"] == 1
