"""The BlobStore contract, run against every implementation (filesystem, MinIO on moto)."""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest
from pkgcloud_servicekit.blobstore import BlobInfo, BlobNotFound, BlobStore, BlobTooLarge, content_key


async def chunks_of(*parts: bytes):
    for p in parts:
        yield p


async def test_satisfies_the_interface(blob_store):
    assert isinstance(blob_store, BlobStore)


async def test_put_bytes_then_read_size_exists(blob_store):
    info = await blob_store.put_bytes("a/b/hello.txt", b"hello")
    assert info == BlobInfo(
        key="a/b/hello.txt",
        size=5,
        sha256=hashlib.sha256(b"hello").hexdigest(),
        md5=hashlib.md5(b"hello").hexdigest(),
    )
    assert await blob_store.read_bytes("a/b/hello.txt") == b"hello"
    assert await blob_store.size("a/b/hello.txt") == 5
    assert await blob_store.exists("a/b/hello.txt")
    assert not await blob_store.exists("a/b/other.txt")


async def test_put_stream_digests_are_of_the_stored_bytes(blob_store):
    # several parts on MinIO (8 MiB parts), uneven chunks, an empty chunk in the middle
    parts = [os.urandom(3 * 1024 * 1024 + 17), b"", os.urandom(7 * 1024 * 1024), os.urandom(2 * 1024 * 1024 + 5)]
    data = b"".join(parts)
    key = content_key(hashlib.sha256(data).hexdigest())
    info = await blob_store.put_stream(key, chunks_of(*parts))
    assert (info.size, info.sha256, info.md5) == (len(data), hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest())
    assert await blob_store.read_bytes(key) == data
    assert await blob_store.size(key) == len(data)


async def test_empty_blob(blob_store):
    info = await blob_store.put_bytes("empty", b"")
    assert info.size == 0 and info.sha256 == hashlib.sha256(b"").hexdigest()
    assert await blob_store.read_bytes("empty") == b""
    assert await blob_store.size("empty") == 0


async def test_overwrite_replaces(blob_store):
    await blob_store.put_bytes("k", b"old contents")
    await blob_store.put_bytes("k", b"new")
    assert await blob_store.read_bytes("k") == b"new"
    assert await blob_store.size("k") == 3


async def test_readers_never_see_a_partial_blob(blob_store):
    await blob_store.put_bytes("indexes/alice/repodata.json", b"version 1")
    halfway, go_on = asyncio.Event(), asyncio.Event()

    async def slow():
        yield b"version 2, first half; "
        halfway.set()
        await go_on.wait()
        yield b"second half"

    writer = asyncio.create_task(blob_store.put_stream("indexes/alice/repodata.json", slow()))
    await halfway.wait()
    assert await blob_store.read_bytes("indexes/alice/repodata.json") == b"version 1"
    assert [k async for k in blob_store.list("indexes/")] == ["indexes/alice/repodata.json"]
    go_on.set()
    await writer
    assert await blob_store.read_bytes("indexes/alice/repodata.json") == b"version 2, first half; second half"


async def test_max_size_exact_is_accepted(blob_store):
    info = await blob_store.put_stream("exact", chunks_of(b"12345", b"67890"), max_size=10)
    assert info.size == 10


@pytest.mark.parametrize("big", [False, True], ids=["one-part", "multipart"])
async def test_too_large_leaves_nothing_behind(blob_store, big):
    chunk = os.urandom(1024 * 1024)
    limit = 9 * 1024 * 1024 if big else 1000  # beyond one MinIO part, or within the first

    async def endless():
        for _ in range(12):
            yield chunk

    with pytest.raises(BlobTooLarge):
        await blob_store.put_stream("up/too-big", endless(), max_size=limit)
    assert not await blob_store.exists("up/too-big")
    assert [k async for k in blob_store.list("")] == []


async def test_too_large_keeps_the_previous_blob(blob_store):
    await blob_store.put_bytes("k", b"previous")
    with pytest.raises(BlobTooLarge):
        await blob_store.put_stream("k", chunks_of(b"x" * 100), max_size=10)
    assert await blob_store.read_bytes("k") == b"previous"


