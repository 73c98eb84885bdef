"""Collections: `{"items", "total", "limit", "offset"}` with `X-Total-Count` and RFC 8288
`Link` headers (first, prev, next, last), each a URL of the same request with another offset."""
from __future__ import annotations

from flask import request, url_for

PAGE_HEADERS = {
    "X-Total-Count": {"description": "How many items match in all.",
                      "schema": {"type": "integer"}},
    "Link": {"description": "RFC 8288 links: first, prev, next, last.",
             "schema": {"type": "string"}},
}


def _url(offset: int, limit: int) -> str:
    args = request.args.to_dict(flat=False)
    args["offset"], args["limit"] = [str(offset)], [str(limit)]
    return url_for(request.endpoint, **(request.view_args or {}), **args, _external=True)


def page(items: list, *, total: int, limit: int, offset: int) -> tuple[dict, int, dict]:
    """The body and the headers of one page of a collection (200)."""
    last = max((total - 1) // limit * limit, 0)
    links = [("first", 0)]
    if offset > 0:
        links.append(("prev", max(min(offset - limit, last), 0)))
    if offset + limit < total:
        links.append(("next", offset + limit))
    links.append(("last", last))
    link = ", ".join(f'<{_url(at, limit)}>; rel="{rel}"' for rel, at in links)
    body = {"items": items, "total": total, "limit": limit, "offset": offset}
    return body, 200, {"X-Total-Count": str(total), "Link": link}
