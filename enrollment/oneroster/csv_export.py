"""Writing a OneRoster CSV bundle (1.1 or 1.2): every record, or a delta since a time.

The records are the OneRoster 1.1 JSON records of the REST provider (`records.iter_records`),
with the extension values of `csv_metadata`; each becomes a row of its file: a reference (`{"sourcedId", …}`) is written as its sourcedId in the
`…SourcedId` column, a list of references or values as one cell of comma-joined items, always
quoted, `userIds` as `{type:identifier}` items, booleans as `true`/`false`, times in UTC with a
`Z`. In 1.2, users.csv has no `role` or `orgSourcedIds` column: each user's role is a row of
roles.csv (`primary`, at its first org), and its first org is `primaryOrgSourcedId`.

The manifest lists every file of the binding: `bulk` (or `delta` with `since`) for the files
written, `absent` for the others. The zip is written entry by entry as the rows are read (the
database is read in batches), so a large school is never held in memory.
"""
from __future__ import annotations

import tempfile
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from datetime import datetime

from . import csv_format as fmt
from .csv_metadata import with_metadata
from .records import iter_records

# Columns whose records hold a reference (or a list of them) under another name.
_REFERENCES = {"parentSourcedId": "parent", "schoolYearSourcedId": "schoolYear",
               "orgSourcedId": "org", "courseSourcedId": "course", "schoolSourcedId": "school",
               "classSourcedId": "class", "userSourcedId": "user",
               "termSourcedIds": "terms", "orgSourcedIds": "orgs",
               "agentSourcedIds": "agents", "primaryOrgSourcedId": "primaryOrg"}
_LISTS = {"grades", "subjects", "subjectCodes", "periods", "termSourcedIds", "orgSourcedIds",
          "agentSourcedIds", "userIds", "resourceSourcedIds"}
_ROLE_NS = uuid.UUID("0e5e0001-726f-6c65-7300-6f6e65726f73")
_KINDS = ("academicSessions", "orgs", "courses", "classes", "users", "enrollments")
SPOOL_BYTES = 8 * 1024 * 1024  # a larger bundle is spooled to a temporary file, not memory


def role_id(user_sourced_id: str, role: str) -> str:
    """The sourcedId of a 1.2 role row (derived: a user has one role here)."""
    return str(uuid.uuid5(_ROLE_NS, f"{user_sourced_id}:{role}"))


def write_bundle(file, *, version: str = "1.1", since: datetime | None = None
                 ) -> dict[str, int]:
    """Write the bundle as a zip to a binary file; returns the rows written per file."""
    if version not in fmt.VERSIONS:
        raise ValueError(f"unknown OneRoster version {version!r}")
    mode = "delta" if since is not None else "bulk"
    written = {kind: 0 for kind in fmt.HEADERS[version]}
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        manifest = [("manifest.version", fmt.MANIFEST_VERSION), ("oneroster.version", version)]
        manifest += [(f"file.{name}", mode if name in written else "absent")
                     for name in fmt.MANIFEST_FILES[version]]
        manifest += [("source.systemName", "Enrollment"),
                     ("source.systemCode", "enrollment")]
        with archive.open(fmt.MANIFEST, "w") as entry:
            entry.write(_line(fmt.MANIFEST_HEADER))
            for pair in manifest:
                entry.write(_line(pair))
        for kind in _KINDS:
            records = with_metadata(kind, iter_records(kind, since=since))
            if kind == "users" and version == "1.2":
                written["users"] = _write(archive, version, "users", map(_user_12, records))
                # A second pass over the users, rather than holding their roles meanwhile.
                written["roles"] = _write(archive, version, "roles",
                                          _role_rows(iter_records(kind, since=since)))
            else:
                written[kind] = _write(archive, version, kind, records)
    return written


def spooled_bundle(*, version: str, since: datetime | None = None):
    """The bundle in a temporary file (in memory while small), rewound, for a download."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    write_bundle(spool, version=version, since=since)
    spool.seek(0)
    return spool


def _write(archive: zipfile.ZipFile, version: str, kind: str, records: Iterable[dict]) -> int:
    columns = fmt.columns(version, kind)
    count = 0
    with archive.open(fmt.file_name(kind), "w") as entry:
        entry.write(_line(columns))
        for record in records:
            entry.write(_line([cell(record, c) for c in columns],
                              quoted=[c in _LISTS for c in columns]))
            count += 1
    return count


def _user_12(record: dict) -> dict:
    """1.2: a user's first org is its `primaryOrg` (its role goes to roles.csv)."""
    orgs = record.get("orgs") or []
    return {**record, "primaryOrg": orgs[0] if orgs else None}


def _role_rows(records: Iterable[dict]) -> Iterator[dict]:
    """1.2: one `primary` role row per user, at its first org (tombstones have none)."""
    for record in records:
        if record.get("status") == "tobedeleted" or not record.get("role"):
            continue
        orgs = record.get("orgs") or []
        yield {"sourcedId": role_id(record["sourcedId"], record["role"]), "status": "active",
               "dateLastModified": record.get("dateLastModified"),
               "user": {"sourcedId": record["sourcedId"]}, "roleType": "primary",
               "role": record["role"], "org": orgs[0] if orgs else None}


def cell(record: dict, column: str) -> str:
    """The text of one column of a record's row."""
    if column.startswith("metadata."):
        value = (record.get("metadata") or {}).get(column[len("metadata."):])
    elif column == "userIds":
        return ",".join(f"{{{i['type']}:{i['identifier']}}}" for i in record.get("userIds") or ())
    elif column == "schoolYear":  # an academic session's year, not a reference
        value = record.get("schoolYear")
    elif column in _REFERENCES:
        value = record.get(_REFERENCES[column])
        if isinstance(value, list):
            return fmt.joined(ref["sourcedId"] for ref in value)
        return value["sourcedId"] if isinstance(value, dict) else ""
    else:
        value = record.get(column)
    if value is None:
        return ""
    if isinstance(value, bool):
        return fmt.flag(value)
    if isinstance(value, list | tuple):
        return fmt.joined(value)
    return str(value)


def _line(cells, quoted=None) -> bytes:
    """One CSV record (RFC 4180, CRLF): a cell is quoted when it must be, list cells always."""
    out = []
    for i, text in enumerate(cells):
        text = "" if text is None else str(text)
        if (quoted and quoted[i]) or any(ch in text for ch in ',"\r\n') or text != text.strip():
            text = '"' + text.replace('"', '""') + '"'
        out.append(text)
    return (",".join(out) + "\r\n").encode("utf-8")
