"""Seats left and waitlist room for a course, as the catalog and the course page show them.

The comparisons with capacity are `SeatCount`'s (services.counts), the same ones the rules
use: a page never says "seats left" where enrolling would say "full".
"""
from __future__ import annotations

from dataclasses import dataclass

from ..models import Course
from ..services import SeatCount


@dataclass(frozen=True)
class Availability:
    course: Course
    count: SeatCount
    program: str | None = None  # the viewer's: seats reserved for it are open to them

    @property
    def capacity(self) -> int:
        return self.course.capacity

    @property
    def waitlist_capacity(self) -> int:
        return self.course.waitlist_capacity

    @property
    def enrolled(self) -> int:
        return self.count.enrolled

    @property
    def offered(self) -> int:
        """Seats held for waitlisted students (offer mode): taken, like enrolled ones."""
        return self.count.offered

    @property
    def waitlisted(self) -> int:
        return self.count.waitlisted

    @property
    def seats_left(self) -> int:
        return self.count.free_seats(self.course, self.program)

    @property
    def reserved(self):
        """The reservations still held, for "5 of 30 seats reserved for …"."""
        return self.count.reserved

    @property
    def state(self) -> str:
        """'open', 'few' (a fifth or less of the seats left), 'waitlist' or 'full'."""
        if self.seats_left == 0:
            return "waitlist" if self.count.waitlist_has_room(self.course) else "full"
        if self.seats_left <= max(1, self.capacity // 5):
            return "few"
        return "open"

    @property
    def badge(self) -> str:
        """The Bootstrap colour for the seat badge: green, amber or red."""
        return {"open": "success", "few": "warning", "waitlist": "danger",
                "full": "danger"}[self.state]

    @property
    def label(self) -> str:
        if self.state == "full":
            return "Full (no waitlist)" if self.course.waitlist_capacity == 0 else "Full"
        if self.state == "waitlist":
            return "Full · waitlist"
        return f"{self.seats_left} of {self.capacity} left"
