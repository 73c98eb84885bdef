"""The course catalog, the course page, and the enroll / drop actions."""
from __future__ import annotations

from functools import wraps

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from .. import clock, services
from ..auth.access import student_required
from ..database import locks_itself, write_transaction
from ..extensions import db, login_manager
from ..models import MAX_ID, Status
from ..replica import use_replica
from ..services import appointments
from . import queries
from .forms import CatalogSearchForm, CourseActionForm, page_number
from .messages import (
    already_message,
    drop_message,
    enroll_message,
    expired_message,
    refusal_message,
    swap_message,
    together_message,
)

bp = Blueprint("catalog", __name__)
bp.before_request(use_replica)  # GETs may read a replica (DATABASE_REPLICA_URL)
# Ids beyond a 32-bit integer cannot exist (PostgreSQL would refuse the query): 404 by routing.
COURSE_ID = f"<int(max={MAX_ID}):course_id>"


@bp.get("/")
def home():
    """The site starts at the catalog."""
    return redirect(url_for("catalog.index"))


@bp.get("/courses")
def index():
    """The catalog: search and filters from the query string, one page of courses with seats."""
    terms, departments = queries.filter_choices()
    form = CatalogSearchForm(request.args, terms, departments)
    chosen = form.cleaned()
    page = page_number(request.args)
    now, viewer = clock.now(), _viewer()
    pagination = queries.search_courses(
        chosen, page=page, per_page=current_app.config["CATALOG_PAGE_SIZE"], now=now,
        program=viewer.program if viewer is not None else None)
    if page > 1 and not pagination.items and pagination.total:
        # A page past the end (an old bookmark, a hand-edited URL): go to the last one.
        return redirect(_catalog_url(form, pagination.pages))
    return render_template(
        "catalog/index.html", form=form, pagination=pagination, notes=chosen.notes,
        seats=queries.availabilities(pagination.items, now=now, viewer=viewer),
        statuses=queries.viewer_statuses(viewer, pagination.items), Status=Status,
        windows={c.term_id: c.term.window_state(now) for c in pagination.items},
        page_url=lambda p: _catalog_url(form, p),
        filtered=chosen.narrowed, appointments=_upcoming_appointments(),
    )


def _viewer():
    """The logged-in student, or None (anonymous visitors, staff and instructors)."""
    if not current_user.is_authenticated or current_user.is_instructor:
        return None
    return current_user.student


def _upcoming_appointments() -> list:
    """A student's appointments still ahead ("You can register from …"), else none."""
    student = _viewer()
    return appointments.upcoming(student, clock.now()) if student is not None else []


def _catalog_url(form: CatalogSearchForm, page: int) -> str:
    return url_for("catalog.index", **form.args(page=page if page > 1 else None))


@bp.get(f"/courses/{COURSE_ID}")
def course(course_id: int):
    """A course with the viewer's status, the one action that applies, or why it does not."""
    course = queries.course_or_404(course_id, *queries.COURSE_DETAILS)
    now = clock.now()
    student = _viewer()
    seats = queries.availabilities([course], now=now, viewer=student)[course.id]
    viewer = blockers = permission = None
    completed, held, together, swap_for, swap_drops = set(), {}, [], [], None
    crosslisted = queries.crosslisted_with(course)
    if student is not None:
        viewer = queries.viewer_status(student, course)
        completed = queries.completed_codes(
            student, [c.code for c in (*course.prerequisites, *course.corequisites)])
        mine = queries.term_links(student, course)
        held = {c.id: mine[c.id][1] for c in course.corequisites if c.id in mine}
        if viewer.status is None:
            blockers, permission = services.enrollment_outlook(student, course, now=now)
            together = _together_offer(course, blockers, held, completed)
            # A clash, or a section of the same cross-listed group: offered as a swap.
            if any(r.code in ("time_conflict", "already_enrolled") for r in blockers):
                swap_for = queries.swappable_for(course, mine,
                                                 crosslisted={c.id for c in crosslisted})
        elif viewer.status == Status.WAITLISTED:
            swap_drops = services.swap_of(student.id, course.id)
    return render_template(
        "catalog/course.html", course=course, seats=seats, viewer=viewer, blockers=blockers,
        permission=permission, Override=services.Override, held=held, together=together,
        swap_for=swap_for, swap_drops=swap_drops,
        crosslisted=crosslisted,
        completed=completed, student=student, form=CourseActionForm(), Status=Status,
        window=course.term.window_state(now), drop_open=now <= course.term.drop_deadline,
    )


