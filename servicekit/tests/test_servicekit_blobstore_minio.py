"""What only MinioBlobStore has, against moto's S3 server: bucket creation, aborted multipart
uploads, presigned GET fetched by plain HTTP, and the presigned POST sent exactly as
anaconda-client sends it (reference/s3-post-upload.md §0, §4, §6.2)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os

import boto3
import pytest
import requests
from pkgcloud_servicekit.blobstore import BlobTooLarge, make_blob_store
from pkgcloud_servicekit.blobstore.minio_store import MinioBlobStore
from pkgcloud_servicekit.settings import Settings

ACCESS, SECRET = "pkgcloud-test", "pkgcloud-test-secret"


def s3(endpoint: str):
    return boto3.client(
        "s3", endpoint_url=f"http://{endpoint}", aws_access_key_id=ACCESS, aws_secret_access_key=SECRET,
        region_name="us-east-1",
    )


async def test_from_settings_via_the_factory(s3_endpoint):
    settings = Settings(
        blob_backend="minio", minio_endpoint=s3_endpoint, minio_public_endpoint="files.example.com",
        minio_access_key=ACCESS, minio_secret_key=SECRET, minio_bucket="pkgcloud-from-settings", minio_secure=False,
        minio_region="eu-west-1",
    )
    store = make_blob_store(settings)
    try:
        assert isinstance(store, MinioBlobStore) and store.supports_presigned
        assert (store.bucket, store.region, store.public_endpoint) == ("pkgcloud-from-settings", "eu-west-1", "files.example.com")
        url = await store.presigned_get_url("a/b")
        assert url.startswith("http://files.example.com/pkgcloud-from-settings/a/b?") and "eu-west-1" in url
    finally:
        await store.close()


async def test_bucket_is_created_on_first_use(make_minio_store, s3_endpoint):
    store = make_minio_store()
    names = lambda: [b["Name"] for b in s3(s3_endpoint).list_buckets()["Buckets"]]  # noqa: E731
    assert store.bucket not in names()
    await store.put_bytes("x", b"1")
    assert store.bucket in names()
    # a second store on the same bucket (another process) finds it there
    again = make_minio_store(bucket=store.bucket)
    assert await again.read_bytes("x") == b"1"


async def test_an_oversized_multipart_upload_is_aborted(make_minio_store, s3_endpoint):
    store = make_minio_store()
    chunk = os.urandom(1024 * 1024)

    async def source():
        for _ in range(20):
            yield chunk

    with pytest.raises(BlobTooLarge):
        await store.put_stream("up/big", source(), max_size=10 * 1024 * 1024)
    assert s3(s3_endpoint).list_multipart_uploads(Bucket=store.bucket).get("Uploads", []) == []
    assert not await store.exists("up/big")


async def test_a_cancelled_upload_leaves_nothing(make_minio_store, s3_endpoint):
    store = make_minio_store()
    chunk = os.urandom(1024 * 1024)
    sent = asyncio.Event()

    async def stalls():
        for _ in range(9):  # more than one part, so a multipart upload is open
            yield chunk
        sent.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(store.put_stream("up/stalled", stalls()))
    await sent.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    client = s3(s3_endpoint)
    for _ in range(100):  # the worker thread aborts the upload right after the cancel
        if not client.list_multipart_uploads(Bucket=store.bucket).get("Uploads"):
            break
        await asyncio.sleep(0.05)
    assert client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", []) == []
    assert not await store.exists("up/stalled")


async def test_presigned_get_is_fetched_with_plain_http(make_minio_store):
    store = make_minio_store()
    data = os.urandom(100_000)
    await store.put_bytes("files/sha256/aa/bb/blob", data)
    url = await store.presigned_get_url("files/sha256/aa/bb/blob", expires_s=60, filename="numpy-1.0-0.tar.bz2")
    resp = await asyncio.to_thread(requests.get, url, timeout=10)
    assert resp.status_code == 200 and resp.content == data
    assert "numpy-1.0-0.tar.bz2" in resp.headers.get("Content-Disposition", "")


async def test_presigned_get_is_signed_for_the_public_endpoint(make_minio_store, s3_endpoint):
    port = s3_endpoint.rsplit(":", 1)[1]
    store = make_minio_store(public_endpoint=f"localhost:{port}")
    await store.put_bytes("k", b"via the public name")
    url = await store.presigned_get_url("k")
    assert url.startswith(f"http://localhost:{port}/{store.bucket}/k?")
    resp = await asyncio.to_thread(requests.get, url, timeout=10)
    assert resp.content == b"via the public name"


def anaconda_client_post(post_url: str, form_data: list[tuple[str, str]], filename: str, data: bytes) -> requests.Response:
    """The POST of anaconda-client's Binstar.upload: form_data as a dict, then Content-Length
    and Content-MD5 (base64) assigned into it, then `file` last, without a part content type."""
    s3data = dict(form_data)
    s3data["Content-Length"] = str(len(data))
    s3data["Content-MD5"] = base64.b64encode(hashlib.md5(data).digest()).decode()
    try:
        from requests_toolbelt import MultipartEncoder
    except ImportError:
        # requests puts data fields first (in order) and files after: the same body shape
        return requests.post(post_url, data=list(s3data.items()), files={"file": (filename, data)}, timeout=30)
    fields = dict(s3data)
    fields["file"] = (filename, data)
    encoder = MultipartEncoder(fields)
    return requests.post(post_url, data=encoder, headers={"Content-Type": encoder.content_type}, timeout=30)


async def test_presigned_post_as_anaconda_client_sends_it(make_minio_store):
    store = make_minio_store()
    key = "alice/x/1/noarch/x-1-0.tar.bz2"
    post = await store.presigned_post(key, max_size=1024 * 1024, expires_s=600)
    assert post.url == f"http://{store.public_endpoint}/{store.bucket}"
    assert [name for name, _ in post.fields] == [
        "key", "success_action_status", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "policy", "x-amz-signature",
    ]
    assert dict(post.fields)["key"] == key and dict(post.fields)["success_action_status"] == "201"
    data = os.urandom(50_000)
    resp = await asyncio.to_thread(anaconda_client_post, post.url, post.fields, "noarch/x-1-0.tar.bz2", data)
    assert resp.status_code == 201, resp.text
    assert await store.read_bytes(key) == data
    assert await store.size(key) == len(data)


async def test_presigned_post_makes_the_bucket_exist(make_minio_store):
    # stage is often the first thing a fresh deployment does with the store
    store = make_minio_store()
    post = await store.presigned_post("k/first", max_size=100)
    resp = await asyncio.to_thread(anaconda_client_post, post.url, post.fields, "noarch/x-1-0.tar.bz2", b"tiny")
    assert resp.status_code == 201
    assert await store.read_bytes("k/first") == b"tiny"
