"""The admin's roster editor: /admin/course/roster/?id=N and its confirmation pages.

Every action goes through the services in one write transaction; a refusal changes nothing and
is shown on the student's row (an add: next to the add form) in staff wording.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from enrollment.database import write_transaction
from enrollment.extensions import db
from enrollment.models import Action, Course, Enrollment
from enrollment.services.reservations import set_reservation
from tests.admin_support import (  # noqa: F401
    course_form,
    events,
    links,
    staff_client_fixture,
    staff_fixture,
)
from tests.factories import NOW, at
from tests.web_helpers import complete, enroll, flashes, text


def roster_url(course, **args) -> str:
    extra = "".join(f"&{k}={v}" for k, v in args.items())
    return f"/admin/course/roster/?id={course.id}{extra}"


def action_url(op, course, student) -> str:
    return f"/admin/course/roster/{op}/?id={course.id}&student={student.id}"


def row(html: str, student) -> str:
    """The visible text of the student's row and the note row after it, if any."""
    match = re.search(rf'<tr id="student-{student.id}".*?</tr>(\s*<tr class="roster-note-row">'
                      r'.*?</tr>)?', html, re.DOTALL)
    assert match, f"no row for {student.name}"
    return text(match.group(0))


def checkboxes(html: str) -> set[str]:
    return set(re.findall(r'name="overrides"[^>]*value="(\w+)"', html)
               + re.findall(r'value="(\w+)"[^>]*name="overrides"', html))


def test_the_table_shows_statuses_positions_sources_and_counts(staff_client, make_course,
                                                               make_student):
    course = make_course(code="HIS210", capacity=3, waitlist_capacity=4)
    with write_transaction(db.session):
        set_reservation(course, "History", 1, NOW + timedelta(days=5), actor=None, now=NOW)
    ada, bob, cy, dee = (make_student(name=n) for n in ("Ada One", "Bob Two", "Cy Three",
                                                         "Dee Four"))
    old = make_student(name="Eve Five")
    enroll(ada, course)
    enroll(bob, course, staff=True)
    enroll(cy, course)   # the last seat is reserved for History: Cy waits
    enroll(dee, course)
    enroll(old, make_course())  # elsewhere, not on this roster
    other = make_student(name="Fay Six")
    enroll(other, course)
    done = make_student(name="Gus Seven")
    complete(done, course, "A-")  # a past result recorded without an actor: source import
    db.session.commit()

    html = staff_client.get(roster_url(course)).get_data(as_text=True)
    page = text(html)
    assert "Roster: HIS210" in page
    assert "2 of 3 Enrolled" in page
    assert "1 Reserved: 1 for History until" in page
    assert "3 of 4 Waitlisted" in page and "1 Completed" in page
    assert row(html, ada).startswith("Ada One") and "enrolled" in row(html, ada)
    assert "self" in row(html, ada) and "staff" in row(html, bob)
    assert row(html, cy).startswith("1 Cy Three") and "waitlisted #1" in row(html, cy)
    assert "waitlisted #2" in row(html, dee) and "waitlisted #3" in row(html, other)
    assert "completed" in row(html, done) and "A-" in row(html, done)
    assert "import" in row(html, done)
    assert "Eve Five" not in page
    # Actions by status: promote only for the waitlist, complete not for it.
    assert "Promote…" in row(html, cy) and "Complete…" not in row(html, cy)
    assert "Promote…" not in row(html, ada) and "Complete…" in row(html, ada)
    assert "Change grade…" in row(html, done) and "Remove…" in row(html, done)
    # Enrolled by name, then the waitlist in order, then completed.
    order = [m for m in re.findall(r'<tr id="student-(\d+)"', html)]
    assert order == [str(s.id) for s in (ada, bob, cy, dee, other, done)]


def test_nothing_changes_on_a_get_and_a_drop_is_confirmed(staff_client, make_course,
                                                          make_student, staff):
    course = make_course(code="BIO100", capacity=1)
    alan, grace = make_student(name="Alan Turing"), make_student(name="Grace Hopper")
    enroll(alan, course)
    enroll(grace, course)
    before, trail = links(), len(events())

    confirm = staff_client.get(action_url("drop", course, alan))
    assert confirm.status_code == 200
    html = confirm.get_data(as_text=True)
    assert "Alan Turing" in text(html) and "will be dropped from BIO100" in text(html)
    assert 'method="post"' in html and checkboxes(html) == set()
    assert links() == before and len(events()) == trail

    done = staff_client.post(action_url("drop", course, alan), data={"reason": "Left school"})
    assert done.status_code == 303
    assert links() == {(grace.id, course.id): "enrolled"}
    new = events()[trail:]
    assert [e.action for e in new] == [Action.REMOVED_BY_STAFF, Action.PROMOTED]
    assert new[0].actor_id == staff.id and "Left school" in new[0].reason
    page = staff_client.get(done.headers["Location"])
    assert flashes(page) == [f"Alan Turing ({alan.student_number}) was dropped from BIO100. "
                             f"Promoted from the waitlist: Grace Hopper "
                             f"({grace.student_number})."]


