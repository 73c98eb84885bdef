"""The domain model. Import models from here: `from enrollment.models import Course`."""
from .appointments import Appointment
from .catalog import DAY_LETTERS, Course, Department, Term, prerequisite_links
from .enrollments import Action, Enrollment, EnrollmentEvent, Source, Status
from .holds import Hold
from .permissions import Permission
from .reservations import Reservation, program_key
from .types import MAX_ID, parse_id
from .users import Role, Student, User, new_session_token, normalize_email

__all__ = [
    "DAY_LETTERS", "MAX_ID", "Action", "Appointment", "Course", "Department", "Enrollment", "EnrollmentEvent",
    "Hold", "Permission", "Reservation", "Role", "Source", "Status", "Student", "Term", "User",
    "new_session_token",
    "normalize_email", "parse_id", "prerequisite_links", "program_key",
]