async def test_a_failing_source_leaves_nothing_behind(blob_store):
    async def broken():
        yield b"some bytes"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await blob_store.put_stream("up/broken", broken())
    assert [k async for k in blob_store.list("")] == []


async def test_missing_blob(blob_store):
    with pytest.raises(BlobNotFound):
        await blob_store.size("nope/missing")
    with pytest.raises(BlobNotFound):
        await blob_store.read_bytes("nope/missing")
    with pytest.raises(BlobNotFound):
        async for _ in blob_store.open("nope/missing"):
            pass
    assert not await blob_store.exists("nope/missing")


async def test_open_streams_in_chunks(blob_store):
    data = os.urandom(300_000)
    await blob_store.put_bytes("s", data)
    chunks = [c async for c in blob_store.open("s", chunk_size=64 * 1024)]
    assert len(chunks) > 1 and all(len(c) <= 64 * 1024 for c in chunks)
    assert b"".join(chunks) == data


async def test_delete(blob_store):
    await blob_store.put_bytes("d/x", b"1")
    await blob_store.delete("d/x")
    assert not await blob_store.exists("d/x")
    await blob_store.delete("d/x")  # missing is fine
    await blob_store.delete("never/was")


async def test_copy(blob_store):
    await blob_store.put_bytes("src/a", b"payload")
    await blob_store.copy("src/a", "dst/deep/b")
    assert await blob_store.read_bytes("dst/deep/b") == b"payload"
    assert await blob_store.read_bytes("src/a") == b"payload"
    await blob_store.put_bytes("src/a", b"changed")
    assert await blob_store.read_bytes("dst/deep/b") == b"payload"  # a copy, not a link
    with pytest.raises(BlobNotFound):
        await blob_store.copy("src/missing", "dst/c")
    assert not await blob_store.exists("dst/c")


async def test_list_by_prefix_in_key_order(blob_store):
    keys = ["indexes/bob/x", "indexes/alice/main/noarch/repodata.json", "indexes/alice/main/linux-64/repodata.json",
            "indexes/alicia/y", "files/sha256/ab/cd/abcd", "rendered/z"]
    for k in keys:
        await blob_store.put_bytes(k, k.encode())
    assert [k async for k in blob_store.list("indexes/alice/")] == [
        "indexes/alice/main/linux-64/repodata.json", "indexes/alice/main/noarch/repodata.json",
    ]
    # a prefix may end inside a segment
    assert [k async for k in blob_store.list("indexes/ali")] == [
        "indexes/alice/main/linux-64/repodata.json", "indexes/alice/main/noarch/repodata.json", "indexes/alicia/y",
    ]
    assert [k async for k in blob_store.list("")] == sorted(keys)
    assert [k async for k in blob_store.list("nothing/")] == []


BAD_KEYS = [
    "", "/etc/passwd", "../outside", "a/../../b", "a/./b", "a//b", "a/", "a\\b", "..\\x",
    "a/\x00b", "a/b\nc", "a/\x1bb",
]


@pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
async def test_bad_keys_are_refused(blob_store, key):
    with pytest.raises(ValueError):
        await blob_store.put_bytes(key, b"x")
    with pytest.raises(ValueError):
        await blob_store.size(key)
    with pytest.raises(ValueError):
        await blob_store.read_bytes(key)
    with pytest.raises(ValueError):
        await blob_store.delete(key)
    with pytest.raises(ValueError):
        await blob_store.copy("fine", key)
    assert [k async for k in blob_store.list("")] == []


@pytest.mark.parametrize("prefix", ["/", "../", "a/../", "a\\", "\x00"], ids=repr)
async def test_bad_prefixes_are_refused(blob_store, prefix):
    with pytest.raises(ValueError):
        async for _ in blob_store.list(prefix):
            pass


async def test_presigning_capability_is_declared(blob_store):
    if blob_store.supports_presigned:
        assert (await blob_store.presigned_get_url("some/key")).startswith("http")
        post = await blob_store.presigned_post("some/key", max_size=10)
        assert post.url.startswith("http") and post.fields
    else:
        with pytest.raises(NotImplementedError):
            await blob_store.presigned_get_url("some/key")
        with pytest.raises(NotImplementedError):
            await blob_store.presigned_post("some/key", max_size=10)


