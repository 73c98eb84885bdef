"""The roster editor of a course, in the admin: /admin/course/roster/?id=N.

One table of the course's enrolled, waitlisted (with position) and completed students, the
counts above it, and per row the actions the status allows. Every action has a confirmation
page (GET /admin/course/roster/<action>/?id=N&student=M) that says what will happen and lists
every rule that refuses it now with an override checkbox for exactly those rules; its form
POSTs (CSRF) to the same address. The change runs through the services in one
`write_transaction`; a refusal changes nothing and is shown on the student's row (an add: next
to the add form). The page runs a fixed number of statements whatever the roster's size.
"""
from __future__ import annotations

from flask import abort, flash, redirect, request, session, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from .. import clock, services
from ..catalog.queries import crosslisted_with
from ..database import write_transaction
from ..extensions import db
from ..models import Course, Enrollment, Status, Student, parse_id
from ..services.swap import swaps_waiting
from .loaders import StudentLoader
from .roster_actions import ACTIONS, Context, row_actions, who

# session key: {"<course id>": {"<student id>": message}} — a refusal waiting for its row.
NOTES = "roster_notes"
SEARCH_RESULTS = 20
MAX_QUERY = 100


def load_course(course_id: int | None) -> Course | None:
    if course_id is None:
        return None
    return db.session.scalars(
        select(Course).where(Course.id == course_id)
        .options(joinedload(Course.term), joinedload(Course.department),
                 selectinload(Course.corequisites), selectinload(Course.corequired_by))
        .execution_options(populate_existing=True)).first()


def roster_links(course_id: int) -> list[Enrollment]:
    """Every link of the course with its student and login, in one query."""
    return list(db.session.scalars(
        select(Enrollment).where(Enrollment.course_id == course_id)
        .options(joinedload(Enrollment.student).joinedload(Student.user))
        .execution_options(populate_existing=True)))


def roster_groups(links: list[Enrollment]) -> dict[str, list[tuple[int | None, Enrollment]]]:
    """Enrolled by name, the seats offered (soonest expiry first), the waitlist in order
    (with positions), completed by name."""
    def by_name(link):
        return (link.student.name.casefold(), link.student.student_number)

    enrolled = sorted((li for li in links if li.status == Status.ENROLLED), key=by_name)
    waiting = sorted((li for li in links if li.status == Status.WAITLISTED),
                     key=lambda li: li.waitlist_seq or 0)
    done = sorted((li for li in links if li.status == Status.COMPLETED), key=by_name)
    offered = sorted((li for li in links if li.status == Status.OFFERED),
                     key=lambda li: (li.offer_expires_at, *by_name(li)))
    return {"enrolled": [(None, li) for li in enrolled],
            "offered": [(None, li) for li in offered],
            "waitlisted": list(enumerate(waiting, start=1)),
            "completed": [(None, li) for li in done]}


def _note(course_id: int, student_id: int, message: str) -> None:
    notes = session.get(NOTES) or {}
    notes.setdefault(str(course_id), {})[str(student_id)] = message
    session[NOTES] = notes


def _pop_notes(course_id: int) -> dict[int, str]:
    notes = session.get(NOTES) or {}
    mine = notes.pop(str(course_id), None)
    if mine is None:
        return {}
    session[NOTES] = notes
    return {int(k): v for k, v in mine.items()}