def _together_offer(course, blockers, held, completed) -> list:
    """The co-requisites to offer enrolling in with the course (the form's `with` fields):
    when a missing co-requisite is all that stands in the way, those the student holds no
    link to and has not passed."""
    if not blockers or any(r.code != "missing_corequisite" for r in blockers):
        return []
    return [c for c in course.corequisites if c.id not in held and c.code not in completed]


def course_action(view):
    """Student-only POST: anonymous users are sent to log in and back to the course page."""
    guarded = student_required(view)

    @wraps(view)
    def wrapped(course_id: int):
        if not current_user.is_authenticated:
            flash(login_manager.login_message, login_manager.login_message_category)
            next_url = url_for("catalog.course", course_id=course_id)
            return redirect(url_for("auth.login", next=next_url), code=303)
        return guarded(course_id)

    return wrapped


def _back_to(course_id: int):
    return redirect(url_for("catalog.course", course_id=course_id), code=303)


def _with_ids() -> list[int]:
    """The repeatable form field `with`: ids of courses taken (or dropped) together with the
    course of the URL. A value that is no course id is a 400 (no form sends it)."""
    ids = []
    for value in request.form.getlist("with"):
        value = value.strip()
        if not value.isdigit() or int(value) > MAX_ID:
            abort(400, description="“with” takes course ids.")
        ids.append(int(value))
    return ids


def _act(course_id: int, verb: str, change, *, together: list[int] = ()) -> Response:
    """Run one enrollment change for the logged-in student and flash what happened.

    `change(student, course, label)` runs inside the write transaction and returns the
    success message (or a (message, category) pair); a refusal is flashed with every reason,
    and nothing changes. With `together` (course ids), `change` gets the list of the locked
    courses, the URL's first, instead of one course.
    """
    # The course is read once, locked, with its term, in the request's own transaction (the
    # one that loaded the user): nothing is read twice.
    label = ""
    try:
        with write_transaction(db.session):
            if together:  # every course locked in id order before anything else
                course = services.together_courses(course_id, together)
                label = f"{course[0].code} {course[0].title}"
            else:
                course = services.lock_course_for(course_id, current_user.student.id)
                label = f"{course.code} {course.title}"
            message = change(current_user.student, course, label)
    except services.EnrollmentRefused as exc:
        flash(refusal_message(verb, label, exc), "danger")
    except LookupError:  # no such course (or deleted meanwhile)
        abort(404)
    else:
        flash(*(message if isinstance(message, tuple) else (message, "success")))
    return _back_to(course_id)


@bp.post(f"/courses/{COURSE_ID}/enroll")
@locks_itself
@course_action
def enroll(course_id: int):
    """Enroll or join the waitlist; the flash says which, or every reason it was refused.

    Idempotent: a repeated POST (a double click, a refresh) is answered with the student's
    status, read without the lock, so it adds no load where everyone queues."""
    found = queries.course_and_link(current_user.student.id, course_id)
    if found is None:
        abort(404)
    label, mine = found
    if mine.status in (Status.ENROLLED, Status.WAITLISTED):
        flash(already_message(label, mine.status, mine.waitlist_position), "info")
        return _back_to(course_id)

    together = _with_ids()

    def change(student, course, label):
        if together:
            services.enroll_together(student, course, actor=current_user,
                                             now=clock.now())
            return together_message("enrolled in", course)
        link = services.enroll(student, course, actor=current_user, now=clock.now())
        return enroll_message(label, link.status, link.joined_position)

    return _act(course_id, "enroll in", change, together=together)