def test_a_refused_drop_is_shown_on_the_row_and_changes_nothing(app, staff_client, make_term,
                                                                make_course, make_student):
    term = make_term(drop_deadline=datetime(2027, 1, 5, tzinfo=UTC))
    course = make_course(term=term, code="ART100")
    alan = make_student(name="Alan Turing")
    enroll(alan, course)
    before, trail = links(), len(events())

    confirm = staff_client.get(action_url("drop", course, alan)).get_data(as_text=True)
    assert "The drop deadline for" in text(confirm) and checkboxes(confirm) == {"deadline"}

    refused = staff_client.post(action_url("drop", course, alan), data={})
    assert refused.status_code == 303
    html = staff_client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "Could not drop Alan Turing" in row(html, alan)
    assert "The drop deadline for" in row(html, alan) and "Nothing was changed" in row(html, alan)
    assert flashes(html) == []  # said once: on the row
    assert links() == before and len(events()) == trail
    # The note is shown once.
    assert "Could not drop" not in staff_client.get(roster_url(course)).get_data(as_text=True)

    no_reason = staff_client.post(action_url("drop", course, alan), data={"overrides": "deadline"})
    assert no_reason.status_code == 400
    assert "A reason is required when overriding a rule." in text(no_reason.get_data(as_text=True))
    assert links() == before

    done = staff_client.post(action_url("drop", course, alan),
                             data={"overrides": "deadline", "reason": "Medical leave"})
    assert done.status_code == 303 and links() == {}
    assert "Medical leave" in events()[-1].reason
    assert "Overrode: deadline." in events()[-1].reason  # the audit names the rule set aside


def test_promote_needs_a_reason_and_the_capacity_override_when_full(staff_client, make_course,
                                                                    make_student):
    course = make_course(code="CHEM1", capacity=1, waitlist_capacity=3)
    first, second = make_student(name="Marie Curie"), make_student(name="Pierre Curie")
    enroll(first, course)
    enroll(second, course)
    before, trail = links(), len(events())

    html = staff_client.get(action_url("promote", course, second)).get_data(as_text=True)
    assert "CHEM1 has no free seat" in text(html) and checkboxes(html) == {"capacity"}

    no_reason = staff_client.post(action_url("promote", course, second), data={})
    assert no_reason.status_code == 400
    assert "A reason is required to promote." in no_reason.get_data(as_text=True)

    full = staff_client.post(action_url("promote", course, second), data={"reason": "Lab"})
    assert full.status_code == 303
    page = staff_client.get(full.headers["Location"]).get_data(as_text=True)
    assert "Could not promote Pierre Curie" in row(page, second)
    assert "CHEM1 has no free seat" in row(page, second)
    assert links() == before and len(events()) == trail

    done = staff_client.post(action_url("promote", course, second),
                             data={"overrides": "capacity", "reason": "Lab space added"})
    assert done.status_code == 303
    assert links() == {(first.id, course.id): "enrolled", (second.id, course.id): "enrolled"}
    assert events()[-1].action == Action.PROMOTED and "Lab space added" in events()[-1].reason

    # An action the status does not allow: said on the row, nothing done.
    again = staff_client.post(action_url("promote", course, second), data={"reason": "x"})
    page = staff_client.get(again.headers["Location"]).get_data(as_text=True)
    assert "Could not promote Pierre Curie" in row(page, second) and "enrolled now" in page


