"""The flash messages that say exactly what an enroll or drop did."""
from __future__ import annotations

from .. import services
from ..clock import wall_clock
from ..models import Status


def enroll_message(label: str, status: Status, position: int | None) -> str:
    """What an accepted enroll did: a seat, or a place on the waitlist."""
    if status == Status.WAITLISTED:
        return (f"{label} is full: you joined the waitlist at position {position}. "
                "The first eligible student on the waitlist gets the next free seat.")
    return f"You are enrolled in {label}."


def already_message(label: str, status: Status, position: int | None) -> str:
    """A repeated enroll (a double click, a refresh): what the student already has."""
    if status == Status.WAITLISTED:
        return f"You are already on the waitlist for {label}, at position {position}."
    return f"You are already enrolled in {label}."


def drop_message(label: str, previous: Status, promoted: int, offered: int = 0) -> str:
    """What an accepted drop did, and whether the seat went to someone on the waitlist."""
    if previous == Status.WAITLISTED:
        return f"You left the waitlist for {label}."
    if previous == Status.OFFERED:
        message = f"You declined the seat offered in {label}."
    else:
        message = f"You dropped {label}."
    if promoted:
        message += " Your seat went to the next student on the waitlist."
    elif offered:
        message += " The seat is offered to the next student on the waitlist."
    return message


def swap_message(label: str, given: str, result: services.SwapResult) -> str:
    """What an accepted swap did: enrolled and dropped, or waiting with the swap attached."""
    if result.link.status == Status.WAITLISTED:
        return (f"{label} is full: you joined the waitlist at position "
                f"{result.link.joined_position}, with your swap attached. When you get a seat "
                f"you are enrolled in it and {given} is dropped, in one step; until then you "
                f"keep {given}.")
    return f"You swapped {given} for {label}: you are enrolled in {label}."


def together_message(done: str, courses) -> str:
    """What an enroll or drop of several courses in one request did (`done`: "enrolled in"
    or "dropped")."""
    names = [f"{c.code} {c.title}" for c in courses]
    listed = ", ".join(names[:-1]) + f" and {names[-1]}"
    return f"You {'are ' if done == 'enrolled in' else ''}{done} {listed} together."


def expired_message(label: str, outcome: services.OfferOutcome) -> str:
    """An accept or decline that came after the offer ran out."""
    return (f"Your offer of a seat in {label} expired at "
            f"{wall_clock(outcome.expired_at)}; the seat went to the next student on the "
            "waitlist. You may join the waitlist again, at the end of the line.")


def refusal_message(verb: str, label: str, exc: services.EnrollmentRefused) -> str:
    """`verb` is 'enroll in' or 'drop'; the reasons come from the rules, in their words."""
    return f"You could not {verb} {label}: {exc.message}"