def _confirm_drop(course_id: int):
    """The confirmation step before a drop: what the student gives up, then the POST form."""
    course = queries.course_or_404(course_id, *queries.COURSE_DETAILS)
    viewer = queries.viewer_status(current_user.student, course)
    now = clock.now()
    if viewer.status not in (Status.ENROLLED, Status.WAITLISTED) or (
            now > course.term.drop_deadline):
        return _back_to(course_id)  # the course page says why there is nothing to confirm
    seats = queries.availabilities([course], now=now, viewer=current_user.student)[course.id]
    # The courses that need this one (co-requisites): the page offers dropping them with it.
    needing = (services.courses_needing(current_user.student, course)
               if viewer.status == Status.ENROLLED else [])
    return render_template("catalog/confirm_drop.html", course=course, viewer=viewer,
                           seats=seats, form=CourseActionForm(), Status=Status,
                           window=course.term.window_state(now), needing=needing)


# One rule for both methods: GET asks first (a page that works without JavaScript), POST drops.
@bp.route(f"/courses/{COURSE_ID}/drop", methods=["GET", "POST"])
@locks_itself
@course_action
def drop(course_id: int):
    """Drop the course or leave its waitlist; the freed seat goes to the waitlist."""
    if request.method == "GET":
        return _confirm_drop(course_id)

    together = _with_ids()

    def change(student, course, label):
        if together:
            services.drop_together(student, course, actor=current_user, now=clock.now())
            return together_message("dropped", course)
        result = services.drop(student, course, actor=current_user, now=clock.now())
        return drop_message(label, result.previous_status, len(result.promoted),
                            len(result.offered))

    return _act(course_id, "drop", change, together=together)


@bp.post(f"/courses/{COURSE_ID}/swap")
@locks_itself
@course_action
def swap(course_id: int):
    """Enroll in the course and drop the course `drop` in one change, or change nothing; when
    the course is full, join its waitlist with the swap attached (dropped on promotion)."""
    value = (request.form.get("drop") or "").strip()
    if not value.isdigit() or int(value) > MAX_ID:
        abort(400, description="“drop” takes the id of a course you hold.")
    give_up_id = int(value)
    if give_up_id == course_id:
        abort(400, description="A course cannot be swapped for itself.")
    label = ""
    try:
        with write_transaction(db.session):
            result = services.swap(current_user.student, course_id, give_up_id,
                                   actor=current_user, now=clock.now())
            course, given = result.link.course, services.lock_course(give_up_id)
            label = f"{course.code} {course.title}"
            message = swap_message(label, f"{given.code} {given.title}", result)
    except services.EnrollmentRefused as exc:
        found = queries.course_and_link(current_user.student.id, course_id)
        flash(refusal_message("swap into", found[0] if found else label, exc), "danger")
    except LookupError:  # no such course (or deleted meanwhile)
        abort(404)
    else:
        flash(message, "success")
    return _back_to(course_id)


@bp.post(f"/courses/{COURSE_ID}/accept")
@locks_itself
@course_action
def accept(course_id: int):
    """Accept the seat offered to the student: they are enrolled (or told why not: the offer
    then stays until it expires)."""
    def change(student, course, label):
        outcome = services.accept_offer(student, course, actor=current_user, now=clock.now())
        if outcome.expired:
            return expired_message(label, outcome), "warning"
        return f"You accepted the offered seat: you are enrolled in {label}."

    return _act(course_id, "accept the seat in", change)


def _confirm_decline(course_id: int):
    """The confirmation step before a decline: what the student gives up, then the form."""
    course = queries.course_or_404(course_id, *queries.COURSE_DETAILS)
    viewer = queries.viewer_status(current_user.student, course)
    if viewer.status != Status.OFFERED or viewer.offer_expired:
        return _back_to(course_id)  # the course page says what the student has
    return render_template("catalog/confirm_decline.html", course=course, viewer=viewer,
                           form=CourseActionForm())


# Like drop: GET asks first (without JavaScript), POST declines.
@bp.route(f"/courses/{COURSE_ID}/decline", methods=["GET", "POST"])
@locks_itself
@course_action
def decline(course_id: int):
    """Decline the seat offered to the student: it goes to the next student on the
    waitlist; they may join the waitlist again, at the end of the line."""
    if request.method == "GET":
        return _confirm_decline(course_id)

    def change(student, course, label):
        outcome = services.decline_offer(student, course, actor=current_user, now=clock.now())
        if outcome.expired:
            return expired_message(label, outcome), "warning"
        return drop_message(label, Status.OFFERED, 0, len(outcome.offered))

    return _act(course_id, "decline the seat in", change)
