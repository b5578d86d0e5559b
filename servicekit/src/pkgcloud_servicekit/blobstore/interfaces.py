"""The blob store contract. Implementations: FilesystemBlobStore (embedded), MinioBlobStore."""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from dataclasses import dataclass


class BlobNotFound(KeyError):
    pass


class BlobTooLarge(ValueError):
    pass


@dataclass(frozen=True)
class BlobInfo:
    """What a write produced: digests are of the exact bytes stored."""

    key: str
    size: int
    sha256: str
    md5: str


@dataclass(frozen=True)
class PresignedPost:
    url: str
    fields: list[tuple[str, str]]  # in the order the client must send them


def content_key(sha256: str) -> str:
    """Content-addressed location of a committed file (immutable)."""
    return f"files/sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def sidecar_key(sha256: str, suffix: str) -> str:
    """A blob derived from a committed file (e.g. a wheel's METADATA), kept beside it."""
    return f"{content_key(sha256)}.{suffix}"


class BlobStore(abc.ABC):
    """Keys are '/'-separated relative paths; '..' and absolute keys are refused."""

    #: True when the store can hand out presigned GET/POST URLs (MinIO/S3).
    supports_presigned: bool = False

    @abc.abstractmethod
    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], *, max_size: int | None = None) -> BlobInfo:
        """Store the bytes under key atomically (readers never see a partial blob).

        Raises BlobTooLarge, leaving nothing behind, once more than max_size bytes arrive."""

    async def put_bytes(self, key: str, data: bytes) -> BlobInfo:
        async def one() -> AsyncIterator[bytes]:
            yield data

        return await self.put_stream(key, one())

    async def write_bytes(self, key: str, data: bytes) -> None:
        """Store the bytes under key atomically, like put_bytes, for a caller that needs no
        digests of them (index documents, rewritten on every change): a store may skip
        computing them."""
        await self.put_bytes(key, data)

    @abc.abstractmethod
    async def write_if_newer(self, key: str, data: bytes, generation: int) -> bool:
        """Store the bytes under key atomically, like write_bytes, unless the blob stored
        there carries a newer generation: then leave it and return False.

        A compare-and-set against every other writer of the store (other processes too): of
        two publishers racing on one document, the one with the older generation never
        replaces the newer copy, whatever order their writes arrive in. Equal generations
        overwrite (a retried publish). A blob written without a generation counts as older
        than any."""

    @abc.abstractmethod
    async def generation(self, key: str) -> int | None:
        """The generation key was written with by write_if_newer; None when it was written
        without one; raises BlobNotFound."""

    @abc.abstractmethod
    def open(self, key: str, *, chunk_size: int = 1024 * 1024) -> AsyncIterator[bytes]:
        """Stream the blob's bytes. Raises BlobNotFound (on first iteration at the latest)."""

    async def read_bytes(self, key: str) -> bytes:
        return b"".join([c async for c in self.open(key)])

    @abc.abstractmethod
    async def size(self, key: str) -> int:
        """Size in bytes; raises BlobNotFound."""

    async def exists(self, key: str) -> bool:
        try:
            await self.size(key)
            return True
        except BlobNotFound:
            return False

    @abc.abstractmethod
    async def delete(self, key: str) -> None:
        """Remove the blob; a missing key is not an error."""

    @abc.abstractmethod
    async def copy(self, src: str, dst: str) -> None:
        """Copy src to dst (server-side where the backend can); raises BlobNotFound."""

    @abc.abstractmethod
    def list(self, prefix: str) -> AsyncIterator[str]:
        """Every key starting with prefix."""

    @abc.abstractmethod
    async def collect_temporary(self, older_than_s: float) -> int:
        """Remove what writes that never finished left behind (a process killed mid-write):
        temporary files, incomplete multipart uploads, not written to for older_than_s
        seconds. A write in progress is younger than that and is kept. Returns how many
        were removed. Keys (committed blobs) are never touched."""

    def change_tag(self, key: str) -> str | None:
        """A cheap token, read without waiting, that changes whenever key's bytes are replaced;
        None when the blob is missing or the backend has no such thing (a network store: a
        round trip is not cheap). Lets a reader keep a blob in memory and revalidate it on
        every request instead of on a timer."""
        return None

    async def presigned_get_url(self, key: str, *, expires_s: int = 600, filename: str | None = None) -> str:
        raise NotImplementedError("this blob store cannot presign URLs")

    async def presigned_post(self, key: str, *, max_size: int, expires_s: int = 3600) -> PresignedPost:
        raise NotImplementedError("this blob store cannot presign POST uploads")

    async def close(self) -> None:
        return None