class RosterEditorMixin:
    """For the course view: the roster editor's pages, staff only like the rest of the view."""

    def _course_or_404(self) -> Course:
        course = load_course(parse_id(request.args.get("id")))
        if course is None:
            abort(404, description="There is no such course.")
        return course

    def roster_url(self, course_id: int, student_id: int | None = None, **args) -> str:
        anchor = f"#student-{student_id}" if student_id else ""
        return url_for(".roster_view", id=course_id, **args) + anchor

    @expose("/roster/")
    def roster_view(self):
        course = self._course_or_404()
        now = clock.now()
        query = (request.args.get("q") or "").strip()[:MAX_QUERY]
        links = roster_links(course.id)
        seats = services.seat_count(course.id, now=now)
        found = (StudentLoader("students").get_list(query, limit=SEARCH_RESULTS)
                 if query else [])
        on_roster = {li.student_id: li.status for li in links}
        return self.render(
            "admin/roster/editor.html", course=course, seats=seats,
            groups=roster_groups(links), notes=_pop_notes(course.id), query=query,
            found=found, on_roster=on_roster, row_actions=row_actions, now=now,
            swaps=swaps_waiting(course.id),
            crosslisted=crosslisted_with(course) if seats.pool is not None else [],
            completed=sum(1 for li in links if li.status == Status.COMPLETED))

    @expose("/roster/<op>/", methods=("GET", "POST"))
    def roster_action_view(self, op):
        action = ACTIONS.get(op)
        if action is None:
            abort(404)
        course = self._course_or_404()
        student_id = parse_id(request.args.get("student"))
        student = None if student_id is None else db.session.scalars(
            select(Student).where(Student.id == student_id)
            .options(joinedload(Student.user))).first()
        if student is None:
            flash("Choose a student from the roster or the search first.", "warning")
            return redirect(self.roster_url(course.id), code=303)
        link = db.session.get(Enrollment, (student.id, course.id), populate_existing=True)
        if op != "add" and (link is None or link.status not in action.statuses):
            state = "not on this roster" if link is None else str(link.status)
            _note(course.id, student.id, f"Could not {action.verb} {who(student)}: they are "
                                         f"{state} now.")
            return redirect(self.roster_url(course.id, student.id), code=303)
        posted = request.method == "POST"
        form = action.form() if posted else action.form(formdata=None)
        now = clock.now()
        sections = self._sections(course, now) if op == "move" else []
        target, target_error = self._target(form, course, sections) if op == "move" else (None,
                                                                                           None)
        ctx = Context(course, student, link, current_user._get_current_object(), now, target)
        plan = action.plan(ctx)
        if posted:
            valid = form.validate()
            if target_error:
                form.to.errors = [*form.to.errors, target_error]
                valid = False
            if valid and not plan.blocked:
                return self._run(op, ctx, form, form.ticked() & plan.offered)
        # Checkboxes for exactly the rules failing now (and any ticked ones that still apply).
        form.offer(plan.offered)
        return self.render("admin/roster/confirm.html", action=action, op=op, course=course,
                           student=student, link=link, plan=plan, form=form,
                           sections=sections), 400 if posted else 200

    def _run(self, op: str, ctx: Context, form, override):
        action = ACTIONS[op]
        course_id, student_id, label = ctx.course.id, ctx.student.id, who(ctx.student)
        try:
            with write_transaction(db.session):
                message = action.run(ctx, form, override)
        except services.EnrollmentRefused as exc:
            if op == "add":
                # Next to the add form: the page again, with every rule failing now (listed
                # once, there; the refusal itself only says that nothing changed).
                ctx = Context(load_course(course_id), db.session.get(Student, student_id),
                              None, ctx.actor, ctx.now)
                plan = action.plan(ctx)
                form.offer(plan.offered)
                return self.render("admin/roster/confirm.html", action=action, op="add",
                                   course=ctx.course, student=ctx.student, link=None, plan=plan,
                                   form=form, sections=[],
                                   refused=f"Nothing was changed: {label} was not added."
                                   + ("" if plan.refusals else f" {exc.message}")), 409
            hint = (f" To override ({', '.join(sorted(o.label for o in exc.overrides))}), "
                    f"open {action.button}… again and give a reason." if exc.overrides else "")
            _note(course_id, student_id,
                  f"Could not {action.verb} {label}: {exc.message} Nothing was changed.{hint}")
            return redirect(self.roster_url(course_id, student_id), code=303)
        flash(message, "success")
        return redirect(self.roster_url(course_id, student_id), code=303)

    @staticmethod
    def _sections(course: Course, now) -> list[tuple[Course, object]]:
        """The term's other courses with their seat counts (two queries)."""
        others = list(db.session.scalars(
            select(Course).where(Course.term_id == course.term_id, Course.id != course.id)
            .options(joinedload(Course.term)).order_by(Course.code)))
        counts = services.seat_counts([c.id for c in others], now=now)
        return [(c, counts[c.id]) for c in others]

    @staticmethod
    def _target(form, course: Course, sections) -> tuple[Course | None, str | None]:
        """The chosen section of a move form and, when it cannot be one, why."""
        form.to.choices = [("", "Choose a section")] + [
            (str(c.id), f"{c.code} {c.title} · {s.enrolled}/{c.capacity} enrolled, "
                        f"{s.waitlisted}/{c.waitlist_capacity} waiting") for c, s in sections]
        raw = request.values.get("to")
        if not raw:
            return None, None
        chosen = parse_id(raw)
        target = next((c for c, _ in sections if c.id == chosen), None)
        if target is None:
            return None, (f"Choose one of the listed sections of {course.term.code} "
                          f"(not {course.code} itself).")
        form.to.data = str(target.id)
        return target, None
