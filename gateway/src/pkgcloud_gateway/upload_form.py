"""The embedded S3-style form endpoint: where anaconda-client POSTs a staged file's bytes
when the blob store cannot presign a POST (the filesystem store).

The request carries no credentials (reference §5): the one-time `key` form field, granted by
registry-svc at stage time, is the authorisation. The client reads an error answer as S3
XML, so every failure here is `<Error><Code>..</Code><Message>..</Message></Error>`.
The file part is streamed into the blob store; nothing is held in memory and nothing is
left behind when the upload is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from xml.sax.saxutils import escape

import grpc
from aiohttp import web
from pkgcloud_protos.v1 import registry_pb2
from pkgcloud_servicekit.blobstore import BlobTooLarge

from . import keys

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
# Form fields before `file` are a handful of short strings; more is not an upload.
MAX_FIELDS_BYTES = 64 * 1024


def s3_error(status: int, code: str, message: str) -> web.Response:
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>'
    return web.Response(status=status, body=body.encode(), content_type="application/xml")


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.response = s3_error(status, code, message)


async def form_upload(request: web.Request) -> web.StreamResponse:
    try:
        return await _form_upload(request)
    except _Refused as r:
        return r.response
    except Exception:
        log.exception("form upload failed")
        return s3_error(500, "InternalError", "We encountered an internal error. Please try again.")


async def _form_upload(request: web.Request) -> web.StreamResponse:
    if not request.content_type.startswith("multipart/form-data"):
        raise _Refused(400, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.")
    try:
        reader = await request.multipart()
    except (ValueError, AssertionError, KeyError):
        raise _Refused(400, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.") from None

    fields: dict[str, str] = {}
    seen = 0
    while True:
        part = await reader.next()
        if part is None:
            raise _Refused(400, "InvalidArgument", "POST requires exactly one file upload per request.")
        if part.name == "file":
            return await _receive_file(request, fields, part)
        value = bytearray()
        while chunk := await part.read_chunk(8192):
            value += chunk
            seen += len(chunk)
            if seen > MAX_FIELDS_BYTES:
                raise _Refused(400, "MaxPostPreDataLengthExceeded", "Your POST request fields preceding the upload file were too large.")
        if part.name:
            fields[part.name] = bytes(value).decode("utf-8", "replace")


def _expected_md5(fields: dict[str, str]) -> bytes | None:
    value = fields.get("Content-MD5")
    if value is None:
        return None
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 16:
        raise _Refused(400, "InvalidDigest", "The Content-MD5 you specified is not valid.")
    return digest


def _expected_length(fields: dict[str, str]) -> int | None:
    value = fields.get("Content-Length")
    if value is None:
        return None
    value = value.strip()
    if not value.isdigit():
        raise _Refused(400, "InvalidArgument", "The Content-Length form field must be a non-negative integer.")
    return int(value)


async def _receive_file(request: web.Request, fields: dict[str, str], part) -> web.StreamResponse:
    key = fields.get("key", "")
    if not key:
        raise _Refused(400, "InvalidArgument", "Bucket POST must contain a field named 'key'.")
    expected_md5 = _expected_md5(fields)
    expected_length = _expected_length(fields)

    registry = request.config_dict[keys.CLIENTS].registry
    try:
        grant = await registry.GrantFormUpload(registry_pb2.GrantFormUploadRequest(key=key))
    except grpc.aio.AioRpcError as e:
        if e.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.INTERNAL):
            log.error("GrantFormUpload failed: %s", e.details())
            raise _Refused(503, "ServiceUnavailable", "Please reduce your request rate or try again later.") from None
        raise _Refused(403, "AccessDenied", "Invalid according to Policy: the upload key is unknown or expired.") from None
    if expected_length is not None and grant.max_size and expected_length > grant.max_size:
        raise _Refused(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")

    md5 = hashlib.md5()
    received = 0

    async def chunks():
        nonlocal received
        while True:
            chunk = await part.read_chunk(CHUNK)
            if not chunk:
                return
            received += len(chunk)
            md5.update(chunk)
            yield chunk

    blobs = request.config_dict[keys.BLOBS]
    try:
        await blobs.put_stream(grant.blob_key, chunks(), max_size=grant.max_size or None)
    except BlobTooLarge:
        raise _Refused(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.") from None

    if expected_length is not None and expected_length != received:
        await blobs.delete(grant.blob_key)
        raise _Refused(400, "IncompleteBody", f"You did not provide the number of bytes specified by the Content-Length form field ({expected_length} declared, {received} received).")
    if expected_md5 is not None and expected_md5 != md5.digest():
        await blobs.delete(grant.blob_key)
        raise _Refused(400, "BadDigest", "The Content-MD5 you specified did not match what we received.")

    status = fields.get("success_action_status", "")
    if status in ("200", "204"):
        return web.Response(status=int(status))
    etag = f'"{md5.hexdigest()}"'
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse>'
        f"<Location>{escape(str(request.url.with_query(None)))}</Location>"
        f"<Bucket>pkgcloud</Bucket><Key>{escape(key)}</Key><ETag>{escape(etag)}</ETag>"
        "</PostResponse>"
    )
    return web.Response(status=201, body=body.encode(), content_type="application/xml", headers={"ETag": etag})
