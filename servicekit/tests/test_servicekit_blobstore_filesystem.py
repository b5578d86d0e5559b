"""What only FilesystemBlobStore has: temp files beside the destination, paths under the root,
flat memory on huge files."""

from __future__ import annotations

import asyncio
import os

import psutil
import pytest
from pkgcloud_servicekit.blobstore import BlobNotFound, BlobTooLarge
from pkgcloud_servicekit.blobstore.filesystem import TMP_PREFIX, FilesystemBlobStore


@pytest.fixture
def store(tmp_path):
    return FilesystemBlobStore(tmp_path / "root")


def leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(TMP_PREFIX)] if folder.exists() else []


async def test_write_goes_through_a_temp_file_in_the_same_folder(store):
    folder = store.root / "files" / "sha256"
    halfway, go_on = asyncio.Event(), asyncio.Event()

    async def slow():
        yield b"first"
        halfway.set()
        await go_on.wait()
        yield b"second"

    task = asyncio.create_task(store.put_stream("files/sha256/blob", slow()))
    await halfway.wait()
    assert len(leftovers(folder)) == 1 and not (folder / "blob").exists()
    assert [k async for k in store.list("")] == []  # the temp file is never a key
    go_on.set()
    await task
    assert leftovers(folder) == []
    assert (folder / "blob").read_bytes() == b"firstsecond"


async def test_temp_file_removed_on_failure_and_cancellation(store):
    with pytest.raises(BlobTooLarge):
        await store.put_stream("a/b", _repeat(b"x" * 1000, 5), max_size=2500)
    assert leftovers(store.root / "a") == []

    started = asyncio.Event()

    async def stalls():
        yield b"x"
        started.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(store.put_stream("a/c", stalls()))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert leftovers(store.root / "a") == []


async def test_keys_map_to_paths_under_the_root(store, tmp_path):
    await store.put_bytes("x/y/z.json", b"{}")
    assert (tmp_path / "root" / "x" / "y" / "z.json").read_bytes() == b"{}"
    with pytest.raises(ValueError):
        await store.put_bytes(f"x/{TMP_PREFIX}123", b"")
    assert not (tmp_path / "outside").exists()


async def test_a_folder_is_not_a_blob(store):
    await store.put_bytes("dir/file", b"1")
    with pytest.raises(BlobNotFound):
        await store.size("dir")
    with pytest.raises(BlobNotFound):
        await store.read_bytes("dir")
    await store.delete("dir")
    assert await store.exists("dir/file")


def _rss() -> int:
    return psutil.Process().memory_info().rss


async def _repeat(chunk: bytes, times: int):
    for _ in range(times):
        yield chunk


async def test_memory_stays_flat_reading_a_1_gib_file(store):
    path = store.root / "big" / "blob"
    path.parent.mkdir(parents=True)
    with open(path, "wb") as f:  # sparse: costs no disk and reads fast
        f.truncate(1024**3)
    base = peak = _rss()
    total = 0
    async for chunk in store.open("big/blob"):
        total += len(chunk)
        if total % (32 * 1024 * 1024) == 0:
            peak = max(peak, _rss())
    assert total == 1024**3
    assert peak - base < 64 * 1024 * 1024, f"RSS grew by {(peak - base) >> 20} MiB"


async def test_memory_stays_flat_writing_a_large_stream(store):
    chunk = os.urandom(1024 * 1024)
    base = _rss()
    peak = base

    async def source():
        nonlocal peak
        for i in range(256):
            if i % 16 == 0:
                peak = max(peak, _rss())
            yield chunk

    info = await store.put_stream("big/written", source())
    assert info.size == 256 * 1024 * 1024
    assert peak - base < 64 * 1024 * 1024, f"RSS grew by {(peak - base) >> 20} MiB"


async def test_the_filesystem_store_has_change_tags(tmp_path):
    # readers (the gateway's index caches) rely on it to serve a new index at once
    from pkgcloud_servicekit.blobstore.filesystem import FilesystemBlobStore

    store = FilesystemBlobStore(tmp_path / "blobs")
    await store.put_bytes("indexes/x", b"1")
    assert store.change_tag("indexes/x") is not None
    assert store.change_tag("../escape") is None  # a bad key is no tag, not an error
