"""The conda protocol: conda channels (repodata, shards, channeldata, package files) per
owner and label, at /conda/<owner>[/label/<label>]/<subdir>/<file> and on conda.<host>,
also behind /t/<token>/ (and with Bearer or Basic credentials).

Index documents come from the blob store as index-svc published them (the view, public or
private, is the policy's choice), with ETag/Last-Modified/Cache-Control and 304s. Package
files are looked up in the registry in one call (visibility, label membership, download
count: downloads.open_download) and streamed from the blob store or redirected to a presigned URL.
"""

from __future__ import annotations

import hashlib
from functools import cache

from aiohttp import web
from pkgcloud_protos.v1 import common_pb2
from pkgcloud_servicekit import errors
from pkgcloud_servicekit.indexes import IndexView
from pkgcloud_servicekit.published import conda_document_key, etag_of_digest

from . import access, keys, web_catalog
from .access import grant
from .conditional import document_response, http_date
from .document_cache import CachePolicy, Document
from .downloads import open_download, send_blob
from .index_views import conda_document
from .routing import add_route

INDEX_FILES = {
    "repodata.json": "application/json",
    "repodata.json.zst": "application/zstd",
    "current_repodata.json": "application/json",
    "current_repodata.json.zst": "application/zstd",
    "run_exports.json": "application/json",
    "run_exports.json.zst": "application/zstd",
    "repodata_shards.msgpack.zst": "application/zstd",
}
EMPTY_REPODATA = '{{"info":{{"subdir":"{}"}},"packages":{{}},"packages.conda":{{}},"removed":[],"repodata_version":1}}'
# Index documents change under the same URL with every upload, label copy or removal: a
# caching client revalidates every time (a 304 costs well under a millisecond), so the next
# solve sees the change. A max-age would let conda and rattler install the old version.
REVALIDATE = "max-age=0, must-revalidate"
# Shards are named by their content: a changed shard is a new URL.
IMMUTABLE = "public, max-age=31536000, immutable"
# A package file can be replaced under its name (`anaconda upload --force`): a cache may keep
# it but must ask again; the ETag is the content's sha256, so unchanged bytes answer 304.
PACKAGE_FILE = "no-cache"
# How long a document's bytes and ETag are reused before the blob is read again: keeps
# revalidations cheap without delaying a new upload noticeably. With a store that has change
# tags a rewritten document is noticed within 10 ms (blob_freshness), so the TTL is longer.
UNTAGGED_CACHE_TTL_S = 0.1
_TAGGED_TTL_S = 1.0
INDEX_DOCUMENTS = CachePolicy(ttl_s=_TAGGED_TTL_S, untagged_ttl_s=UNTAGGED_CACHE_TTL_S)
_CACHE_CONTROL = web.RequestKey("conda_cache_control", str)


def create_app() -> web.Application:
    app = web.Application()
    # a browser at a channel URL goes to the owner's page (registered before the files)
    for path in ("/{owner}", "/{owner}/", "/{owner}/label/{label}", "/{owner}/label/{label}/"):
        add_route(app.router, "GET", path, web_catalog.channel_page, access.CONDA_READ)
    add_route(app.router, "GET", "/{owner}/{path:.+}", channel_file, access.CONDA_READ)
    app.on_response_prepare.append(_cache_headers)
    return app


async def _cache_headers(request: web.Request, response: web.StreamResponse) -> None:
    value = request.get(_CACHE_CONTROL)
    if value and response.status in (200, 302, 304):
        response.headers["Cache-Control"] = value


def _split(owner: str, path: str) -> tuple[str, list[str]]:
    label = "main"
    parts = path.split("/")
    if parts[0] == "label":
        if len(parts) < 3 or not parts[1]:
            raise errors.NotFound("Not found")
        label, parts = parts[1], parts[2:]
    if any(p in ("", ".", "..") for p in parts):
        raise errors.NotFound("Not found")
    return label, parts


