"""Helpers for tests/test_fuzz_inputs.py: what to fuzz (routes, field names, seed values) and
how to send it (raw query strings and bodies, so that bytes that are not UTF-8 get through).

Field names come from two places, so that a new route or field is fuzzed without editing the
tests: the HTML of the pages (every form's inputs and the query arguments of every link, found
by crawling the site as the user who would see it) and the form classes behind the admin's
views (create/edit forms, bulk-action forms, list filters), which a page may not render.
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, quote, quote_from_bytes, urljoin, urlsplit

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from wtforms.fields.core import UnboundField

SKIP_ENDPOINTS = ("static", "admin.static", "favicon")  # files, not handlers
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


# --------------------------------------------------------------------------------------------
# Routes
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    rule: str
    method: str
    endpoint: str

    @property
    def id(self) -> str:
        return f"{self.method} {self.rule}"


def routes(app) -> list[Route]:
    """Every (rule, method) of the URL map but static files, in a stable order."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP_ENDPOINTS or rule.endpoint.endswith(".static"):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append(Route(rule.rule, method, rule.endpoint))
    return sorted(found, key=lambda r: (r.rule, r.method))


def role_for(path: str) -> str:
    """Who would use a path: staff for the admin and reports, nobody for the account pages."""
    if path.startswith(("/admin", "/reports")):
        return "staff"
    if path.startswith("/auth"):
        return "anonymous"
    return "student"


def admin_view(app, endpoint: str):
    """The Flask-Admin view behind an endpoint ("course.edit_view"), or None."""
    name = endpoint.split(".", 1)[0]
    for admin in app.extensions.get("admin", []):
        for view in admin._views:
            if view.endpoint == name:
                return view
    return None


def form_field_names(form_class) -> list[str]:
    """The field names of a WTForms form class (unbound: no request needed)."""
    names = []
    for klass in reversed(form_class.__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, UnboundField) and name not in names:
                names.append(name)
    return names


def view_field_names(app, route: Route) -> tuple[set[str], set[str]]:
    """(query names, form names) that the admin view behind `route` reads, from its classes."""
    view = admin_view(app, route.endpoint)
    if view is None:
        return set(), set()
    kind = route.endpoint.split(".", 1)[1]
    query, form = {"url"}, set()
    if kind in ("index_view", "export"):
        query |= {"search", "sort", "desc", "page", "page_size"}
        for index, flt in enumerate(getattr(view, "_filters", None) or []):
            query.add(f"flt0_{view.get_filter_arg(index, flt)}")
            query.add(f"flt1_{view.get_filter_arg(index, flt)}")
    if kind in ("edit_view", "details_view"):
        query.add("id")
    if kind == "create_view" and getattr(view, "_create_form_class", None):
        form |= set(form_field_names(view._create_form_class))
    if kind == "edit_view" and getattr(view, "_edit_form_class", None):
        form |= set(form_field_names(view._edit_form_class))
    if kind == "delete_view":
        form |= {"id", "url"}
    if kind == "action_view":
        form |= {"action", "rowid", "url"}
    if kind == "ajax_lookup":
        query |= {"name", "query", "limit", "offset"}
    if kind == "ajax_update":
        form |= {"list_form_pk"} | set(getattr(view, "column_editable_list", None) or ())
    if kind == "bulk_view":
        form |= {"rowid", "url"}
        for spec in getattr(view, "bulk_ops", {}).values():
            form |= set(form_field_names(spec.form))
    return query, form


# --------------------------------------------------------------------------------------------
# Pages: forms and links
# --------------------------------------------------------------------------------------------
@dataclass
class FormSeed:
    """A form found on a page: where it posts, the fields it would send as they are (the
    selected option, the ticked boxes) and every other value it offers (options, boxes)."""

    action: str
    method: str
    multipart: bool
    fields: list[tuple[str, str]] = field(default_factory=list)
    options: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    files: set[str] = field(default_factory=set)


class PageParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[FormSeed] = []
        self.links: list[str] = []
        self._by_id: dict[str, FormSeed] = {}
        self._form: FormSeed | None = None
        self._select: tuple[FormSeed, str, list[str], list[str]] | None = None
        self._textarea: tuple[FormSeed, str, list[str]] | None = None

    def _owner(self, attrs: dict) -> FormSeed | None:
        return self._by_id.get(attrs.get("form", "")) or self._form

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        owner = self._owner(a)
        name = a.get("name")
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = FormSeed(a.get("action", ""), (a.get("method") or "GET").upper(),
                                  "multipart" in a.get("enctype", ""))
            self.forms.append(self._form)
            if a.get("id"):
                self._by_id[a["id"]] = self._form
        elif tag == "input" and name and owner is not None:
            kind = a.get("type", "text").lower()
            value = a.get("value", "on" if kind in ("checkbox", "radio") else "")
            if kind == "file":
                owner.files.add(name)
            elif kind in ("checkbox", "radio"):
                owner.options[name].append(value)
                if "checked" in a:
                    owner.fields.append((name, value))
            elif kind not in ("submit", "button", "image", "reset"):
                owner.fields.append((name, value))
            else:
                owner.options[name].append(value)
        elif tag == "select" and name and owner is not None:
            self._select = (owner, name, [], [])
        elif tag == "option" and self._select is not None:
            _, _, values, chosen = self._select
            values.append(a.get("value", ""))
            if "selected" in a:
                chosen.append(a.get("value", ""))
        elif tag == "textarea" and name and owner is not None:
            self._textarea = (owner, name, [])

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[2].append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            owner, name, values, chosen = self._select
            owner.options[name].extend(values)
            owner.fields.extend((name, v) for v in (chosen or values[:1]))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            owner, name, parts = self._textarea
            owner.fields.append((name, "".join(parts).removeprefix("\n")))
            self._textarea = None


