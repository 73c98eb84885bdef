"""The domain model. Import models from here: `from enrollment.models import Course`."""
from .catalog import DAY_LETTERS, Course, Department, Term, prerequisite_links
from .enrollments import Action, Enrollment, EnrollmentEvent, Source, Status
from .types import MAX_ID, parse_id
from .users import Role, Student, User, new_session_token, normalize_email

__all__ = [
    "DAY_LETTERS", "MAX_ID", "parse_id", "Action", "Course", "Department", "Enrollment", "EnrollmentEvent", "Role",
    "Source", "Status", "Student", "Term", "User", "new_session_token", "normalize_email", "prerequisite_links",
]
