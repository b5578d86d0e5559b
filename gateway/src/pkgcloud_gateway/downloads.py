"""Sending a blob to a client: a redirect to a presigned URL when the store can make one,
otherwise the bytes streamed chunk by chunk (memory stays flat whatever the size)."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web
from pkgcloud_servicekit import errors
from pkgcloud_servicekit.blobstore import BlobNotFound, BlobStore

from .conditional import not_modified, not_modified_response


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
