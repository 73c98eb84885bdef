"""Seat counts (reserved seats included) and waitlist positions, each in one query for any
number of courses."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import bindparam, case, func, literal, null, or_, select, union_all

from ..extensions import db
from ..models import (
    SEAT_STATUSES,
    CourseCount,
    Crosslist,
    Enrollment,
    Reservation,
    Status,
    Student,
    crosslist_sections,
    program_key,
)


@dataclass(frozen=True)
class ReservedSeats:
    """One reservation not yet released, and how many of its program are enrolled."""

    program: str
    seats: int
    release_at: datetime
    taken: int = 0  # seated (enrolled, offered) members of the program: they fill it first

    @property
    def key(self) -> str:
        return program_key(self.program)

    @property
    def unused(self) -> int:
        return max(self.seats - self.taken, 0)


@dataclass(frozen=True)
class SeatCount:
    """A course's taken seats, reserved seats and waitlist at one time; the one place that
    compares them with capacity."""

    enrolled: int = 0
    waitlisted: int = 0
    last_waitlist_seq: int = 0
    reserved: tuple[ReservedSeats, ...] = ()  # reservations still held (release time ahead)
    release_due: bool = False  # a reservation's release time has passed, not yet released
    offered: int = 0  # seats held for waitlisted students (offer mode): taken like enrolled
    offer_due: bool = False  # an offer's expiry has passed, not yet settled
    # A cross-listed section: its group's seat pool (`Crosslist.capacity`) and the seats
    # taken in the whole group; None: not cross-listed. `last_waitlist_seq` is then the
    # group's, so that the sections' waitlists make one line in arrival order.
    pool: int | None = None
    pool_taken: int = 0

    @property
    def pool_left(self) -> int | None:
        """Seats left in the group's pool (None: not cross-listed)."""
        return None if self.pool is None else max(self.pool - self.pool_taken, 0)

    @property
    def taken(self) -> int:
        """Seats taken: enrolled students and the seats offered to waitlisted ones."""
        return self.enrolled + self.offered

    def held_from(self, program: str | None) -> int:
        """Unused reserved seats that a student of `program` may not take (None: anyone)."""
        key = None if program is None else program_key(program)
        return sum(r.unused for r in self.reserved if r.key != key)

    def free_seats(self, course, program: str | None = None) -> int:
        """Seats left in `course` for a student of `program`; None: the seats open to anyone
        (0 when it is at or past its capacity, or its cross-listed group's pool is)."""
        free = max(course.capacity - self.taken - self.held_from(program), 0)
        return free if self.pool is None else min(free, self.pool_left)

    def untaken(self, course) -> int:
        """Seats not taken by anyone, reserved ones included (within the group's pool)."""
        free = max(course.capacity - self.taken, 0)
        return free if self.pool is None else min(free, self.pool_left)

    def has_seat(self, course, program: str | None = None) -> bool:
        return self.free_seats(course, program) > 0

    def waitlist_has_room(self, course) -> bool:
        return self.waitlisted < course.waitlist_capacity

    def reservation_for(self, program: str | None) -> ReservedSeats | None:
        key = program_key(program)
        return next((r for r in self.reserved if r.key == key), None)

    def after(self, status, program: str | None = None) -> SeatCount:
        """The count once one more link of `status` (enrolled, offered or waitlisted) is
        added for a student of `program`."""
        if status in SEAT_STATUSES:
            own = self.reservation_for(program)
            reserved = tuple(replace(r, taken=r.taken + 1) if r is own else r
                             for r in self.reserved)
            pooled = self.pool_taken + (self.pool is not None)
            if status == Status.OFFERED:
                return replace(self, offered=self.offered + 1, reserved=reserved,
                               pool_taken=pooled)
            return replace(self, enrolled=self.enrolled + 1, reserved=reserved,
                           pool_taken=pooled)
        return replace(self, waitlisted=self.waitlisted + 1,
                       last_waitlist_seq=self.last_waitlist_seq + 1)


def after_peer(count: SeatCount, status) -> SeatCount:
    """A cross-listed section's count once a section of its group added a link of `status`:
    a seat taken from the shared pool, or a place at the end of the shared line."""
    if status in SEAT_STATUSES:
        return replace(count, pool_taken=count.pool_taken + 1)
    return replace(count, last_waitlist_seq=count.last_waitlist_seq + 1)


