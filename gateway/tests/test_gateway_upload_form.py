"""The staged upload through the embedded form endpoint, as anaconda-client drives it."""

from __future__ import annotations

import base64
import hashlib
import io

import aiohttp
import pytest

DATA = b"hello world\n"
MD5_B64 = "b1kCrCNwJL3QwXbLkwY9xA=="
SHA256 = "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447"


@pytest.fixture
async def release(client, alice):
    r = await client.post("/api/package/alice/mypkg", headers=alice,
                          json={"public": True, "publish": False, "public_attrs": {"summary": "s", "package_types": ["file"]}})
    assert r.status == 200
    r = await client.post("/api/release/alice/mypkg/1.0", headers=alice, json={"requirements": [], "announce": None, "description": ""})
    assert r.status == 200


async def _stage(client, alice, basename="dummy.txt", sha256=SHA256):
    body = {"distribution_type": "file", "description": None, "attrs": {}, "dependencies": None, "channels": ["dev"], "sha256": sha256}
    r = await client.post(f"/api/stage/alice/mypkg/1.0/{basename}", headers=alice, json=body)
    assert r.status == 200, await r.text()
    return await r.json()


def _form(staged, data, filename="dummy.txt", *, md5=None, length=None, extra=()):
    form = aiohttp.FormData()
    for k, v in staged["form_data"].items():
        form.add_field(k, v)
    for k, v in extra:
        form.add_field(k, v)
    form.add_field("Content-Length", str(len(data)) if length is None else length)
    form.add_field("Content-MD5", MD5_B64 if md5 is None else md5)
    form.add_field("file", io.BytesIO(data), filename=filename)
    return form


async def _post_form(client, staged, form):
    # post_url is absolute; the test client talks to the same server
    path = staged["post_url"].split("://", 1)[1].split("/", 1)[1]
    return await client.post("/" + path, data=form)


def _uploads_left(blobs_root):
    return [p for p in blobs_root.rglob("*") if p.is_file() and "uploads" in p.parts]


async def test_happy_path_stage_form_commit_download(client, alice, release, blobs):
    staged = await _stage(client, alice)
    assert staged["post_url"].endswith("/api/upload-form") and staged["post_url"].startswith("http://")
    assert list(staged["form_data"]) == ["key", "success_action_status"]
    r = await _post_form(client, staged, _form(staged, DATA))
    assert r.status == 201, await r.text()
    assert b"<PostResponse>" in await r.read()
    r = await client.post("/api/commit/alice/mypkg/1.0/dummy.txt", headers=alice, json={"dist_id": staged["dist_id"]})
    assert r.status == 200, await r.text()
    body = await r.json()
    assert body["basename"] == "dummy.txt" and body["url"].endswith("/alice/mypkg")

    pkg = await (await client.get("/api/package/alice/mypkg", headers=alice)).json()
    [f] = pkg["files"]
    assert (f["basename"], f["version"], f["type"], f["sha256"], f["size"], f["labels"]) == ("dummy.txt", "1.0", "file", SHA256, 12, ["dev"])
    assert f["full_name"] == "alice/mypkg/1.0/dummy.txt" and f["upload_time"] and f["md5"]
    rel = await (await client.get("/api/release/alice/mypkg/1.0", headers=alice)).json()
    assert [d["basename"] for d in rel["distributions"]] == ["dummy.txt"]

    r = await client.get("/api/download/alice/mypkg/1.0/dummy.txt")
    assert r.status == 200 and await r.read() == DATA
    assert r.headers["ETag"] == f'"{SHA256}"' and r.headers["Content-Length"] == "12"
    assert 'filename="dummy.txt"' in r.headers["Content-Disposition"]
    assert _uploads_left(blobs.root) == []


async def test_conda_basename_with_subdir(client, alice, release):
    staged = await _stage(client, alice, "noarch/x-1.0-py_0.tar.bz2")
    r = await _post_form(client, staged, _form(staged, DATA, filename="noarch/x-1.0-py_0.tar.bz2"))
    assert r.status == 201
    r = await client.post("/api/commit/alice/mypkg/1.0/noarch/x-1.0-py_0.tar.bz2", headers=alice, json={"dist_id": staged["dist_id"]})
    assert r.status == 200, await r.text()
    r = await client.get("/api/dist/alice/mypkg/1.0/noarch/x-1.0-py_0.tar.bz2", headers=alice)
    assert r.status == 200 and (await r.json())["basename"] == "noarch/x-1.0-py_0.tar.bz2"


