"""Seats left and waitlist room for a course, as the catalog and the course page show them."""
from __future__ import annotations

from dataclasses import dataclass

from ..models import Course


@dataclass(frozen=True)
class Availability:
    capacity: int
    enrolled: int
    waitlisted: int
    waitlist_capacity: int

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.enrolled, 0)

    @property
    def waitlist_room(self) -> int:
        return max(self.waitlist_capacity - self.waitlisted, 0)

    @property
    def state(self) -> str:
        """'open', 'few' (a fifth or less of the seats left), 'waitlist' or 'full'."""
        if self.seats_left == 0:
            return "waitlist" if self.waitlist_room else "full"
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
            return "Full"
        if self.state == "waitlist":
            return "Full · waitlist"
        return f"{self.seats_left} of {self.capacity} left"


def availability(course: Course, count) -> Availability:
    """Combine a course with its `services.SeatCount`."""
    return Availability(capacity=course.capacity, enrolled=count.enrolled,
                        waitlisted=count.waitlisted, waitlist_capacity=course.waitlist_capacity)