def test_move_between_sections_is_both_or_neither(staff_client, make_term, make_course,
                                                  make_student):
    term = make_term()
    intro = make_course(term=term, code="CS100")
    old = make_course(term=term, code="CS101", capacity=1, waitlist_capacity=2)
    new = make_course(term=term, code="CS201", prerequisites=[intro])
    alan, grace = make_student(name="Alan Turing"), make_student(name="Grace Hopper")
    enroll(alan, old)
    enroll(grace, old)
    before, trail = links(), len(events())

    choose = staff_client.get(action_url("move", old, alan)).get_data(as_text=True)
    assert "CS201" in choose and "CS100" in choose and 'method="get"' in choose
    review = staff_client.get(action_url("move", old, alan) + f"&to={new.id}")
    html = review.get_data(as_text=True)
    assert "Alan Turing has not completed the prerequisite CS100." in text(html)
    assert checkboxes(html) == {"prerequisites"}

    refused = staff_client.post(action_url("move", old, alan), data={"to": new.id})
    assert refused.status_code == 303
    page = staff_client.get(refused.headers["Location"]).get_data(as_text=True)
    assert ("Could not move Alan Turing (" in row(page, alan)
            and "Alan Turing has not completed the prerequisite CS100" in row(page, alan))
    # Neither the drop (nor the promotion it caused) nor the enroll was kept.
    assert links() == before and len(events()) == trail

    for bad in ("", str(old.id), "abc", str(make_course().id)):
        db.session.commit()
        response = staff_client.post(action_url("move", old, alan), data={"to": bad})
        assert response.status_code == 400, bad
        assert ("Choose the section to move to." in response.get_data(as_text=True)
                or "Choose one of the listed sections" in response.get_data(as_text=True)), bad
    assert links() == before

    done = staff_client.post(action_url("move", old, alan), data={
        "to": new.id, "overrides": "prerequisites", "reason": "Placement test"})
    assert done.status_code == 303
    assert links() == {(alan.id, new.id): "enrolled", (grace.id, old.id): "enrolled"}
    assert [e.action for e in events()[trail:]] == [Action.REMOVED_BY_STAFF, Action.PROMOTED,
                                                    Action.ADDED_BY_STAFF]
    assert "Moved from CS101" in events()[-1].reason and "prerequisites" in events()[-1].reason


def test_mark_completed_with_a_grade(staff_client, make_course, make_student):
    course = make_course(code="MATH1")
    ada = make_student(name="Ada Lovelace")
    enroll(ada, course)
    missing = staff_client.post(action_url("complete", course, ada), data={"grade": ""})
    assert missing.status_code == 400 and "Choose a grade." in missing.get_data(as_text=True)
    wrong = staff_client.post(action_url("complete", course, ada), data={"grade": "Z"})
    assert wrong.status_code == 400 and links() == {(ada.id, course.id): "enrolled"}

    done = staff_client.post(action_url("complete", course, ada), data={"grade": "B+",
                                                                         "reason": "Final"})
    assert done.status_code == 303
    assert links() == {(ada.id, course.id): "completed"}
    assert db.session.get(Enrollment, (ada.id, course.id)).grade == "B+"
    assert events()[-1].action == Action.COMPLETED and "Grade B+" in events()[-1].reason


def _blocked_student(make_term, make_course, make_student):
    """Alan Turing: adding him to CS201 fails three rules that staff may override."""
    term = make_term()
    intro = make_course(term=term, code="CS100")
    busy = make_course(term=term, code="HIS101", credits=3, days="MW", start_time=at("09:00"),
                       end_time=at("10:00"))
    target = make_course(term=term, code="CS201", credits=3, prerequisites=[intro], days="M",
                         start_time=at("09:30"), end_time=at("10:30"))
    alan = make_student(name="Alan Turing", max_credits=3)
    enroll(alan, busy)
    return alan, target


def test_add_lists_every_failing_rule_on_the_first_save(staff_client, make_term, make_course,
                                                        make_student):
    alan, course = _blocked_student(make_term, make_course, make_student)
    before, trail = links(), len(events())

    first = staff_client.post(action_url("add", course, alan), data={})
    assert first.status_code == 409
    html = first.get_data(as_text=True)
    page = text(html)
    assert "Alan Turing has not completed the prerequisite CS100." in page
    assert "CS201 meets at the same time as HIS101" in page
    assert "CS201 would bring Alan Turing's credits this term to 6" in page
    assert checkboxes(html) == {"conflict", "prerequisites", "credit_load"}
    assert page.count("Alan Turing has not completed") == 1  # once, not in a flash too
    assert flashes(html) == []
    assert links() == before and len(events()) == trail

    ticked = {"overrides": ["conflict", "prerequisites", "credit_load"]}
    no_reason = staff_client.post(action_url("add", course, alan), data=ticked)
    assert no_reason.status_code == 400
    assert "A reason is required when overriding a rule." in no_reason.get_data(as_text=True)
    assert links() == before

    done = staff_client.post(action_url("add", course, alan),
                             data={**ticked, "reason": "Dean approved"})
    assert done.status_code == 303
    assert links()[(alan.id, course.id)] == "enrolled"
    event = events()[-1]
    assert event.action == Action.ADDED_BY_STAFF
    assert "Overrode: conflict, credit_load, prerequisites." in event.reason
    assert "Dean approved" in event.reason


