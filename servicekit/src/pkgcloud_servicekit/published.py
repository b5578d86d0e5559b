"""Where published documents live in the blob store, and how a stored document carries its
ETag: the contract between their writers (index-svc, render-svc) and their reader (the
gateway), defined once, here (docs/adr/0015).

    indexes/conda/<owner>/<view>/label/<label>/channeldata.json
    indexes/conda/<owner>/<view>/label/<label>/<subdir>/<file>        repodata.json(.zst), shards/...
    indexes/conda/<owner>/<view>/manifest.json                        index-svc's bookkeeping
    indexes/conda/<owner>/state.json                                  index-svc's bookkeeping
    indexes/pypi/<owner>/<view>/<label>/simple/index.<fmt>            the project list
    indexes/pypi/<owner>/<view>/<label>/simple/<project>/index.<fmt>  a project page
    indexes/pypi/<owner>/state.json                                   index-svc's bookkeeping
    rendered/<render version>/<notebook sha256>.html                  a rendered notebook
    rendered/<render version>/<notebook sha256>.failed.json           why it was not rendered
    rendered/images/<sha256>.<ext>                                    its images (shared)

Views are `indexes.IndexView` values (public, private); fmt is "json" or "html".

A served document (a conda index document or shard, a simple page) is stored framed: its
ETag, a newline, then the body (`stored_document`). The writer computed the digest anyway
(or can, once, in a worker thread), so the gateway answers with one read and no hashing.
Conda documents written before the framing have none: a JSON document starts with `{`, a
zstd one with the zstd magic, a framed one with `"` (an ETag is a quoted string), so
`parse_stored_document` tells them apart and gives None for the ETag of an unframed one.
The bookkeeping blobs (manifest, state) and rendered notebooks are not framed.
"""

from __future__ import annotations

from pkgcloud_servicekit.indexes import PUBLISHED_VIEWS

CONDA_PREFIX = "indexes/conda"
PYPI_PREFIX = "indexes/pypi"
RENDERED_PREFIX = "rendered"
RENDERED_IMAGES_PREFIX = f"{RENDERED_PREFIX}/images/"

#: the views index-svc writes, as the strings in the keys
VIEWS: tuple[str, ...] = tuple(v.value for v in PUBLISHED_VIEWS)
PYPI_FORMATS = ("json", "html")


# --- conda channels -------------------------------------------------------------------


def conda_owner_prefix(owner: str) -> str:
    """Every conda blob of the owner is under this prefix (it ends with '/')."""
    return f"{CONDA_PREFIX}/{owner}/"


def conda_label_prefix(owner: str, view: str, label: str) -> str:
    return f"{CONDA_PREFIX}/{owner}/{view}/label/{label}"


def conda_document_key(owner: str, view: str, label: str, path: str) -> str:
    """path: '<subdir>/<file>', '<subdir>/shards/<sha256>.msgpack.zst' or a channel-root file
    such as 'channeldata.json'."""
    return f"{conda_label_prefix(owner, view, label)}/{path}"


def conda_manifest_key(owner: str, view: str) -> str:
    """What was last published for (owner, view): {label: {subdir: repodata sha256}}."""
    return f"{CONDA_PREFIX}/{owner}/{view}/manifest.json"


def conda_state_key(owner: str) -> str:
    """How many of the owner's events the published documents reflect (crash recovery)."""
    return f"{CONDA_PREFIX}/{owner}/state.json"


# --- PyPI simple pages ----------------------------------------------------------------


def pypi_owner_prefix(owner: str) -> str:
    return f"{PYPI_PREFIX}/{owner}/"


def pypi_page_key(owner: str, view: str, label: str, fmt: str, project: str = "") -> str:
    """The project list (no project) or a project page (its PEP 503 normalized name)."""
    base = f"{PYPI_PREFIX}/{owner}/{view}/{label}/simple"
    return f"{base}/{project}/index.{fmt}" if project else f"{base}/index.{fmt}"


def pypi_state_key(owner: str) -> str:
    return f"{PYPI_PREFIX}/{owner}/state.json"


# --- rendered notebooks ---------------------------------------------------------------


def rendered_html_key(render_version: str, sha256: str) -> str:
    """The page render-svc made of the notebook with this content (a new renderer version
    renders again, lazily: its pages are new keys)."""
    return f"{RENDERED_PREFIX}/{render_version}/{sha256}.html"


def rendered_failed_key(render_version: str, sha256: str) -> str:
    return f"{RENDERED_PREFIX}/{render_version}/{sha256}.failed.json"


def rendered_image_key(name: str) -> str:
    """name: '<sha256>.<ext>' (content addressed, shared by every page that shows it)."""
    return RENDERED_IMAGES_PREFIX + name


# --- the stored-document framing -------------------------------------------------------


def etag_of_digest(sha256_hex: str) -> str:
    """The ETag of a conda document whose sha256 is this: what the gateway computed from the
    body before documents were framed, so a client's cached validator stays valid."""
    return '"' + sha256_hex[:32] + '"'


def stored_document(etag: str, body: bytes) -> bytes:
    """The blob of a served document: its ETag (a quoted string) on the first line, then the body."""
    if not etag.startswith('"') or "\n" in etag:
        raise ValueError(f"not a strong ETag: {etag!r}")
    return etag.encode("ascii") + b"\n" + body


def parse_stored_document(blob: bytes) -> tuple[str | None, bytes]:
    """(ETag, body) of a stored document; the ETag is None for an unframed one (a conda
    document published before the framing: its body is the whole blob)."""
    if not blob.startswith(b'"'):
        return None, blob
    etag, _, body = blob.partition(b"\n")
    return etag.decode("ascii"), body


def document_body(blob: bytes) -> bytes:
    """The body of a stored document, framed or not (for readers that need no ETag)."""
    return parse_stored_document(blob)[1]
