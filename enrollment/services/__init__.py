"""The rules engine: every decision about the `enrollments` table lives in this package.

Views, the admin, the CLI and the importer call these functions inside
`enrollment.database.write_transaction`; the functions take the actor, the student, the
course and the time as arguments, flush, and never commit.

Where is what: eligibility.py (the rules and their registry), facts.py (what the rules
look at, read in one statement), errors.py (refusals, overrides,
the reason rule), enroll.py, drop.py, waitlist.py (promotion), staff.py (promote, move,
complete, capacity), swap.py (the conditional swap), batch.py (many at once), permissions.py (instructor permissions),
locking.py, counts.py (seats), audit.py. Around the rules: outbox.py (events to messages and
webhook calls, leased and retried), mail.py (what each event says, SMTP), course_changes.py
(a course's time or room changed), periodic.py (the jobs of `flask tick` and `flask worker`).
"""
from ..database import write_transaction
from ..models import Source, Status
from .audit import history_for_course, history_for_student
from .batch import enroll_many
from .counts import SeatCount, seat_count, seat_counts, waitlist_position, waitlist_positions
from .drop import DropResult, courses_needing, drop, drop_together
from .eligibility import (
    ENROLL_OVERRIDES,
    IMPORT_OVERRIDES,
    PROMOTION_OVERRIDES,
    enrollment_blockers,
    enrollment_outlook,
)
from .enroll import enroll, enroll_together, together_courses
from .errors import REASON_REQUIRED, EnrollmentRefused, Override, Refusal, require_reason
from .holds import blocking_holds, clear_hold, place_hold
from .locking import NotInWriteTransaction, lock_course, lock_course_for
from .offers import OfferOutcome, accept_offer, decline_offer
from .permissions import grant_permission, revoke_permission
from .staff import GRADES, complete, move, promote, set_capacity
from .swap import SwapResult, swap, swap_of
from .waitlist import Promotions

__all__ = [
    "ENROLL_OVERRIDES", "GRADES", "IMPORT_OVERRIDES", "PROMOTION_OVERRIDES", "REASON_REQUIRED", "DropResult", "blocking_holds", "clear_hold", "place_hold", "EnrollmentRefused", "NotInWriteTransaction",
    "OfferOutcome", "accept_offer", "decline_offer",
    "Override", "Promotions", "Refusal", "SeatCount", "Source", "Status", "complete", "drop",
    "courses_needing", "drop_together", "enroll", "enroll_many", "enroll_together", "together_courses", "enrollment_blockers", "enrollment_outlook", "grant_permission", "revoke_permission",
    "history_for_course", "history_for_student",
    "SwapResult", "swap", "swap_of", "lock_course", "lock_course_for", "move", "promote", "require_reason", "seat_count", "seat_counts", "set_capacity", "waitlist_position",
    "waitlist_positions", "write_transaction",
]
