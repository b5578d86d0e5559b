"""FilesystemBlobStore: blobs as files under one root folder (the embedded default).

Writes go to a temporary file in the destination folder, are fsynced, then renamed over the
destination with os.replace, so a reader sees either the old blob or the whole new one and a
crash leaves at most a stray temporary file (named with TMP_PREFIX, never listed). File I/O
runs in worker threads so the event loop never blocks on the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import hashlib
import os
import shutil
import stat
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from .interfaces import BlobInfo, BlobNotFound, BlobStore, BlobTooLarge

# Temporary files live beside their destination; no key segment may start with this prefix
# so a key can never name (or list) a half-written file.
TMP_PREFIX = ".tmp-blob-"
# The extended attribute holding the generation of a blob written by write_if_newer.
GENERATION_XATTR = "user.pkgcloud.generation"


def validate_key(key: str) -> str:
    """Refuse anything that is not a plain relative '/'-separated path (ValueError)."""
    if not isinstance(key, str) or not key:
        raise ValueError("blob key must be a non-empty string")
    _check_chars(key)
    if key.startswith("/"):
        raise ValueError(f"blob key must be relative, got {key!r}")
    for seg in key.split("/"):
        if seg == "":
            raise ValueError(f"blob key has an empty segment: {key!r}")
        if seg in (".", ".."):
            raise ValueError(f"blob key may not contain '.' or '..' segments: {key!r}")
        if seg.startswith(TMP_PREFIX):
            raise ValueError(f"blob key segment may not start with {TMP_PREFIX!r}: {key!r}")
    return key


def validate_prefix(prefix: str) -> str:
    """A list() prefix: like a key, but may be empty and may end inside or after a segment."""
    if not isinstance(prefix, str):
        raise ValueError("blob prefix must be a string")
    if prefix == "":
        return prefix
    _check_chars(prefix)
    if prefix.startswith("/"):
        raise ValueError(f"blob prefix must be relative, got {prefix!r}")
    segs = prefix.split("/")
    for i, seg in enumerate(segs):
        last = i == len(segs) - 1
        if seg == "" and not last:
            raise ValueError(f"blob prefix has an empty segment: {prefix!r}")
        if seg == ".." or (seg == "." and not last):
            raise ValueError(f"blob prefix may not contain '.' or '..' segments: {prefix!r}")
    return prefix


def _check_chars(s: str) -> None:
    if "\\" in s:
        raise ValueError(f"blob key may not contain a backslash: {s!r}")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in s):
        raise ValueError(f"blob key may not contain NUL or control characters: {s!r}")


class FilesystemBlobStore(BlobStore):
    supports_presigned = False

    def __init__(self, root: Path | str):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        # key -> validated path, for change_tag (called per request: pathlib is slow)
        self._stat_paths: dict[str, str] = {}

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    # --- writes ----------------------------------------------------------------------
    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], *, max_size: int | None = None) -> BlobInfo:
        dest = self._path(key)
        tmp = await asyncio.to_thread(self._open_tmp, dest)
        sha256, md5, size = hashlib.sha256(), hashlib.md5(), 0
        try:
            async for chunk in chunks:
                if not chunk:
                    continue
                size += len(chunk)
                if max_size is not None and size > max_size:
                    raise BlobTooLarge(f"blob {key!r} exceeds the limit of {max_size} bytes")
                sha256.update(chunk)
                md5.update(chunk)
                await asyncio.to_thread(tmp.write, chunk)
            await asyncio.to_thread(self._commit_tmp, tmp, dest)
        except BaseException:
            await asyncio.to_thread(self._discard_tmp, tmp)
            raise
        return BlobInfo(key=key, size=size, sha256=sha256.hexdigest(), md5=md5.hexdigest())

    async def put_bytes(self, key: str, data: bytes) -> BlobInfo:
        # One worker-thread hop for the whole write (digests, write, fsync, rename): hashlib
        # releases the GIL on large buffers, so a big index document no longer blocks the loop.
        return await asyncio.to_thread(self._put_bytes, key, self._path(key), data)

    def _put_bytes(self, key: str, dest: Path, data: bytes) -> BlobInfo:
        info = BlobInfo(key=key, size=len(data), sha256=hashlib.sha256(data).hexdigest(), md5=hashlib.md5(data).hexdigest())
        self._write_bytes(dest, data)
        return info

    async def write_bytes(self, key: str, data: bytes) -> None:
        # Digests of a 20 MB repodata.json cost several times its write and fsync.
        await asyncio.to_thread(self._write_bytes, self._path(key), data)

    def _write_bytes(self, dest: Path, data: bytes) -> None:
        tmp = self._open_tmp(dest)
        try:
            tmp.write(data)
            self._commit_tmp(tmp, dest)
        except BaseException:
            self._discard_tmp(tmp)
            raise

    async def write_if_newer(self, key: str, data: bytes, generation: int) -> bool:
        return await asyncio.to_thread(self._write_if_newer, self._path(key), data, generation)

    def _write_if_newer(self, dest: Path, data: bytes, generation: int) -> bool:
        # The generation is an extended attribute of the file itself, set before the rename:
        # it arrives with the bytes it describes. The compare and the rename happen under an
        # exclusive flock on the folder, which every conditional writer of that folder takes
        # (other processes of this host too).
        tmp = self._open_tmp(dest)
        try:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
            os.setxattr(tmp.fileno(), GENERATION_XATTR, str(generation).encode())
            with _folder_lock(dest.parent):
                stored = _stored_generation(dest)
                if stored is not None and stored > generation:
                    self._discard_tmp(tmp)
                    return False
                tmp.close()
                os.replace(tmp.name, dest)
            _fsync_dir(dest.parent)
            return True
        except BaseException:
            self._discard_tmp(tmp)
            raise

    async def generation(self, key: str) -> int | None:
        path = self._path(key)
        if not await asyncio.to_thread(os.path.isfile, path):
            raise BlobNotFound(key)
        return await asyncio.to_thread(_stored_generation, path)

    @staticmethod
    def _open_tmp(dest: Path):
        dest.parent.mkdir(parents=True, exist_ok=True)
        return open(dest.parent / f"{TMP_PREFIX}{uuid.uuid4().hex}", "xb")

    @staticmethod
    def _commit_tmp(tmp, dest: Path) -> None:
        tmp.flush()
        os.fsync(tmp.fileno())
        tmp.close()
        os.replace(tmp.name, dest)
        _fsync_dir(dest.parent)

    @staticmethod
    def _discard_tmp(tmp) -> None:
        try:
            tmp.close()
        finally:
            try:
                os.unlink(tmp.name)
            except FileNotFoundError:
                pass

    async def copy(self, src: str, dst: str) -> None:
        src_path, dst_path = self._path(src), self._path(dst)
        await asyncio.to_thread(self._copy, src, src_path, dst_path)

    def _copy(self, src: str, src_path: Path, dst_path: Path) -> None:
        try:
            fsrc = open(src_path, "rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise BlobNotFound(src) from None
        with fsrc:
            tmp = self._open_tmp(dst_path)
            try:
                shutil.copyfileobj(fsrc, tmp, 1024 * 1024)
                self._commit_tmp(tmp, dst_path)
            except BaseException:
                self._discard_tmp(tmp)
                raise

    async def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            await asyncio.to_thread(os.unlink, path)
        except (FileNotFoundError, NotADirectoryError):
            pass
        except IsADirectoryError:
            pass  # a prefix, not a blob: nothing to delete

    # --- reads -----------------------------------------------------------------------
    async def open(self, key: str, *, chunk_size: int = 1024 * 1024) -> AsyncIterator[bytes]:
        path = self._path(key)
        try:
            f = await asyncio.to_thread(open, path, "rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise BlobNotFound(key) from None
        try:
            while True:
                chunk = await asyncio.to_thread(f.read, chunk_size)
                if not chunk:
                    return
                yield chunk
        finally:
            f.close()

    def change_tag(self, key: str) -> str | None:
        # every write renames a new file into place: a new inode, whatever the size and mtime
        path = self._stat_paths.get(key)
        if path is None:
            try:
                path = os.fspath(self._path(key))
            except ValueError:
                return None
            if len(self._stat_paths) >= 8192:  # bounded: keys come from requests
                self._stat_paths.clear()
            self._stat_paths[key] = path
        try:
            st = os.stat(path)
        except OSError:
            return None
        return f"{st.st_ino}:{st.st_mtime_ns}:{st.st_size}" if _is_regular(st) else None

    async def size(self, key: str) -> int:
        path = self._path(key)
        try:
            st = await asyncio.to_thread(os.stat, path)
        except (FileNotFoundError, NotADirectoryError):
            raise BlobNotFound(key) from None
        if not _is_regular(st):
            raise BlobNotFound(key)
        return st.st_size

    async def list(self, prefix: str) -> AsyncIterator[str]:
        validate_prefix(prefix)
        for key in await asyncio.to_thread(self._list, prefix):
            yield key

    def _list(self, prefix: str) -> list[str]:
        # Walk only the deepest folder the prefix fully names; filter the rest by string.
        base_rel = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        base = self.root.joinpath(*base_rel.split("/")) if base_rel else self.root
        keys: list[str] = []
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = [d for d in dirnames if not d.startswith(TMP_PREFIX)]
            rel_dir = os.path.relpath(dirpath, self.root).replace(os.sep, "/")
            for name in filenames:
                if name.startswith(TMP_PREFIX):
                    continue
                key = name if rel_dir == "." else f"{rel_dir}/{name}"
                if key.startswith(prefix):
                    keys.append(key)
        keys.sort()
        return keys

    async def collect_temporary(self, older_than_s: float) -> int:
        return await asyncio.to_thread(self._collect_temporary, older_than_s)

    def _collect_temporary(self, older_than_s: float) -> int:
        # A temporary file's mtime moves with every chunk written to it, so one that has not
        # changed for older_than_s (the stage TTL: no upload may take longer) is abandoned.
        cutoff = time.time() - older_than_s
        removed = 0
        for dirpath, _dirnames, filenames in os.walk(self.root):
            for name in filenames:
                if not name.startswith(TMP_PREFIX):
                    continue
                path = os.path.join(dirpath, name)
                try:
                    if os.lstat(path).st_mtime < cutoff:
                        os.unlink(path)
                        removed += 1
                except FileNotFoundError:
                    pass  # committed (renamed) or discarded meanwhile
        return removed


@contextlib.contextmanager
def _folder_lock(folder: Path):
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _stored_generation(path: Path) -> int | None:
    try:
        return int(os.getxattr(path, GENERATION_XATTR))
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno in (errno.ENODATA, errno.ENOENT):
            return None  # written without a generation
        raise
    except ValueError:
        return None


def _is_regular(st: os.stat_result) -> bool:
    return stat.S_ISREG(st.st_mode)


def _fsync_dir(path: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
