"""Concurrent uploads and replicas starting together, over every store backend."""

from __future__ import annotations

import asyncio

import pytest
from pkgcloud_registry.core import RegistryCore
from pkgcloud_servicekit.blobstore import content_key
from pkgcloud_servicekit.errors import Conflict
from pkgcloud_servicekit.events import decode

N = 50


async def staged(core, h, basename: str, data: bytes) -> str:
    """Stage and upload the bytes (as the client's form POST does); return the dist id."""
    res = await core.stage("alice", "hello", "1.0", basename, distribution_type="file", sha256=h.sha(data), form_post_url="http://gw/f")
    grant = await core.grant_form_upload(dict(res.form_data)["key"])
    await core.blobs.put_bytes(grant.blob_key, data)
    return res.dist_id


async def committed_events(core) -> list[str]:
    return [decode(p.payload).file_committed.file.basename for p in await core.store.pending_events(1000)]


async def test_concurrent_commits_of_identical_bytes_to_one_basename_all_succeed_as_one_file(core, h):
    await h.release(core)
    data = b"the same bytes\n" * 100
    dist_ids = await asyncio.gather(*(staged(core, h, "same.txt", data) for _ in range(N)))
    views = await asyncio.gather(*(core.commit("alice", "hello", "1.0", "same.txt", d) for d in dist_ids), return_exceptions=True)
    assert [type(v).__name__ for v in views] == ["FileView"] * N
    assert {v.file.sha256 for v in views} == {h.sha(data)}
    assert [f.basename for f in await core.store.list_files("alice", "hello")] == ["same.txt"]
    assert await committed_events(core) == ["same.txt"]
    # every stage is finished and no upload blob is left; the content blob is there once
    assert [k async for k in core.blobs.list("uploads/")] == []
    assert await core.blobs.exists(content_key(h.sha(data)))
    assert [s.state for s in [await core.store.get_stage(d) for d in dist_ids]] == ["committed"] * N


async def test_concurrent_commits_of_different_bytes_to_one_basename_one_wins_the_rest_conflict(core, h):
    await h.release(core)
    datas = [f"version {i}\n".encode() for i in range(N)]
    dist_ids = await asyncio.gather(*(staged(core, h, "clash.txt", d) for d in datas))
    results = await asyncio.gather(*(core.commit("alice", "hello", "1.0", "clash.txt", d) for d in dist_ids), return_exceptions=True)
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1
    assert [type(r).__name__ for r in results if isinstance(r, BaseException)] == ["Conflict"] * (N - 1)
    stored = await core.store.list_files("alice", "hello")
    assert [(f.basename, f.sha256) for f in stored] == [("clash.txt", winners[0].file.sha256)]
    assert await committed_events(core) == ["clash.txt"]
    # the losers' content blobs are not kept
    kept = {k async for k in core.blobs.list("files/")}
    assert kept == {content_key(winners[0].file.sha256)}
    # and a sequential retry of a loser is refused the same way
    with pytest.raises(Conflict):
        await core.commit("alice", "hello", "1.0", "clash.txt", dist_ids[results.index(next(r for r in results if isinstance(r, Conflict)))])


async def test_concurrent_commits_of_different_files_of_one_package_all_land(core, h):
    await h.release(core)
    names = [f"part-{i:02d}.txt" for i in range(N)]
    dist_ids = await asyncio.gather(*(staged(core, h, n, n.encode()) for n in names))
    await asyncio.gather(*(core.commit("alice", "hello", "1.0", n, d) for n, d in zip(names, dist_ids, strict=True)))
    assert sorted(f.basename for f in await core.store.list_files("alice", "hello")) == names
    assert sorted(await committed_events(core)) == names


async def test_replicas_open_one_fresh_store_together(store_factory, blobs, settings, h):
    """Two registry replicas started at once on the same empty database: both open (the
    SQLite migrations run once, MongoDB's index creation is idempotent) and share data."""
    a, b = await asyncio.gather(store_factory.open(), store_factory.open())
    core_a, core_b = RegistryCore(a, blobs, settings), RegistryCore(b, blobs, settings)
    await h.release(core_a)
    assert (await core_b.get_package("alice", "hello")).package.name == "hello"


async def test_an_upload_key_is_granted_at_once_while_many_reads_overlap(core, h):
    """The symptom of issue 12: a key staged a moment ago was "unknown or expired" at the
    form POST while other requests were reading. Every grant right after its stage works."""
    await h.release(core)
    done = asyncio.Event()
    refused: list[str] = []

    async def other_requests() -> None:
        while not done.is_set():
            await core.get_package("alice", "hello")
            await asyncio.sleep(0)

    async def form_post(key: str) -> None:
        try:
            await core.grant_form_upload(key)
        except Exception as e:  # any refusal is the failure under test
            refused.append(f"{key}: {e}")

    noise = [asyncio.create_task(other_requests()) for _ in range(12)]
    grants: list[asyncio.Task] = []
    try:
        for i in range(100):
            res = await core.stage("alice", "hello", "1.0", f"f{i}.txt", distribution_type="file", sha256=h.sha(b"%d" % i),
                                   form_post_url="http://gw/f")
            key = dict(res.form_data)["key"]
            grants += [asyncio.create_task(form_post(key)) for _ in range(4)]
            await asyncio.sleep(0)
        await asyncio.gather(*grants)
    finally:
        done.set()
        await asyncio.gather(*noise)
    assert refused == []
    assert len(grants) == 400