def test_add_preview_search_and_waitlist(staff_client, make_course, make_student):
    course = make_course(code="ENG1", capacity=1, waitlist_capacity=2)
    seated = make_student(name="Jane Austen")
    enroll(seated, course)
    ada = make_student(name="Ada Lovelace", email="ada@example.edu", student_number="S7770001")
    db.session.commit()
    for query in ("lovelace", "ADA@", "S777"):
        html = staff_client.get(roster_url(course, q=query)).get_data(as_text=True)
        assert "Add Ada Lovelace…" in html, query
    assert "already enrolled" in staff_client.get(roster_url(course, q="austen")).get_data(
        as_text=True)
    assert "No student matches" in staff_client.get(roster_url(course, q="zzz")).get_data(
        as_text=True)

    preview = staff_client.get(action_url("add", course, ada)).get_data(as_text=True)
    assert "ENG1 is full: Ada Lovelace" in text(preview) and "position 1" in text(preview)
    assert checkboxes(preview) == {"capacity"}
    done = staff_client.post(action_url("add", course, ada), data={})
    assert done.status_code == 303 and links()[(ada.id, course.id)] == "waitlisted"
    assert "joined the waitlist of ENG1 at position 1" in flashes(
        staff_client.get(done.headers["Location"]))[0]
    # Already there: no override lifts that, nothing to confirm.
    again = staff_client.post(action_url("add", course, ada), data={})
    assert again.status_code == 400
    assert "already on the waitlist for ENG1" in again.get_data(as_text=True)
    assert 'method="post"' not in again.get_data(as_text=True).split("roster-confirm")[1]


def test_bad_requests_change_nothing(staff_client, make_course, make_student):
    course = make_course()
    alan = make_student(name="Alan Turing")
    db.session.commit()
    assert staff_client.get(f"/admin/course/roster/?id={course.id + 100}").status_code == 404
    assert staff_client.get("/admin/course/roster/?id=abc").status_code == 400
    assert staff_client.get(f"/admin/course/roster/?id={course.id}&q=a%00b").status_code == 400
    assert staff_client.get(f"/admin/course/roster/nope/?id={course.id}").status_code == 404
    missing = staff_client.post(f"/admin/course/roster/drop/?id={course.id}&student=abc")
    assert missing.status_code == 303
    gone = staff_client.post(action_url("drop", course, alan), data={})
    page = staff_client.get(gone.headers["Location"]).get_data(as_text=True)
    assert "Could not drop Alan Turing" in page and "not on this roster" in page
    long = staff_client.post(action_url("add", course, alan), data={"reason": "x" * 501})
    assert long.status_code == 400
    bogus = staff_client.post(action_url("add", course, alan), data={"overrides": "everything",
                                                                     "reason": "x"})
    assert bogus.status_code == 400 and "is not a valid choice" in bogus.get_data(as_text=True)
    assert links() == {} and events() == []


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_posts_need_the_csrf_token(staff_client, make_course, make_student):
    course = make_course()
    alan = make_student(name="Alan Turing")
    enroll(alan, course)
    refused = staff_client.post(action_url("drop", course, alan), data={})
    assert refused.status_code == 400 and links() == {(alan.id, course.id): "enrolled"}
    html = staff_client.get(action_url("drop", course, alan)).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    done = staff_client.post(action_url("drop", course, alan), data={"csrf_token": token})
    assert done.status_code == 303 and links() == {}


def test_the_course_form_no_longer_edits_the_roster(staff_client, make_course, make_student):
    course = make_course(code="PHY1")
    alan = make_student(name="Alan Turing")
    enroll(alan, course)
    html = staff_client.get(f"/admin/course/edit/?id={course.id}").get_data(as_text=True)
    assert 'name="students"' not in html and 'name="overrides"' not in html
    assert f"/admin/course/roster/?id={course.id}" in html
    assert "1 enrolled of 30" in text(html)
    # A stray students field (an old form, a crafted post) changes nothing on the roster.
    saved = staff_client.post(f"/admin/course/edit/?id={course.id}",
                              data=course_form(course, title="Physics", students=""))
    assert saved.status_code == 302
    assert links() == {(alan.id, course.id): "enrolled"}
    assert db.session.get(Course, course.id).title == "Physics"
    listing = staff_client.get("/admin/course/").get_data(as_text=True)
    assert f"/admin/course/roster/?id={course.id}" in listing


