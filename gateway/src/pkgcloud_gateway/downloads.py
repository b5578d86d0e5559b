"""Package file downloads: the registry's answer for the file (`open_download`: one RPC that
looks it up, applies the caller's read access and counts the download), then the blob sent
to the client (`send_blob`): a redirect to a presigned URL when the store can make one,
otherwise the bytes streamed chunk by chunk (memory stays flat whatever the size)."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web
from pkgcloud_protos.v1 import common_pb2, registry_pb2
from pkgcloud_servicekit import errors
from pkgcloud_servicekit.blobstore import BlobNotFound, BlobStore

from . import keys
from .clients import call
from .conditional import entity_tags, not_modified, not_modified_response
from .policy import ReadAccess


def _held_sha256(request: web.Request) -> list[str]:
    """The digests the client holds: its If-None-Match entity tags, which for a package file
    are `"<sha256>"` (send_blob's ETag); a matching one is answered 304, not bytes."""
    return [t[1:-1] for t in entity_tags(request.headers.get("If-None-Match", "")) if len(t) > 2 and t[0] == t[-1] == '"']


async def open_download(
    request: web.Request, ref: common_pb2.FileRef, access: ReadAccess, *, label: str = "", file_type: str = "", count: bool = True,
) -> common_pb2.FileRecord:
    """The file, if `access` may read it (and it carries `label`, is of `file_type`, when
    given): one registry RPC. The download is counted only when bytes will be sent: not for
    HEAD (a probe), not when the client's If-None-Match holds the file's digest (a cache's
    revalidation, answered 304), and not when `count` is False. A missing file and one the
    caller may not read are the same NotFound ("File not found")."""
    resp = await call(request.config_dict[keys.CLIENTS].registry.OpenDownload(registry_pb2.DownloadRequest(
        ref=ref, access=registry_pb2.ReadAccess(everything=access.everything, packages=sorted(access.packages)),
        # `If-None-Match: *` holds whatever exists: a 304 (send_blob), so no download either
        label=label, type=file_type, count=count and request.method != "HEAD" and request.headers.get("If-None-Match", "").strip() != "*",
        cached_sha256=_held_sha256(request),
    )))
    return resp.file


def content_disposition(filename: str) -> str:
    ascii_name = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def send_blob(
    request: web.Request,
    blobs: BlobStore,
    *,
    blob_key: str,
    filename: str,
    sha256: str = "",
    content_type: str = "application/octet-stream",
    not_found: str = "File not found",
    allow_redirect: bool = True,
    public: bool = False,
) -> web.StreamResponse:
    """Answer with the blob: 302 to a presigned URL, 304 when the client holds it
    (conditional.py), or 200.

    A file can be replaced under its URL (`anaconda upload --force`), so a cache may keep it
    but must revalidate (`no-cache`; the ETag is the sha256). `public`: a shared cache may
    keep it too (only for public packages: a private file's request may carry a cookie)."""
    filename = filename.rsplit("/", 1)[-1]
    cache_control = f"{'public' if public else 'private'}, no-cache"
    if allow_redirect and blobs.supports_presigned:
        url = await blobs.presigned_get_url(blob_key, filename=filename)
        return web.Response(status=302, headers={"Location": url, "Cache-Control": cache_control})
    try:
        size = await blobs.size(blob_key)
    except BlobNotFound:
        raise errors.NotFound(not_found) from None
    etag = f'"{sha256}"' if sha256 else ""
    headers = {
        "Content-Type": content_type,
        "Content-Disposition": content_disposition(filename),
        "Accept-Ranges": "none",
        "Cache-Control": cache_control,
    }
    if etag:
        headers["ETag"] = etag
        if not_modified(request, etag):
            return not_modified_response(headers)
    resp = web.StreamResponse(status=200, headers=headers)
    resp.content_length = size
    if request.method == "HEAD":
        await resp.prepare(request)
        return resp
    chunks = blobs.open(blob_key)
    try:
        # Pull the first chunk before committing to a 200: a blob that vanished is a 404.
        first = await anext(chunks, b"")
    except BlobNotFound:
        raise errors.NotFound(not_found) from None
    await resp.prepare(request)
    try:
        if first:
            await resp.write(first)
        async for chunk in chunks:
            await resp.write(chunk)
    finally:
        await chunks.aclose()
    await resp.write_eof()
    return resp
