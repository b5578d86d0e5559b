"""A killed upload leaves nothing behind once the janitor has run (issue 12).

A real process (standing in for a gateway killed mid-upload) streams the bytes of a staged
upload into the filesystem blob store and is SIGKILLed; the stage expires. One janitor pass
(as at start and then periodically) leaves no upload blob, no temporary file and no stage."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

from pkgcloud_registry import core as core_module
from pkgcloud_servicekit.blobstore.filesystem import TMP_PREFIX

_WRITER = """
import asyncio, os, sys
from pkgcloud_servicekit.blobstore.filesystem import FilesystemBlobStore

async def chunks():
    for _ in range(4):
        yield os.urandom(1024 * 1024)
    print("written", flush=True)
    await asyncio.Event().wait()

asyncio.run(FilesystemBlobStore(sys.argv[1]).put_stream(sys.argv[2], chunks()))
"""


async def test_a_killed_upload_leaves_nothing_after_the_janitor(core, h, settings, monkeypatch):
    await h.release(core)
    kept = await h.upload(core, "alice", "hello", "1.0", "kept.txt", b"kept\n")
    res = await core.stage("alice", "hello", "1.0", "killed.bin", distribution_type="file", sha256="0" * 64, form_post_url="http://gw/f")
    key = dict(res.form_data)["key"]
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(core.blobs.root), key], stdout=subprocess.PIPE, text=True)
    try:
        assert (await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 120)).strip() == "written"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    left = list(core.blobs.root.rglob(f"{TMP_PREFIX}*"))
    assert len(left) == 1

    # a pass while the stage is open keeps the write (it may still be going on)
    await core.cleanup_stages()
    assert list(core.blobs.root.rglob(f"{TMP_PREFIX}*")) == left

    # a stage TTL later (the clocks moved instead of waiting): the stage has expired and the
    # temporary file has not been written to since
    later_ms = core_module.now_ms() + (settings.stage_ttl_s + 1) * 1000
    monkeypatch.setattr(core_module, "now_ms", lambda: later_ms)
    old = time.time() - settings.stage_ttl_s - 1
    os.utime(left[0], (old, old))
    assert await core.cleanup_stages() >= 1
    assert list(core.blobs.root.rglob(f"{TMP_PREFIX}*")) == []
    assert [k async for k in core.blobs.list("uploads/")] == []
    assert await core.store.get_stage(res.dist_id) is None
    assert await core.blobs.read_bytes(kept.file.blob_key) == b"kept\n"