async def channel_file(request: web.Request) -> web.StreamResponse:
    owner = request.match_info["owner"]
    label, parts = _split(owner, request.match_info["path"])
    readable = grant(request).access  # the view: public, private or partial (issue 5)
    view = readable.view
    private = view is not IndexView.PUBLIC
    if view is IndexView.PARTIAL and not (len(parts) == 2 and parts[1].endswith((".conda", ".tar.bz2"))):
        return await _partial_doc(request, owner, label, parts, readable)
    if len(parts) == 1 and parts[0] == "channeldata.json":
        return await _index_doc(request, conda_document_key(owner, view, label, "channeldata.json"), "application/json", private,
                                fallback=b'{"channeldata_version":1,"packages":{},"subdirs":[]}')
    if len(parts) == 2 and parts[1] in INDEX_FILES:
        subdir, name = parts
        fallback = EMPTY_REPODATA.format(subdir).encode() if (subdir, name) == ("noarch", "repodata.json") else None
        return await _index_doc(request, conda_document_key(owner, view, label, f"{subdir}/{name}"), INDEX_FILES[name], private, fallback=fallback)
    if len(parts) == 3 and parts[1] == "shards" and parts[2].endswith(".msgpack.zst"):
        key = conda_document_key(owner, view, label, f"{parts[0]}/shards/{parts[2]}")
        request[_CACHE_CONTROL] = IMMUTABLE if not private else "private, max-age=31536000, immutable"
        return await _index_doc(request, key, "application/zstd", private, immutable=True)
    if len(parts) == 2 and parts[1].endswith((".conda", ".tar.bz2")):
        return await _package(request, owner, label, parts[0], parts[1])
    raise errors.NotFound("Not found")


async def _partial_doc(request: web.Request, owner: str, label: str, parts: list[str], access) -> web.Response:
    """An index document for a principal who reads only some private packages (index_views)."""
    if len(parts) == 1 and parts[0] == "channeldata.json":
        rel, ctype, fallback = "channeldata.json", "application/json", b'{"channeldata_version":1,"packages":{},"subdirs":[]}'
    elif len(parts) == 2 and parts[1] in INDEX_FILES:
        rel, ctype = f"{parts[0]}/{parts[1]}", INDEX_FILES[parts[1]]
        fallback = EMPTY_REPODATA.format(parts[0]).encode() if tuple(parts) == ("noarch", "repodata.json") else None
    else:
        raise errors.NotFound("Not found")
    body, etag = await conda_document(request, conda_document_key(owner, IndexView.PUBLIC, label, rel),
                                       conda_document_key(owner, IndexView.PRIVATE, label, rel), parts[-1], access, fallback, INDEX_DOCUMENTS)
    request[_CACHE_CONTROL] = f"private, {REVALIDATE}"
    return document_response(request, body, {"ETag": etag, "Content-Type": ctype})


@cache
def _fallback(body: bytes) -> Document:
    """What a missing noarch/repodata.json or channeldata.json is served as (no Last-Modified)."""
    return Document(body, etag_of_digest(hashlib.sha256(body).hexdigest()))


async def _index_doc(request: web.Request, key: str, content_type: str, private: bool, *, fallback: bytes | None = None,
                     immutable: bool = False) -> web.Response:
    doc = await request.config_dict[keys.DOCUMENTS].get(request.config_dict[keys.BLOBS], key, INDEX_DOCUMENTS)
    if doc is None:
        if fallback is None:
            raise errors.NotFound("Not found")
        doc = _fallback(fallback)
    if not immutable:
        request[_CACHE_CONTROL] = f"{'private' if private else 'public'}, {REVALIDATE}"
    headers = {"ETag": doc.etag, "Content-Type": content_type}
    if doc.last_modified:
        headers["Last-Modified"] = http_date(doc.last_modified)
    return document_response(request, doc.body, headers, last_modified=doc.last_modified)


async def _package(request: web.Request, owner: str, label: str, subdir: str, fn: str) -> web.StreamResponse:
    stem = fn.removesuffix(".conda").removesuffix(".tar.bz2")
    pieces = stem.rsplit("-", 2)
    if len(pieces) != 3:
        raise errors.NotFound("File not found")
    name, version, _build = pieces
    ref = common_pb2.FileRef(owner=owner, package=name, version=version, basename=f"{subdir}/{fn}")
    try:
        # a private file, or one not in this label, is indistinguishable from a missing one
        rec = await open_download(request, ref, grant(request).access, label=label)
    except (errors.NotFound, errors.Invalid):
        raise errors.NotFound("File not found") from None
    request[_CACHE_CONTROL] = f"{'public' if rec.package_public else 'private'}, {PACKAGE_FILE}"
    return await send_blob(request, request.config_dict[keys.BLOBS], blob_key=rec.blob_key, filename=fn,
                           sha256=rec.sha256, not_found="File not found")