async def test_digest_mismatch_is_bad_digest_and_leaves_nothing(client, alice, release, blobs):
    staged = await _stage(client, alice)
    r = await _post_form(client, staged, _form(staged, DATA, md5=base64.b64encode(b"0" * 16).decode()))
    assert r.status == 400
    assert b"<Code>BadDigest</Code>" in await r.read()
    assert _uploads_left(blobs.root) == []
    r = await client.post("/api/commit/alice/mypkg/1.0/dummy.txt", headers=alice, json={"dist_id": staged["dist_id"]})
    assert r.status == 400


async def test_malformed_md5_is_invalid_digest(client, alice, release, blobs):
    staged = await _stage(client, alice)
    for bad in ("not base64!!", base64.b64encode(b"short").decode()):
        r = await _post_form(client, staged, _form(staged, DATA, md5=bad))
        assert r.status == 400
        assert b"<Code>InvalidDigest</Code>" in await r.read()
    assert _uploads_left(blobs.root) == []


async def test_size_mismatch_is_refused_and_leaves_nothing(client, alice, release, blobs):
    staged = await _stage(client, alice)
    r = await _post_form(client, staged, _form(staged, DATA, length="99"))
    assert r.status == 400
    assert b"<Code>IncompleteBody</Code>" in await r.read()
    r = await _post_form(client, staged, _form(staged, DATA, length="twelve"))
    assert r.status == 400 and b"<Code>" in await r.read()
    assert _uploads_left(blobs.root) == []


async def test_unknown_key_is_access_denied(client, alice, release, blobs):
    staged = await _stage(client, alice)
    forged = dict(staged, form_data={**staged["form_data"], "key": "uploads/forged"})
    r = await _post_form(client, staged, _form(forged, DATA))
    assert r.status == 403
    body = await r.read()
    assert b"<Error><Code>AccessDenied</Code>" in body
    assert _uploads_left(blobs.root) == []


async def test_too_large_is_refused(client, alice, release, blobs, fake_registry):
    fake_registry.max_size = 8
    staged = await _stage(client, alice)
    r = await _post_form(client, staged, _form(staged, DATA))
    assert r.status == 400 and b"<Code>EntityTooLarge</Code>" in await r.read()
    # without a declared length the stream itself is cut off
    form = aiohttp.FormData()
    for k, v in staged["form_data"].items():
        form.add_field(k, v)
    form.add_field("file", io.BytesIO(DATA), filename="dummy.txt")
    r = await _post_form(client, staged, form)
    assert r.status == 400 and b"<Code>EntityTooLarge</Code>" in await r.read()
    assert _uploads_left(blobs.root) == []


async def test_not_multipart_or_no_file(client, alice, release):
    r = await client.post("/api/upload-form", data=b"key=x")
    assert r.status == 400 and b"<Code>MalformedPOSTRequest</Code>" in await r.read()
    form = aiohttp.FormData()
    form.add_field("key", "x")
    form.add_field("other", "y")
    r = await client.post("/api/upload-form", data=form)
    assert r.status == 400 and b"<Code>" in await r.read()


async def test_bigger_file_streams_intact(client, alice, release, fake_registry):
    data = hashlib.sha256(b"seed").digest() * (3 * 1024 * 1024 // 32)  # 3 MiB
    staged = await _stage(client, alice, "big.bin", hashlib.sha256(data).hexdigest())
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    r = await _post_form(client, staged, _form(staged, data, filename="big.bin", md5=md5))
    assert r.status == 201
    r = await client.post("/api/commit/alice/mypkg/1.0/big.bin", headers=alice, json={"dist_id": staged["dist_id"]})
    assert r.status == 200
    r = await client.get("/api/download/alice/mypkg/1.0/big.bin")
    got = await r.read()
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
    r2 = await client.get("/api/download/alice/mypkg/1.0/big.bin", headers={"If-None-Match": r.headers["ETag"]})
    assert r2.status == 304
