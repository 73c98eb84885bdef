"""Reading a OneRoster CSV bundle (a zip): the manifest, each file's header and rows.

Each file is streamed from the zip (never read whole); a row keeps its line number (the header
is line 1). Every problem is a `BundleError`, printed `FILE line N: column: reason`. The reader
is tolerant of real bundles: header names and enumeration values in any case, `inactive` read
as `tobedeleted`, a blank `status` or `dateLastModified` in a bulk file, extension columns
(`metadata.…`). A column the binding does not have is an error that names it as spelt.
"""
from __future__ import annotations

import csv
import zipfile
from dataclasses import dataclass, field

from . import csv_format as fmt

BOM = b"\xef\xbb\xbf"

# What each file needs besides `sourcedId` for this application to make anything of a row.
REQUIRED = {
    "academicSessions": ("title", "type", "startDate", "endDate"),
    "orgs": ("name", "type"),
    "courses": ("title",),
    "classes": ("title", "courseSourcedId", "termSourcedIds"),
    "users": ("givenName", "familyName"),
    "roles": ("userSourcedId", "role"),
    "enrollments": ("classSourcedId", "userSourcedId", "role"),
}


# The columns an import reads (and extension columns): a row keeps only these, so that a large
# bundle's rows take no more memory than they must.
_COMMON = ("sourcedId", "status", "dateLastModified")
USED = {
    "academicSessions": {*_COMMON, "title", "type", "startDate", "endDate"},
    "orgs": {*_COMMON, "name", "type", "identifier"},
    "courses": {*_COMMON, "title", "courseCode", "orgSourcedId"},
    "classes": {*_COMMON, "title", "courseSourcedId", "classCode", "location",
                "termSourcedIds"},
    "users": {*_COMMON, "role", "userIds", "givenName", "familyName", "middleName",
              "identifier", "email"},
    "roles": {*_COMMON, "userSourcedId", "roleType", "role"},
    "enrollments": {*_COMMON, "classSourcedId", "userSourcedId", "role"},
}


@dataclass(frozen=True)
class BundleError:
    file: str
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file} line {self.line}: {self.column}: {self.reason}"


@dataclass(slots=True)
class Row:
    line: int
    cells: dict[str, str]
    status: str = "active"  # or "tobedeleted"

    @property
    def sourced_id(self) -> str:
        return self.cells.get("sourcedId", "")

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


@dataclass
class Bundle:
    version: str
    modes: dict[str, str] = field(default_factory=dict)  # kind -> bulk | delta | absent
    modes_line: dict[str, int] = field(default_factory=dict)  # its line in manifest.csv
    rows: dict[str, list[Row]] = field(default_factory=dict)

    def of(self, kind: str) -> list[Row]:
        return self.rows.get(kind, [])


class BundleRefused(Exception):
    """The bundle cannot be imported; `.errors` lists every problem."""

    def __init__(self, errors: list[BundleError]):
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors[:5]))


def read_bundle(source) -> Bundle:
    """Read and check a bundle (a path or a binary file object); raise BundleRefused."""
    errors: list[BundleError] = []
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BundleRefused([BundleError("bundle", 1, "file", f"not a zip file ({exc})")]
                            ) from None
    with archive:
        names = _entries(archive)
        if fmt.MANIFEST not in names:
            raise BundleRefused([BundleError(fmt.MANIFEST, 1, "file",
                                             "missing: a OneRoster bundle starts with "
                                             "manifest.csv")])
        bundle = _manifest(archive, names[fmt.MANIFEST], errors)
        if bundle is None:
            raise BundleRefused(errors)
        for kind in fmt.IMPORT_ORDER:
            mode = bundle.modes.get(kind, "absent")
            if kind not in fmt.HEADERS[bundle.version] or mode == "absent":
                continue
            name = fmt.file_name(kind)
            if name not in names:
                errors.append(BundleError(fmt.MANIFEST, bundle.modes_line[kind], "value",
                                          f"file.{kind} is {mode} but {name} is not in the "
                                          "bundle"))
                continue
            bundle.rows[kind] = list(_rows(archive, names[name], bundle, kind, mode, errors))
    if errors:
        raise BundleRefused(errors)
    return bundle


def _entries(archive: zipfile.ZipFile) -> dict[str, str]:
    """The bundle's files by name; a bundle zipped with its folder has them one level down."""
    found = {}
    for info in archive.infolist():
        if info.is_dir():
            continue
        base = info.filename.rsplit("/", 1)[-1]
        if base.lower().endswith(".csv") and info.filename.count("/") <= 1:
            found.setdefault(base, info.filename)
    return found


def _lines(archive: zipfile.ZipFile, entry: str, file: str, errors: list[BundleError]):
    """(line number, cells) of each record of a CSV entry, streamed and decoded as UTF-8."""
    with archive.open(entry) as raw:
        reader = csv.reader(_decoded(raw, file, errors), strict=True)
        last = 0
        try:
            for cells in reader:
                line, last = last + 1, reader.line_num
                yield line, cells
        except csv.Error as exc:
            errors.append(BundleError(file, last + 1, "row", f"not valid CSV ({exc})"))


def _decoded(raw, file: str, errors: list[BundleError]):
    """The entry's lines as text, one at a time (a BOM is allowed); the first line that is not
    UTF-8 is reported and ends the file."""
    for number, chunk in enumerate(raw, start=1):
        if number == 1 and chunk.startswith(BOM):
            chunk = chunk[len(BOM):]
        try:
            yield chunk.decode("utf-8")
        except UnicodeDecodeError as exc:
            errors.append(BundleError(file, number, "file", f"not UTF-8 text (byte "
                                                            f"0x{chunk[exc.start]:02x}); save "
                                                            "the file as CSV UTF-8"))
            return