def links_in(status: Status):
    """SQL aggregate: how many of the grouped `enrollments` rows have `status`: how a seat
    decision counts the links themselves, under the course lock."""
    return func.count(case((Enrollment.status == status, 1)))


# Links enrolled, offered, waitlisted and completed per course, and the seats taken (enrolled
# and offered): a subquery to outer-join on `course_id`, read from the summary the database
# keeps (`models.summaries`) — what the catalog, the reports and the dashboard show. A course
# without links may have no row here (read its counts through coalesce).
_counts = CourseCount.__table__.c
STATUS_COUNTS = (
    select(_counts.course_id, _counts.enrolled, _counts.offered,
           (_counts.enrolled + _counts.offered).label("seated"), _counts.waitlisted,
           _counts.completed)
    .subquery("status_counts")
)


def seat_count_parts(ids, shape):
    """The selects of a seat count for the courses `ids` (a bind parameter or a scalar),
    each row laid out by `shape(kind, course_id, a, b, c, program, release_at)`. Four kinds:
    'r' a reservation not yet released (a seats; program, release time);
    'c' a course's enrolled (a) and waitlisted (b) counts and its last waitlist number (c);
    'o' a course's offered seats (a) and the earliest expiry among them (release_at);
    'p' seated (enrolled or offered) students (a) per program in a course that has such a
    reservation;
    'g' a cross-listed course's group: seats taken in the group (a), the pool (b) and the
    group's last waitlist number (c).
    Read them back with `SeatRows`. The enroll path reads them with the rules' facts, in one
    round trip (`facts.load_facts`)."""
    def within(column):
        return column.in_(ids) if getattr(ids, "expanding", False) else column == ids

    reservations = select(*shape(
        literal("r"), Reservation.course_id, Reservation.seats, literal(0), literal(0),
        Reservation.program, Reservation.release_at,
    )).where(within(Reservation.course_id), Reservation.released_at.is_(None))
    totals = (
        select(*shape(literal("c"), Enrollment.course_id, links_in(Status.ENROLLED),
                      links_in(Status.WAITLISTED),
                      func.coalesce(func.max(Enrollment.waitlist_seq), 0), null(), null()))
        .where(within(Enrollment.course_id), Enrollment.status != Status.COMPLETED)
        .group_by(Enrollment.course_id)
    )
    offers = (
        select(*shape(literal("o"), Enrollment.course_id, func.count(), literal(0), literal(0),
                      null(), func.min(Enrollment.offer_expires_at)))
        .where(within(Enrollment.course_id), Enrollment.status == Status.OFFERED)
        .group_by(Enrollment.course_id)
    )
    reserving = (select(Reservation.course_id)
                 .where(within(Reservation.course_id), Reservation.released_at.is_(None)))
    by_program = (
        select(*shape(literal("p"), Enrollment.course_id, func.count(), literal(0), literal(0),
                      Student.program, null()))
        .join(Student, Student.id == Enrollment.student_id)
        .where(Enrollment.course_id.in_(reserving), Enrollment.status.in_(SEAT_STATUSES))
        .group_by(Enrollment.course_id, Student.program)
    )
    mine, peers = crosslist_sections.alias("mine"), crosslist_sections.alias("peers")
    pools = (
        select(*shape(literal("g"), mine.c.course_id,
                      func.count(case((Enrollment.status.in_(SEAT_STATUSES), 1))),
                      Crosslist.capacity, func.coalesce(func.max(Enrollment.waitlist_seq), 0),
                      null(), null()))
        .select_from(mine)
        .join(Crosslist, Crosslist.id == mine.c.crosslist_id)
        .join(peers, peers.c.crosslist_id == mine.c.crosslist_id)
        .outerjoin(Enrollment, Enrollment.course_id == peers.c.course_id)
        .where(within(mine.c.course_id))
        .group_by(mine.c.course_id, Crosslist.capacity)
    )
    return reservations, totals, offers, by_program, pools


SEAT_KINDS = frozenset("rcopg")

# Built once (these run on every enrollment change, and building a statement costs more than
# running it on a small table).
_SEAT_COUNTS = union_all(*seat_count_parts(bindparam("ids", expanding=True),
                                           lambda *columns: columns))