def test_the_roster_page_runs_a_fixed_number_of_queries(staff_client, make_course,
                                                        make_student, count_queries):
    course = make_course(capacity=10, waitlist_capacity=20)
    enroll(make_student(), course)
    db.session.commit()
    with count_queries() as few:
        assert staff_client.get(roster_url(course, q="student")).status_code == 200
    for _ in range(20):
        enroll(make_student(), course)
    complete(make_student(), course, "A")
    db.session.commit()
    with count_queries() as many:
        assert staff_client.get(roster_url(course, q="student")).status_code == 200
    assert many.count == few.count


def test_the_student_form_lists_every_failing_rule_on_the_first_save(staff_client, make_term,
                                                                     make_course, make_student):
    alan, course = _blocked_student(make_term, make_course, make_student)
    from tests.admin_support import student_form

    blank = staff_client.get(f"/admin/student/edit/?id={alan.id}").get_data(as_text=True)
    assert checkboxes(blank) == set()  # nothing fails yet: no override is offered
    wanted = ",".join(str(c.id) for c in [*alan.courses, course])
    first = staff_client.post(f"/admin/student/edit/?id={alan.id}",
                              data=student_form(alan, courses=wanted))
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    assert checkboxes(html) == {"conflict", "prerequisites", "credit_load"}
    assert text(html).count("Alan Turing has not completed the prerequisite CS100.") == 1
    assert flashes(html) == ["Nothing was saved. Check Courses below."]
    done = staff_client.post(f"/admin/student/edit/?id={alan.id}", data={
        **student_form(alan, courses=wanted),
        "overrides": ["conflict", "prerequisites", "credit_load"], "reason": "Dean approved"})
    assert done.status_code == 302
    assert links()[(alan.id, course.id)] == "enrolled"


def test_the_student_form_drops_a_removed_course_only_once_confirmed(staff_client, make_course,
                                                                     make_student):
    from tests.admin_support import student_form

    kept, gone = make_course(code="KEEP1"), make_course(code="GONE1")
    ada = make_student(name="Ada Lovelace")
    enroll(ada, kept)
    enroll(ada, gone)
    blank = staff_client.get(f"/admin/student/edit/?id={ada.id}").get_data(as_text=True)
    assert 'name="confirm_drops"' not in blank
    stray = staff_client.post(f"/admin/student/edit/?id={ada.id}",
                              data=student_form(ada, courses=str(kept.id)))
    assert stray.status_code == 200
    assert "GONE1: removed from the list" in text(stray.get_data(as_text=True))
    assert len(links()) == 2 and len(events()) == 2
    done = staff_client.post(f"/admin/student/edit/?id={ada.id}", data={
        **student_form(ada, courses=str(kept.id)), "confirm_drops": "y"})
    assert done.status_code == 302
    assert links() == {(ada.id, kept.id): "enrolled"}
    assert events()[-1].action == Action.REMOVED_BY_STAFF


def test_the_student_edit_page_shows_statuses_and_roster_links(staff_client, make_course,
                                                               make_student, count_queries):
    full = make_course(code="FULL1", capacity=1)
    open_ = make_course(code="OPEN1")
    ada, bob = make_student(name="Ada Lovelace"), make_student(name="Bob Two")
    enroll(bob, full)
    enroll(ada, full)
    enroll(ada, open_)
    db.session.commit()
    url = f"/admin/student/edit/?id={ada.id}"
    staff_client.get(url)  # the test's session shares the request's: settle what it holds
    with count_queries() as few:
        html = staff_client.get(url).get_data(as_text=True)
    page = text(html)
    assert "FULL1" in page and "waitlisted #1" in page and "OPEN1" in page
    assert f"/admin/course/roster/?id={full.id}#student-{ada.id}" in html
    for _ in range(5):
        enroll(ada, make_course(term=open_.term))
    db.session.commit()
    staff_client.get(url)
    with count_queries() as many:
        staff_client.get(url)
    assert many.count == few.count
