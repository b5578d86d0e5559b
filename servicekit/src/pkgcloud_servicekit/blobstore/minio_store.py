"""MinioBlobStore: blobs in one bucket of MinIO or any S3 endpoint (minio SDK 7.2.20).

The SDK is synchronous, so every call runs in a worker thread. Uploads stream: the async
chunks are bridged to a file-like object that put_object (unknown length, multipart) reads
from its thread, digests are computed on the way through, and memory stays at a few parts.
A failed or oversized upload aborts the multipart upload, so S3 never shows a partial
object (S3 objects appear atomically on completion).

Presigned POST follows the S3 POST reference (reference/s3-post-upload.md §3, §5): the policy covers every field
anaconda-client sends (it adds Content-Length and Content-MD5 itself), so current MinIO and
AWS accept the form, not only moto.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import hashlib
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn
from urllib.parse import quote

from minio import Minio
from minio.commonconfig import CopySource
from minio.datatypes import PostPolicy
from minio.error import S3Error

from ..settings import Settings
from .filesystem import validate_key, validate_prefix
from .interfaces import BlobInfo, BlobNotFound, BlobStore, BlobTooLarge, PresignedPost

# S3 needs parts of at least 5 MiB; 8 MiB keeps a 5 GiB upload well under the 10,000-part cap.
PART_SIZE = 8 * 1024 * 1024
# One part in flight: memory stays at about one part per upload, and the SDK's parallel
# mode leaks its worker threads when the source stream fails (as it does for max_size).
PARALLEL_PARTS = 1
# User metadata holding the generation of an object written by write_if_newer.
GENERATION_HEADER = "x-amz-meta-pkgcloud-generation"
_CAS_ATTEMPTS = 50
_NOT_FOUND = {"NoSuchKey", "NoSuchObject", "NoSuchBucket", "ResourceNotFound"}


class MinioBlobStore(BlobStore):
    supports_presigned = True

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        *,
        secure: bool = False,
        region: str = "us-east-1",
        public_endpoint: str = "",
        ensure_bucket: bool = True,
    ):
        """ensure_bucket=False trusts that the bucket exists (credentials without
        ListBucket/CreateBucket rights; presigning then never touches the network)."""
        if not endpoint:
            raise ValueError("MinioBlobStore needs an endpoint (PKGCLOUD_MINIO_ENDPOINT=host:port)")
        self.bucket = bucket
        self.secure = secure
        self.region = region
        self.public_endpoint = public_endpoint or endpoint
        # region= makes the SDK skip GetBucketLocation, so presigning never touches the network.
        self.client = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region)
        # URLs handed to clients are signed for the host they will reach (the Host header is
        # part of a SigV4 signature).
        self.public_client = (
            Minio(self.public_endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region)
            if self.public_endpoint != endpoint
            else self.client
        )
        self._bucket_ready = not ensure_bucket
        self._bucket_lock = asyncio.Lock()
        # Own thread pools, not asyncio's default one (min(32, cpus + 4) threads): an upload's
        # thread blocks while waiting for the client's next chunk, and a few slow clients must
        # not starve every other to_thread user -- or deadlock when the chunks themselves
        # come from a thread (e.g. another store's open()).
        self._upload_pool = concurrent.futures.ThreadPoolExecutor(64, thread_name_prefix="minio-upload")
        self._io_pool = concurrent.futures.ThreadPoolExecutor(16, thread_name_prefix="minio-io")

    async def _io(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._io_pool, functools.partial(fn, *args, **kwargs))

    async def close(self) -> None:
        self._upload_pool.shutdown(wait=False, cancel_futures=True)
        self._io_pool.shutdown(wait=False, cancel_futures=True)

    @classmethod
    def from_settings(cls, settings: Settings) -> MinioBlobStore:
        return cls(
            settings.minio_endpoint,
            settings.minio_access_key,
            settings.minio_secret_key,
            settings.minio_bucket,
            secure=settings.minio_secure,
            region=settings.minio_region,
            public_endpoint=settings.minio_public_endpoint,
        )

    async def _ready(self) -> None:
        if self._bucket_ready:
            return
        async with self._bucket_lock:
            if not self._bucket_ready:
                await self._io(self._ensure_bucket)
                self._bucket_ready = True

    def _ensure_bucket(self) -> None:
        if self.client.bucket_exists(self.bucket):
            return
        try:
            self.client.make_bucket(self.bucket, location=self.region)
        except S3Error as exc:
            # Another process won the race.
            if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise

    # --- writes ----------------------------------------------------------------------
    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], *, max_size: int | None = None) -> BlobInfo:
        validate_key(key)
        await self._ready()
        reader = _ChunkReader(chunks, asyncio.get_running_loop(), key, max_size)
        try:
            upload = functools.partial(
                self.client.put_object,
                self.bucket,
                key,
                reader,
                length=-1,
                part_size=PART_SIZE,
                num_parallel_uploads=PARALLEL_PARTS,
            )
            await asyncio.get_running_loop().run_in_executor(self._upload_pool, upload)
        except asyncio.CancelledError:
            reader.abort()
            raise
        return BlobInfo(key=key, size=reader.size, sha256=reader.sha256.hexdigest(), md5=reader.md5.hexdigest())

    async def write_if_newer(self, key: str, data: bytes, generation: int) -> bool:
        validate_key(key)
        await self._ready()
        return await self._io(self._write_if_newer, key, data, generation)

    def _write_if_newer(self, key: str, data: bytes, generation: int) -> bool:
        # Optimistic compare-and-set: read the stored generation and ETag, then PUT on the
        # condition that the object is still that one (If-Match), or still absent
        # (If-None-Match: *). A writer that lost the race gets 412 and looks again.
        for _ in range(_CAS_ATTEMPTS):
            try:
                stat = self.client.stat_object(self.bucket, key)
            except S3Error as exc:
                if exc.code not in _NOT_FOUND:
                    raise
                condition = {"If-None-Match": "*"}
            else:
                stored = _generation_of(stat.metadata)
                if stored is not None and stored > generation:
                    return False
                condition = {"If-Match": f'"{stat.etag}"'}
            headers = {**condition, GENERATION_HEADER: str(generation), "Content-Type": "application/octet-stream"}
            try:
                # The SDK's put_object would send If-Match as user metadata; its single-PUT
                # helper sends headers as given.
                self.client._put_object(self.bucket, key, data, headers)
            except S3Error as exc:
                if exc.code in ("PreconditionFailed", "ConditionalRequestConflict"):
                    continue
                raise
            return True
        raise RuntimeError(f"conditional write of {key!r} lost {_CAS_ATTEMPTS} races in a row")

    async def generation(self, key: str) -> int | None:
        validate_key(key)
        await self._ready()
        try:
            stat = await self._io(self.client.stat_object, self.bucket, key)
        except S3Error as exc:
            _raise_not_found(exc, key)
        return _generation_of(stat.metadata)

    async def copy(self, src: str, dst: str) -> None:
        validate_key(src)
        validate_key(dst)
        await self._ready()
        try:
            await self._io(self.client.copy_object, self.bucket, dst, CopySource(self.bucket, src))
        except S3Error as exc:
            _raise_not_found(exc, src)

    async def delete(self, key: str) -> None:
        validate_key(key)
        await self._ready()
        try:
            await self._io(self.client.remove_object, self.bucket, key)
        except S3Error as exc:
            if exc.code not in _NOT_FOUND:
                raise

    # --- reads -----------------------------------------------------------------------
    async def open(self, key: str, *, chunk_size: int = 1024 * 1024) -> AsyncIterator[bytes]:
        validate_key(key)
        await self._ready()
        try:
            resp = await self._io(self.client.get_object, self.bucket, key)
        except S3Error as exc:
            _raise_not_found(exc, key)
        try:
            while True:
                chunk = await self._io(resp.read, chunk_size)
                if not chunk:
                    return
                yield chunk
        finally:
            resp.close()
            resp.release_conn()

    async def size(self, key: str) -> int:
        validate_key(key)
        await self._ready()
        try:
            stat = await self._io(self.client.stat_object, self.bucket, key)
        except S3Error as exc:
            _raise_not_found(exc, key)
        return int(stat.size or 0)

    async def list(self, prefix: str) -> AsyncIterator[str]:
        validate_prefix(prefix)
        await self._ready()
        objects = self.client.list_objects(self.bucket, prefix=prefix or None, recursive=True)
        while True:
            # The SDK pages lazily; take a batch per thread hop rather than one object.
            batch = await self._io(lambda: [o.object_name for o in itertools.islice(objects, 1000)])
            if not batch:
                return
            for name in batch:
                yield name

    async def collect_temporary(self, older_than_s: float) -> int:
        """Abort multipart uploads started more than older_than_s ago: a process killed
        during put_object leaves its parts stored (and billed) but no object. Objects are
        never partial on S3, so there is nothing else to collect."""
        await self._ready()
        return await self._io(self._abort_stale_uploads, datetime.now(UTC) - timedelta(seconds=older_than_s))

    def _abort_stale_uploads(self, cutoff: datetime) -> int:
        # minio-py has no public call for these two S3 operations (ListMultipartUploads,
        # AbortMultipartUpload); its private ones are used, pinned by the contract test.
        aborted = 0
        key_marker = upload_id_marker = None
        while True:
            page = self.client._list_multipart_uploads(self.bucket, key_marker=key_marker, upload_id_marker=upload_id_marker)
            for upload in page.uploads:
                if upload.initiated_time is not None and upload.initiated_time < cutoff:
                    try:
                        self.client._abort_multipart_upload(self.bucket, upload.object_name, upload.upload_id)
                        aborted += 1
                    except S3Error as exc:
                        if exc.code != "NoSuchUpload":  # completed or aborted meanwhile
                            raise
            if not page.is_truncated or not page.uploads:
                return aborted
            # (the SDK drops NextUploadIdMarker: continue after the last upload listed)
            key_marker, upload_id_marker = page.next_key_marker or page.uploads[-1].object_name, page.uploads[-1].upload_id

    # --- presigning (no network: the client knows its region) --------------------------
    async def presigned_get_url(self, key: str, *, expires_s: int = 600, filename: str | None = None) -> str:
        validate_key(key)
        response_headers = None
        if filename:
            response_headers = {"response-content-disposition": _attachment(filename)}
        return self.public_client.presigned_get_object(
            self.bucket, key, expires=timedelta(seconds=expires_s), response_headers=response_headers
        )

    async def presigned_post(self, key: str, *, max_size: int, expires_s: int = 3600) -> PresignedPost:
        validate_key(key)
        if max_size < 1:
            raise ValueError("max_size must be at least 1 byte")
        await self._ready()  # the client POSTs straight to the bucket: it must exist
        policy = PostPolicy(self.bucket, datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=expires_s))
        # Fixed key (never ${filename}: servers disagree on what it expands to).
        policy.add_equals_condition("key", key)
        # eq, not starts-with: AWS only allows an exact match here, and 201 gives the XML body
        # anaconda-client parses.
        policy.add_equals_condition("success_action_status", "201")
        # anaconda-client adds these two fields to every POST; MinIO and S3 refuse a form
        # field that no condition covers.
        policy.add_starts_with_condition("Content-Length", "")
        policy.add_starts_with_condition("Content-MD5", "")
        policy.add_content_length_range_condition(1, max_size)
        signed = self.public_client.presigned_post_policy(policy)
        fields = [("key", key), ("success_action_status", "201")]
        for name in ("x-amz-algorithm", "x-amz-credential", "x-amz-date", "policy", "x-amz-signature"):
            fields.append((name, signed[name]))
        if "x-amz-security-token" in signed:
            fields.append(("x-amz-security-token", signed["x-amz-security-token"]))
        scheme = "https" if self.secure else "http"
        return PresignedPost(url=f"{scheme}://{self.public_endpoint}/{self.bucket}", fields=fields)


class _ChunkReader:
    """File-like view of an async chunk iterator for put_object, read from a worker thread.

    A read() that needs data asks the event loop for the next chunk and blocks the worker
    thread (never the loop) until it arrives. read(n) fills all n bytes at once because the
    SDK concatenates whatever read() returns into immutable bytes (quadratic for small reads).
    """

    def __init__(self, chunks: AsyncIterator[bytes], loop: asyncio.AbstractEventLoop, key: str, max_size: int | None):
        self._it = aiter(chunks)
        self._loop = loop
        self._key = key
        self._max_size = max_size
        self._buf = bytearray()
        self._eof = False
        self._pending: asyncio.Task | None = None
        self._aborted = False
        self.size = 0
        self.sha256 = hashlib.sha256()
        self.md5 = hashlib.md5()

    def abort(self) -> None:
        """Called on the loop when the upload is cancelled: the worker's pending or next
        read fails, and put_object aborts its multipart upload."""
        self._aborted = True
        if self._pending is not None:
            # Cancelling the concurrent future does nothing once the coroutine runs; cancel
            # the task itself.
            self._pending.cancel()

    async def _fetch(self) -> bytes | None:
        self._pending = asyncio.current_task()
        try:
            return await anext(self._it)
        except StopAsyncIteration:
            return None
        finally:
            self._pending = None

    def _next_chunk(self) -> bytes | None:
        if self._aborted:
            raise OSError("upload cancelled")
        try:
            return asyncio.run_coroutine_threadsafe(self._fetch(), self._loop).result()
        except (concurrent.futures.CancelledError, asyncio.CancelledError):
            raise OSError("upload cancelled") from None

    def read(self, n: int = -1) -> bytes:
        while not self._eof and (n < 0 or len(self._buf) < n):
            chunk = self._next_chunk()
            if chunk is None:
                self._eof = True
                break
            self.size += len(chunk)
            if self._max_size is not None and self.size > self._max_size:
                # Raised inside put_object, which then aborts its multipart upload.
                raise BlobTooLarge(f"blob {self._key!r} exceeds the limit of {self._max_size} bytes")
            self.sha256.update(chunk)
            self.md5.update(chunk)
            self._buf += chunk
        if n < 0 or n >= len(self._buf):
            out = bytes(self._buf)
            self._buf.clear()
        else:
            out = bytes(self._buf[:n])
            del self._buf[:n]
        return out


def _generation_of(metadata: Any) -> int | None:
    value = (metadata or {}).get(GENERATION_HEADER)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _raise_not_found(exc: S3Error, key: str) -> NoReturn:
    if exc.code in _NOT_FOUND:
        raise BlobNotFound(key) from None
    raise exc


def _attachment(filename: str) -> str:
    # RFC 6266: an ASCII fallback plus the exact name in RFC 5987 encoding.
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