class SeatRows:
    """Collects the rows of `seat_count_parts` into one SeatCount per course at `now`."""

    def __init__(self, now: datetime):
        self.now = now
        self.totals: dict[int, tuple] = {}
        self.held: dict[int, list] = defaultdict(list)
        self.taken: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.due: set[int] = set()
        self.offers: dict[int, tuple[int, bool]] = {}
        self.pools: dict[int, tuple[int, int, int]] = {}

    def add(self, kind, course_id, a, b, c, program, release_at) -> None:
        if kind == "c":
            self.totals[course_id] = (a, b, c)
        elif kind == "g":
            self.pools[course_id] = (a, b, c)
        elif kind == "p":
            self.taken[course_id][program_key(program)] += a
        elif kind == "o":
            self.offers[course_id] = (a, release_at <= self.now)
        elif release_at > self.now:
            self.held[course_id].append((program, a, release_at))
        else:
            self.due.add(course_id)

    def count(self, course_id: int) -> SeatCount:
        taken = self.taken[course_id]
        enrolled, waitlisted, last_seq = self.totals.get(course_id, (0, 0, 0))
        pool_taken, pool, group_seq = self.pools.get(course_id, (0, None, 0))
        return SeatCount(
            enrolled, waitlisted, max(last_seq, group_seq),
            reserved=tuple(ReservedSeats(program, seats, release_at, taken[program_key(program)])
                           for program, seats, release_at in sorted(self.held[course_id])),
            release_due=course_id in self.due,
            offered=self.offers.get(course_id, (0, False))[0],
            offer_due=self.offers.get(course_id, (0, False))[1],
            pool=pool, pool_taken=pool_taken,
        )


def seat_counts(course_ids: Iterable[int], *, now: datetime) -> dict[int, SeatCount]:
    """Enrolled, waitlisted and reserved seats per course at `now` (missing courses count
    zero), in one query."""
    ids = list(set(course_ids))
    if not ids:
        return {}
    rows = SeatRows(now)
    for row in db.session.execute(_SEAT_COUNTS, {"ids": ids}):
        rows.add(*row)
    return {course_id: rows.count(course_id) for course_id in ids}


def seat_count(course_id: int, *, now: datetime) -> SeatCount:
    return seat_counts([course_id], now=now)[course_id]


def same_line(course_id, column=None):
    """SQL condition: `column` (default `Enrollment.course_id`) is the course `course_id` or a
    section cross-listed with it: the courses whose waitlists make one line, in arrival
    order (`waitlist_seq` runs across the group)."""
    column = Enrollment.course_id if column is None else column
    mine, peers = crosslist_sections.alias("mine"), crosslist_sections.alias("peers")
    return or_(column == course_id, column.in_(
        select(peers.c.course_id).join(mine, mine.c.crosslist_id == peers.c.crosslist_id)
        .where(mine.c.course_id == course_id)))


def waitlist_positions(course_ids: Iterable[int]) -> dict[tuple[int, int], int]:
    """{(student_id, course_id): 1-based position} for everyone waitlisted in the courses; in
    a cross-listed group, the place in the group's line."""
    ids = list(set(course_ids))
    if not ids:
        return {}
    line = func.coalesce(-crosslist_sections.c.crosslist_id, Enrollment.course_id)
    position = func.row_number().over(partition_by=line, order_by=Enrollment.waitlist_seq)
    mine, peers = crosslist_sections.alias("mine"), crosslist_sections.alias("peers")
    in_line = or_(Enrollment.course_id.in_(ids), Enrollment.course_id.in_(
        select(peers.c.course_id).join(mine, mine.c.crosslist_id == peers.c.crosslist_id)
        .where(mine.c.course_id.in_(ids))))
    rows = db.session.execute(
        select(Enrollment.student_id, Enrollment.course_id, position)
        .outerjoin(crosslist_sections, crosslist_sections.c.course_id == Enrollment.course_id)
        .where(in_line, Enrollment.status == Status.WAITLISTED)
    )
    return {(student_id, course_id): pos for student_id, course_id, pos in rows
            if course_id in ids}


def waitlist_position(enrollment: Enrollment) -> int | None:
    """The 1-based waitlist position of one link (in a cross-listed group, in the group's
    line), or None when it is not waitlisted."""
    if enrollment.status != Status.WAITLISTED:
        return None
    return db.session.scalar(
        select(func.count()).select_from(Enrollment).where(
            same_line(enrollment.course_id),
            Enrollment.status == Status.WAITLISTED,
            Enrollment.waitlist_seq <= enrollment.waitlist_seq,
        )
    )