def _manifest(archive, entry: str, errors: list[BundleError]):
    file = fmt.MANIFEST
    properties: dict[str, tuple[int, str]] = {}
    header = None
    for line, cells in _lines(archive, entry, file, errors):
        if header is None:
            header = [c.strip() for c in cells]
            if [h.lower() for h in header[:2]] != [h.lower() for h in fmt.MANIFEST_HEADER]:
                errors.append(BundleError(file, line, header[0] if header else "header",
                                          "the header must be propertyName,value"))
                return None
            continue
        if not any(c.strip() for c in cells):
            continue
        name, value = (cells + ["", ""])[:2]
        properties.setdefault(name.strip(), (line, value.strip()))
    if header is None:
        errors.append(BundleError(file, 1, "header", "the file is empty; expected "
                                                     "propertyName,value"))
        return None
    line, version = properties.get("oneroster.version", (1, ""))
    chosen = next((v for v in fmt.VERSIONS if version == v or version.startswith(v + ".")),
                  None)
    if chosen is None:
        errors.append(BundleError(file, line, "value",
                                  f"oneroster.version {version!r} is not supported (1.1 or "
                                  "1.2)" if version else "oneroster.version is missing"))
        return None
    bundle = Bundle(chosen)
    for name, (line, value) in properties.items():
        if not name.startswith("file."):
            continue
        kind = name[len("file."):]
        mode = fmt.canonical(value, fmt.MODES)
        if mode is None:
            errors.append(BundleError(file, line, "value",
                                      f"{value!r} is not bulk, delta or absent ({name})"))
            continue
        if kind == "roles" and chosen == "1.1" and mode != "absent":
            errors.append(BundleError(file, line, "propertyName",
                                      "file.roles is a OneRoster 1.2 file; this bundle says "
                                      "oneroster.version 1.1"))
            continue
        bundle.modes[kind] = mode
        bundle.modes_line[kind] = line
    return bundle


def _rows(archive, entry: str, bundle: Bundle, kind: str, mode: str,
          errors: list[BundleError]):
    file = fmt.file_name(kind)
    names = None
    seen: dict[str, int] = {}
    before = len(errors)
    for line, cells in _lines(archive, entry, file, errors):
        if names is None:
            if not any(c.strip() for c in cells):
                continue
            names = _header(cells, bundle.version, kind, file, line, errors)
            if names is None:
                return
            keep = [i for i, name in enumerate(names)
                    if name in USED[kind] or name.startswith("metadata.")]
            continue
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(names):
            errors.append(BundleError(file, line, "row", f"has {len(cells)} cells; the header "
                                                         f"has {len(names)}"))
            continue
        row = Row(line, {names[i]: cells[i].strip() for i in keep})
        if _check(row, file, mode, seen, errors):
            yield row
    if names is None and len(errors) == before:
        errors.append(BundleError(file, 1, "header", "the file is empty; expected "
                                                     f"{','.join(fmt.columns(bundle.version, kind))}"))


def _header(cells, version: str, kind: str, file: str, line: int, errors) -> list[str] | None:
    standard = fmt.HEADERS[version][kind]
    by_fold = {c.lower(): c for c in standard}
    names, bad = [], False
    for cell in cells:
        given = cell.strip()
        name = by_fold.get(given.lower())
        if name is None and given.lower().startswith("metadata."):
            name = next((m for m in fmt.METADATA[kind] if m.lower() == given.lower()), given)
        if name is None:
            bad = True
            hint = ""
            if kind == "users" and version == "1.2" and given.lower() == "role":
                hint = " (OneRoster 1.2 keeps roles in roles.csv)"
            errors.append(BundleError(file, line, given or "(empty)",
                                      f"unknown column{hint}; expected {','.join(standard)}"))
        elif name in names:
            bad = True
            errors.append(BundleError(file, line, name, "column appears more than once"))
        names.append(name)
    required = ("sourcedId", *REQUIRED[kind], *(("role",) if (kind, version) == ("users", "1.1")
                                                 else ()))
    for name in required:
        if name not in names:
            bad = True
            errors.append(BundleError(file, line, name, "required column is missing"))
    return None if bad else names


def _check(row: Row, file: str, mode: str, seen: dict[str, int], errors) -> bool:
    """The columns every file has: sourcedId (unique in the file), status, dateLastModified."""
    ok = True
    if not row.sourced_id:
        errors.append(BundleError(file, row.line, "sourcedId", "is required"))
        ok = False
    elif row.sourced_id in seen:
        errors.append(BundleError(file, row.line, "sourcedId",
                                  f"{row.sourced_id} already appears on line "
                                  f"{seen[row.sourced_id]}"))
        ok = False
    else:
        seen[row.sourced_id] = row.line
    status = row.get("status")
    if not status:
        if mode == "delta":
            errors.append(BundleError(file, row.line, "status", "is required in a delta file "
                                                                "(active or tobedeleted)"))
            ok = False
    elif status.lower() == "inactive":
        row.status = "tobedeleted"
    else:
        word = fmt.canonical(status, fmt.STATUSES)
        if word is None:
            errors.append(BundleError(file, row.line, "status",
                                      f"{status!r} is not active or tobedeleted"))
            ok = False
        else:
            row.status = word
    modified = row.get("dateLastModified")
    if not modified and mode == "delta":
        errors.append(BundleError(file, row.line, "dateLastModified",
                                  "is required in a delta file"))
        ok = False
    elif modified:
        try:
            fmt.parse_moment(modified)
        except ValueError:
            errors.append(BundleError(file, row.line, "dateLastModified",
                                      f"{modified!r} is not an ISO 8601 time (e.g. "
                                      "2027-01-10T12:00:00.000Z)"))
            ok = False
    return ok
