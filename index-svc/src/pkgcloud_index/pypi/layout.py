"""Where the simple pages live in the blob store, and how a stored page carries its ETag.

One blob per page and serialization: `indexes/pypi/<owner>/<view>/<label>/simple/index.<fmt>`
for the project list, `.../simple/<project>/index.<fmt>` for a project page, with view
"public" (public packages only) or "private" (everything of the owner) and fmt "json" or
"html". The blob is the ETag on its first line, then the body: the gateway answers with no
hashing and one read.
"""

from __future__ import annotations

from pkgcloud_servicekit.indexes import PUBLISHED_VIEWS, normalize_project

PREFIX = "indexes/pypi"
VIEWS = tuple(v.value for v in PUBLISHED_VIEWS)
FORMATS = ("json", "html")
#: PEP 503 project names (defined once, in servicekit: the gateway matches pages by it)
normalize = normalize_project


def owner_prefix(owner: str) -> str:
    return f"{PREFIX}/{owner}/"


def page_key(owner: str, view: str, label: str, fmt: str, project: str = "") -> str:
    base = f"{PREFIX}/{owner}/{view}/{label}/simple"
    return f"{base}/{project}/index.{fmt}" if project else f"{base}/index.{fmt}"


def state_key(owner: str) -> str:
    return f"{PREFIX}/{owner}/state.json"


def stored_page(etag: str, body: bytes) -> bytes:
    return etag.encode("ascii") + b"\n" + body


def parse_stored_page(blob: bytes) -> tuple[str, bytes]:
    """(etag, body) of a stored page."""
    etag, _, body = blob.partition(b"\n")
    return etag.decode("ascii"), body
