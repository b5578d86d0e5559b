"""Conditional requests (RFC 9110 section 13): one answer to If-None-Match and
If-Modified-Since for every route that serves a document or a file.

If-None-Match uses the weak comparison (a `W/` tag matches its strong twin), takes a list,
and `*` matches whatever exists; when it is present If-Modified-Since is not looked at. A
304 keeps the validators and caching headers of the 200 it stands for (ETag, Last-Modified,
Cache-Control, Vary, and any policy header such as a Content-Security-Policy) and drops the
representation's own metadata and body.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from email.utils import formatdate, parsedate_to_datetime

from aiohttp import web

#: headers that describe the body a 304 does not carry
_BODY_HEADERS = frozenset(h.lower() for h in (
    "Content-Type", "Content-Length", "Content-Encoding", "Content-Disposition", "Accept-Ranges",
))


def http_date(timestamp: float) -> str:
    return formatdate(timestamp, usegmt=True)


def entity_tags(if_none_match: str) -> list[str]:
    """The entity tags an If-None-Match value lists, `W/` dropped (the weak comparison)."""
    return [t.strip().removeprefix("W/") for t in if_none_match.split(",")]


def etag_matches(if_none_match: str, etags: Iterable[str]) -> bool:
    """Whether an If-None-Match value names one of `etags` (weak comparison), or is `*`."""
    if if_none_match.strip() == "*":
        return True
    current = {e.removeprefix("W/") for e in etags}
    return any(t in current for t in entity_tags(if_none_match))


def not_modified(request: web.Request, etags: str | Iterable[str], last_modified: float = 0.0) -> bool:
    """Whether the client's copy is current: its If-None-Match names one of `etags` (the
    validators of every representation it may hold, e.g. a page and its gzip form), or,
    without If-None-Match, its If-Modified-Since is not before `last_modified` (0: unknown)."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        return etag_matches(if_none_match, (etags,) if isinstance(etags, str) else etags)
    since = request.headers.get("If-Modified-Since")
    if since and last_modified and request.method in ("GET", "HEAD"):
        try:
            return last_modified <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False
    return False


def not_modified_response(headers: Mapping[str, str]) -> web.Response:
    """The 304 standing for a 200 with these headers."""
    return web.Response(status=304, headers={k: v for k, v in headers.items() if k.lower() not in _BODY_HEADERS})


def document_response(request: web.Request, body: bytes, headers: Mapping[str, str], *, etags: Iterable[str] | None = None,
                      last_modified: float = 0.0) -> web.Response:
    """200 with the body, or 304 when the client holds it. `headers` carry the ETag (and
    Last-Modified when known); `etags`: every validator that counts as current (default: the
    ETag). aiohttp sends the headers, Content-Length included, and no body for HEAD."""
    if not_modified(request, headers["ETag"] if etags is None else etags, last_modified):
        return not_modified_response(headers)
    return web.Response(body=body, headers=headers)