@dataclass
class RouteSeeds:
    """What the crawl saw of one route: example URLs, query names, forms that post to it."""

    urls: set[str] = field(default_factory=set)
    query_names: set[str] = field(default_factory=set)
    forms: list[FormSeed] = field(default_factory=list)


@dataclass
class Seeds:
    by_route: dict[tuple[str, str], RouteSeeds] = field(
        default_factory=lambda: defaultdict(RouteSeeds))
    # Every value seen for a field or query name anywhere (a plausible value for that name).
    values: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def route(self, route: Route) -> RouteSeeds:
        return self.by_route[(route.rule, route.method)]


def match(adapter, path: str, method: str):
    """(rule, args) for a path, or None when no rule (of this method) matches."""
    try:
        return adapter.match(path, method=method, return_rule=True)
    except (NotFound, MethodNotAllowed):
        return None
    except HTTPException:  # a redirect (trailing slash): not a route of its own
        return None


def crawl(app, fetch, start: list[str], *, limit: int = 500) -> Seeds:
    """Breadth-first over the site's own links from `start`; `fetch(url) -> (status, mimetype,
    text)` requests a URL as the user who would see it."""
    adapter = app.url_map.bind("localhost")
    seeds = Seeds()
    queue, seen = list(start), set()
    while queue and len(seen) < limit:
        url = queue.pop(0)
        path = urlsplit(url).path
        found = match(adapter, path, "GET")
        if url in seen or found is None or found[0].endpoint in SKIP_ENDPOINTS:
            continue
        seen.add(url)
        _note_url(seeds, found[0].rule, "GET", url)
        status, mimetype, text = fetch(url)
        if status != 200 or mimetype != "text/html":
            continue
        parser = PageParser()
        parser.feed(text)
        for href in parser.links:
            target = urljoin(url, href)
            parts = urlsplit(target)
            if parts.scheme not in ("", "http") or parts.netloc not in ("", "localhost"):
                continue
            local = parts.path + (f"?{parts.query}" if parts.query else "")
            if local not in seen:
                queue.append(local)
        for form in parser.forms:
            action = urljoin(url, form.action or url)
            parts = urlsplit(action)
            local = parts.path + (f"?{parts.query}" if parts.query else "")
            found = match(adapter, parts.path, form.method)
            if found is None:
                continue
            rule = found[0].rule
            seeds.by_route[(rule, form.method)].forms.append(form)
            _note_url(seeds, rule, form.method, local)
            for name, value in form.fields:
                seeds.values[name].add(value)
            for name, values in form.options.items():
                seeds.values[name].update(values)
            if form.method == "GET":
                seeds.by_route[(rule, "GET")].query_names.update(n for n, _ in form.fields)
    return seeds


def _note_url(seeds: Seeds, rule: str, method: str, url: str) -> None:
    entry = seeds.by_route[(rule, method)]
    entry.urls.add(url)
    for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        entry.query_names.add(name)
        seeds.values[name].add(value)


# --------------------------------------------------------------------------------------------
# Sending raw values
# --------------------------------------------------------------------------------------------
Value = str | bytes


def _raw(value: Value) -> bytes:
    # surrogatepass: a lone surrogate goes out as the (invalid) UTF-8 bytes a client could send
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")


def encode_pairs(pairs: list[tuple[str, Value]]) -> str:
    """A query string or urlencoded body, percent-encoding the raw bytes of each value."""
    return "&".join(f"{quote(name, safe='')}={quote_from_bytes(_raw(value), safe='')}"
                    for name, value in pairs)


def multipart(pairs: list[tuple[str, Value]], files: list[tuple[str, bytes, Value]]
              ) -> tuple[bytes, str]:
    """A multipart/form-data body (raw bytes everywhere) and its content type."""
    boundary = f"fuzz{uuid.uuid4().hex}"
    out = []
    for name, value in pairs:
        out.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                   .encode() + _raw(value) + b"\r\n")
    for name, data, filename in files:
        out.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; "
                   f"filename=\"".encode() + _raw(filename).replace(b'"', b"%22")
                   .replace(b"\r", b"").replace(b"\n", b"")
                   + b"\"\r\nContent-Type: text/csv\r\n\r\n" + data + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"
