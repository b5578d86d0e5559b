"""Temporary and partial blobs of writes that never finished are collected (issue 12).

A real process starts a streamed write into the store and is SIGKILLed mid-way, as a
gateway killed during an upload is. Afterwards: nothing under any key, something left
behind (a temporary file; an incomplete multipart upload on S3), kept while it is younger
than the TTL, gone after collect_temporary; committed blobs and writes in progress stay."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import boto3
from pkgcloud_servicekit.blobstore.filesystem import TMP_PREFIX, FilesystemBlobStore

S3_ACCESS_KEY, S3_SECRET_KEY = "pkgcloud-test", "pkgcloud-test-secret"  # as the s3_endpoint fixture's moto
TTL = 3600

_KILLED_WRITER = """
import asyncio, os, sys
from pkgcloud_servicekit.blobstore.filesystem import FilesystemBlobStore
from pkgcloud_servicekit.blobstore.minio_store import MinioBlobStore

kind, where, bucket, ACCESS, SECRET = sys.argv[1:6]
if kind == "filesystem":
    store = FilesystemBlobStore(where)
else:
    store = MinioBlobStore(where, ACCESS, SECRET, bucket)

async def chunks():
    for _ in range(9):  # more than one multipart part (8 MiB) on S3
        yield os.urandom(1024 * 1024)
    print("written", flush=True)
    await asyncio.Event().wait()  # the client stalls; then the process is killed

asyncio.run(store.put_stream("uploads/killed-upload", chunks()))
"""


async def kill_mid_write(kind: str, where: str, bucket: str = "-") -> None:
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, kind, where, bucket, S3_ACCESS_KEY, S3_SECRET_KEY], stdout=subprocess.PIPE, text=True)
    try:
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 120)
        assert line.strip() == "written"
        if kind == "minio":
            # the parts are uploaded by the SDK's threads: wait until S3 shows the upload
            await wait_until(lambda: len(pending_uploads(where, bucket)) == 1, "the multipart upload to start")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()


async def wait_until(check, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


def temp_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob(f"{TMP_PREFIX}*"))


def age(path: Path, seconds: float) -> None:
    """Make the file look untouched for `seconds` (instead of waiting that long)."""
    t = time.time() - seconds
    os.utime(path, (t, t))


async def test_filesystem_a_killed_write_leaves_a_temp_file_until_collected(tmp_path):
    root = tmp_path / "blobs"
    store = FilesystemBlobStore(root)
    await store.put_bytes("files/kept", b"committed")
    await kill_mid_write("filesystem", str(root))
    left = temp_files(root)
    assert len(left) == 1 and left[0].parent == root / "uploads" and left[0].stat().st_size >= 9 * 1024 * 1024
    assert [k async for k in store.list("")] == ["files/kept"]

    assert await store.collect_temporary(TTL) == 0  # younger than the TTL: may be a live write
    assert temp_files(root) == left

    age(left[0], TTL + 1)
    live = root / "indexes" / f"{TMP_PREFIX}in-progress"  # another write, going on now
    live.parent.mkdir(parents=True)
    live.write_bytes(b"partial")
    assert await store.collect_temporary(TTL) == 1
    assert temp_files(root) == [live]
    assert await store.read_bytes("files/kept") == b"committed"


def s3(endpoint: str):
    return boto3.client("s3", endpoint_url=f"http://{endpoint}", aws_access_key_id=S3_ACCESS_KEY,
                        aws_secret_access_key=S3_SECRET_KEY, region_name="us-east-1")


def pending_uploads(endpoint: str, bucket: str) -> list[dict]:
    return s3(endpoint).list_multipart_uploads(Bucket=bucket).get("Uploads", [])


async def test_minio_a_killed_write_leaves_a_multipart_upload_until_collected(make_minio_store, s3_endpoint):
    store = make_minio_store()
    await store.put_bytes("files/kept", b"committed")
    await kill_mid_write("minio", s3_endpoint, store.bucket)
    assert [u["Key"] for u in pending_uploads(s3_endpoint, store.bucket)] == ["uploads/killed-upload"]
    assert [k async for k in store.list("")] == ["files/kept"]

    # The age S3 reports for it (moto reports a fixed start time in 2010; MinIO and S3 the
    # real one): an upload younger than the threshold is kept, an older one aborted.
    (upload,) = pending_uploads(s3_endpoint, store.bucket)
    age_s = (datetime.now(UTC) - upload["Initiated"]).total_seconds()
    assert await store.collect_temporary(age_s + TTL) == 0
    assert len(pending_uploads(s3_endpoint, store.bucket)) == 1
    collected = await store.collect_temporary(age_s - 5)
    assert collected == 1
    assert pending_uploads(s3_endpoint, store.bucket) == []
    assert await store.read_bytes("files/kept") == b"committed"
