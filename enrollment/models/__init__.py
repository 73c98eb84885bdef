"""The domain model. Import models from here: `from enrollment.models import Course`."""
from .api_tokens import ApiToken, Scope
from .appointments import Appointment
from .catalog import (
    DAY_LETTERS,
    OFFER_HOURS_MAX,
    Course,
    Department,
    Term,
    WaitlistMode,
    corequisite_links,
    prerequisite_links,
)
from .enrollments import SEAT_STATUSES, Action, Enrollment, EnrollmentEvent, Source, Status
from .holds import Hold
from .notifications import CourseEvent, Notification
from .oneroster import Deletion, new_sourced_id
from .oneroster_clients import OneRosterClient
from .permissions import Permission
from .reservations import Reservation, program_key
from .structures import Crosslist, WaitlistSwap, crosslist_key, crosslist_sections
from .summaries import CourseCount, EnrolledDayChange
from .types import MAX_ID, parse_id
from .users import Role, Student, User, new_session_token, normalize_email
from .webhooks import EVENT_TYPES, WebhookDelivery, WebhookEndpoint

__all__ = [
    "ApiToken", "Scope", "CourseCount", "Deletion", "EnrolledDayChange", "new_sourced_id",
    "DAY_LETTERS", "EVENT_TYPES", "MAX_ID", "Action", "Appointment", "Course", "CourseEvent",
    "Department", "Enrollment", "EnrollmentEvent", "Notification", "WebhookDelivery",
    "OneRosterClient", "WebhookEndpoint",
    "Crosslist", "Hold", "Permission", "WaitlistSwap", "crosslist_key", "crosslist_sections", "Reservation", "Role", "Source", "Status", "Student", "Term", "User",
    "new_session_token", "OFFER_HOURS_MAX", "SEAT_STATUSES", "WaitlistMode",
    "corequisite_links", "normalize_email", "parse_id", "prerequisite_links", "program_key",
]
