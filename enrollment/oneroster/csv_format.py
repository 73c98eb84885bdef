"""The OneRoster CSV binding (1EdTech OneRoster 1.1 and 1.2): file names, the exact header rows,
the manifest, the enumerations, and how cells are written (lists, booleans, dates).

A bundle is a zip of `manifest.csv` (`propertyName,value`: `manifest.version`,
`oneroster.version`, and a `file.<name>` row for every file of the binding, `bulk`, `delta` or
`absent`) and one CSV file per record type. The standard columns come first, in the binding's
order; extension columns follow, named `metadata.<name>` (the binding's way to carry what it has
no field for: here a term's code and enrollment window, a class's credits, seats and meeting
times, a student's program, an enrollment's completion and grade).
"""
from __future__ import annotations

import re
from datetime import UTC, date, datetime

VERSIONS = ("1.1", "1.2")
MANIFEST = "manifest.csv"
MANIFEST_HEADER = ("propertyName", "value")
MANIFEST_VERSION = "1.0"
MODES = ("bulk", "delta", "absent")

_SESSIONS = ("sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,"
             "schoolYear")
_ORGS = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId"
_COURSES = ("sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,"
            "orgSourcedId,subjects,subjectCodes")
_CLASSES = ("sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,"
            "location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods")
_ENROLLMENTS = ("sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,"
                "role,primary,beginDate,endDate")
_USERS_11 = ("sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,"
             "givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,"
             "password")
_USERS_12 = ("sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,"
             "middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,"
             "userMasterIdentifier,resourceSourcedIds,preferredGivenName,preferredMiddleName,"
             "preferredFamilyName,primaryOrgSourcedId,pronouns")
_ROLES_12 = ("sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,"
             "orgSourcedId,userProfileSourcedId")


def _columns(text: str) -> tuple[str, ...]:
    return tuple(text.split(","))


# The standard columns of the files this application reads and writes, per version.
HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    "1.1": {"academicSessions": _columns(_SESSIONS), "orgs": _columns(_ORGS),
            "courses": _columns(_COURSES), "classes": _columns(_CLASSES),
            "users": _columns(_USERS_11), "enrollments": _columns(_ENROLLMENTS)},
    "1.2": {"academicSessions": _columns(_SESSIONS), "orgs": _columns(_ORGS),
            "courses": _columns(_COURSES), "classes": _columns(_CLASSES),
            "users": _columns(_USERS_12), "roles": _columns(_ROLES_12),
            "enrollments": _columns(_ENROLLMENTS)},
}

# Every file of each binding, in the manifest's order (the ones not written are `absent`).
MANIFEST_FILES: dict[str, tuple[str, ...]] = {
    "1.1": ("academicSessions", "categories", "classes", "classResources", "courses",
            "courseResources", "demographics", "enrollments", "lineItems", "orgs", "resources",
            "results", "users"),
    "1.2": ("academicSessions", "categories", "classes", "classResources", "courses",
            "courseResources", "demographics", "enrollments", "lineItemLearningObjectiveIds",
            "lineItems", "lineItemScoreScales", "orgs", "resources", "resultLearningObjectiveIds",
            "results", "resultScoreScales", "roles", "scoreScales", "userProfiles",
            "userResources", "users"),
}

# The extension columns written after the standard ones (and read when present).
METADATA: dict[str, tuple[str, ...]] = {
    "academicSessions": ("metadata.code", "metadata.enrollmentOpens",
                         "metadata.enrollmentCloses", "metadata.dropDeadline"),
    "orgs": (),
    "courses": (),
    "classes": ("metadata.department", "metadata.credits", "metadata.capacity", "metadata.waitlistCapacity",
                "metadata.days", "metadata.startTime", "metadata.endTime",
                "metadata.instructor", "metadata.repeatable", "metadata.prerequisites"),
    "users": ("metadata.program", "metadata.maxCredits"),
    "roles": (),
    "enrollments": ("metadata.status", "metadata.grade"),
}

# The order in which an import reads the files (what a row refers to comes first).
IMPORT_ORDER = ("orgs", "academicSessions", "courses", "roles", "users", "classes", "enrollments")

# Enumerations, by their canonical spelling; a reader matches them in any case.
STATUSES = ("active", "tobedeleted")
SESSION_TYPES = ("gradingPeriod", "semester", "schoolYear", "term")
ORG_TYPES = ("department", "school", "district", "local", "state", "national")
USER_ROLES = {
    "1.1": ("administrator", "aide", "guardian", "parent", "proctor", "relative", "student",
            "teacher"),
    "1.2": ("aide", "counselor", "districtAdministrator", "guardian", "parent", "principal",
            "proctor", "relative", "siteAdministrator", "student", "systemAdministrator",
            "teacher"),
}
ENROLLMENT_ROLES = ("administrator", "proctor", "student", "teacher", "aide")
ROLE_TYPES = ("primary", "secondary")
BOOLEANS = ("true", "false")


def canonical(value: str, allowed: tuple[str, ...]) -> str | None:
    """`value` spelt as in `allowed` (compared in any case), or None when it is not one."""
    folded = value.strip().lower()
    for word in allowed:
        if word.lower() == folded:
            return word
    return None


def file_name(kind: str) -> str:
    return f"{kind}.csv"


def columns(version: str, kind: str) -> tuple[str, ...]:
    """The header row a bundle of `version` has for `kind`: standard, then extension columns."""
    return HEADERS[version][kind] + METADATA[kind]


# --- writing cells -------------------------------------------------------------------------
def moment(value: datetime | None) -> str:
    """A time as the binding writes `dateLastModified`: UTC, milliseconds, `Z`."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"


def day(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def flag(value: bool) -> str:
    return "true" if value else "false"


def joined(values) -> str:
    """A list field: its items joined by commas (the writer quotes the cell)."""
    return ",".join(str(v) for v in values if v not in (None, ""))


def split_list(text: str) -> list[str]:
    return [item.strip() for item in (text or "").split(",") if item.strip()]


USER_ID = re.compile(r"^\{\s*([^:}]+?)\s*:\s*([^}]+?)\s*\}$")


def user_ids(text: str) -> list[tuple[str, str]]:
    """The `userIds` cell (`{type:identifier},…`) as (type, identifier) pairs; items that are
    not of that shape are left out."""
    pairs = []
    for item in re.findall(r"\{[^}]*\}", text or ""):
        match = USER_ID.match(item)
        if match:
            pairs.append((match.group(1), match.group(2)))
    return pairs


def parse_moment(text: str) -> datetime:
    """An ISO 8601 time (a `Z` allowed; a bare date is its midnight, UTC); ValueError if not."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        value += "T00:00:00+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_day(text: str) -> date:
    """A date (`YYYY-MM-DD`; a full time is accepted and its date kept); ValueError if not."""
    value = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return date.fromisoformat(value)
    return parse_moment(value).date()