async def test_change_tag_changes_with_every_write_or_is_never_claimed(blob_store):
    assert blob_store.change_tag("tagged/doc") is None  # missing
    await blob_store.put_bytes("tagged/doc", b"one")
    first = blob_store.change_tag("tagged/doc")
    if first is None:
        # a store without cheap tags never claims one: readers fall back to a TTL
        await blob_store.put_bytes("tagged/doc", b"two")
        assert blob_store.change_tag("tagged/doc") is None
        return
    assert blob_store.change_tag("tagged/doc") == first  # stable while the blob is unchanged
    await blob_store.put_bytes("tagged/doc", b"one")  # the same bytes again are still a new version
    second = blob_store.change_tag("tagged/doc")
    assert second is not None and second != first
    await blob_store.delete("tagged/doc")
    assert blob_store.change_tag("tagged/doc") is None


async def test_write_bytes_stores_like_put_bytes(blob_store):
    await blob_store.write_bytes("indexes/alice/doc.json", b"first")
    assert await blob_store.read_bytes("indexes/alice/doc.json") == b"first"
    await blob_store.write_bytes("indexes/alice/doc.json", b"")  # replaced whole, even by nothing
    assert await blob_store.read_bytes("indexes/alice/doc.json") == b""
    assert [k async for k in blob_store.list("indexes/")] == ["indexes/alice/doc.json"]
    with pytest.raises(ValueError):
        await blob_store.write_bytes("../escape", b"x")


# --- generations: a stale publisher never replaces a newer document (issue 12) ----------


async def test_write_if_newer_keeps_the_newest_generation(blob_store):
    assert await blob_store.write_if_newer("idx/repodata.json", b"gen 3", 3)
    assert await blob_store.generation("idx/repodata.json") == 3
    assert not await blob_store.write_if_newer("idx/repodata.json", b"gen 2", 2)
    assert await blob_store.read_bytes("idx/repodata.json") == b"gen 3"
    assert await blob_store.write_if_newer("idx/repodata.json", b"gen 3 again", 3)  # a retried publish
    assert await blob_store.write_if_newer("idx/repodata.json", b"gen 9", 9)
    assert (await blob_store.read_bytes("idx/repodata.json"), await blob_store.generation("idx/repodata.json")) == (b"gen 9", 9)


async def test_a_blob_written_without_generation_is_older_than_any(blob_store):
    await blob_store.write_bytes("plain", b"plain")
    assert await blob_store.generation("plain") is None
    assert await blob_store.write_if_newer("plain", b"gen 0", 0)
    assert await blob_store.read_bytes("plain") == b"gen 0"
    with pytest.raises(BlobNotFound):
        await blob_store.generation("missing")


async def test_two_publishers_racing_leave_the_newest_copy(blob_store, second_blob_store):
    # Two publishers (two store objects over the same place, as two replicas have) write
    # the same documents at interleaved generations, concurrently; b then replays its older
    # copies, as a replica that lost an owner and still had writes in flight does. Whatever
    # order the writes land in, every document ends at the highest generation, with its
    # writer's bytes, and no write of b's stale copies goes through.
    keys = [f"race/{i}/repodata.json" for i in range(8)]

    async def publisher(store: BlobStore, name: str, generations) -> list[tuple[int, bool]]:
        outcomes = []
        for gen in generations:
            done = await asyncio.gather(*(store.write_if_newer(k, f"{name} {gen}".encode(), gen) for k in keys))
            outcomes.extend((gen, ok) for ok in done)
        return outcomes

    await asyncio.gather(publisher(blob_store, "a", range(0, 40, 2)), publisher(second_blob_store, "b", range(1, 41, 2)))
    for k in keys:
        assert (await blob_store.read_bytes(k), await blob_store.generation(k)) == (b"b 39", 39)
    stale = await publisher(second_blob_store, "b", range(37, 0, -2))
    assert not any(ok for _, ok in stale)
    stale = await publisher(blob_store, "a", [38])
    assert not any(ok for _, ok in stale)
    for k in keys:
        assert (await second_blob_store.read_bytes(k), await second_blob_store.generation(k)) == (b"b 39", 39)
