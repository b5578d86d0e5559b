"""The conda channel routes (conda.py): index documents as index-svc published them, with
ETag/Last-Modified/Cache-Control, 304s and HEAD; label routing; the public/private view;
package files (a private or unlabelled file answers exactly as a missing one)."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from pkgcloud_gateway import conda, keys
from pkgcloud_gateway.blob_freshness import TAG_RECHECK_S
from pkgcloud_protos.v1 import common_pb2, registry_pb2
from pkgcloud_servicekit.blobstore import content_key
from pkgcloud_servicekit.published import conda_document_key, etag_of_digest, stored_document

REPODATA = '{"info":{"subdir":"noarch"},"packages":{},"packages.conda":{"x-1-0.conda":{}},"removed":[],"repodata_version":1}'


@pytest.fixture
def alice(fake_auth):
    """alice's token, carrying every scope (scope rules are the access-control tests' business)."""
    fake_auth.add_user("alice", "alice-pw")
    token = fake_auth.add_token("alice")
    fake_auth.tokens[hashlib.sha256(token.encode()).hexdigest()].scopes[:] = ["all"]
    return {"Authorization": f"token {token}"}


async def publish(blobs, owner, view, label, path, body: bytes) -> None:
    await blobs.put_bytes(conda_document_key(owner, view, label, path), body)


async def add_package_file(fake_registry, blobs, owner, name, version, basename, *, public=True, labels=("main",)) -> bytes:
    data = f"{basename} bytes".encode()
    sha = hashlib.sha256(data).hexdigest()
    await blobs.put_bytes(content_key(sha), data)
    fake_registry.packages.setdefault((owner, name), registry_pb2.Package(owner=owner, name=name, public=public))
    fake_registry.files[(owner, name, version, basename)] = common_pb2.FileRecord(
        owner=owner, package=name, version=version, basename=basename, type="conda", labels=list(labels), size=len(data),
        sha256=sha, blob_key=content_key(sha),
    )
    return data


async def test_index_document_headers_and_revalidation(client, blobs):
    await publish(blobs, "alice", "public", "main", "noarch/repodata.json", REPODATA.encode())
    r = await client.get("/conda/alice/noarch/repodata.json")
    assert r.status == 200 and await r.text() == REPODATA
    etag, last_modified = r.headers["ETag"], r.headers["Last-Modified"]
    assert etag.startswith('"') and r.headers["Cache-Control"] == "public, max-age=0, must-revalidate"
    assert r.headers["Content-Type"].startswith("application/json")

    r = await client.get("/conda/alice/noarch/repodata.json", headers={"If-None-Match": etag})
    assert r.status == 304 and await r.read() == b"" and r.headers["ETag"] == etag
    assert r.headers["Cache-Control"] == "public, max-age=0, must-revalidate"
    r = await client.get("/conda/alice/noarch/repodata.json", headers={"If-None-Match": f'"other", W/{etag}'})
    assert r.status == 304
    r = await client.get("/conda/alice/noarch/repodata.json", headers={"If-Modified-Since": last_modified})
    assert r.status == 304
    r = await client.get("/conda/alice/noarch/repodata.json", headers={"If-None-Match": '"stale"'})
    assert r.status == 200 and await r.text() == REPODATA
    r = await client.get("/conda/alice/noarch/repodata.json", headers={"If-Modified-Since": "not a date"})
    assert r.status == 200


async def test_head_answers_headers_without_body(client, blobs):
    await publish(blobs, "alice", "public", "main", "noarch/repodata.json.zst", b"\x28\xb5\x2f\xfd zst")
    r = await client.head("/conda/alice/noarch/repodata.json.zst")
    assert r.status == 200 and await r.read() == b""
    assert r.headers["Content-Length"] == str(len(b"\x28\xb5\x2f\xfd zst")) and r.headers["Content-Type"] == "application/zstd"
    r = await client.head("/conda/alice/linux-64/repodata.json")
    assert r.status == 404


async def test_new_content_gets_a_new_etag(client, app, blobs):
    await publish(blobs, "alice", "public", "main", "noarch/repodata.json", REPODATA.encode())
    first = (await client.get("/conda/alice/noarch/repodata.json")).headers["ETag"]
    await publish(blobs, "alice", "public", "main", "noarch/repodata.json", REPODATA.replace("x-1-0", "x-2-0").encode())
    app[keys.DOCUMENTS].clear()  # as after the reuse window
    r = await client.get("/conda/alice/noarch/repodata.json", headers={"If-None-Match": first})
    assert r.status == 200 and r.headers["ETag"] != first and "x-2-0" in await r.text()


async def test_missing_documents(client):
    # noarch/repodata.json exists for every owner and label, even before anything is published
    r = await client.get("/conda/nobody/label/dev/noarch/repodata.json")
    assert r.status == 200 and (await r.json())["info"] == {"subdir": "noarch"}
    assert (await client.get("/conda/nobody/channeldata.json")).status == 200
    for path in ("linux-64/repodata.json", "noarch/nothing.json", "label/dev", "label//noarch/repodata.json",
                 "noarch//repodata.json", "noarch/shards/abc.txt"):
        r = await client.get(f"/conda/alice/{path}")
        assert r.status == 404, path


async def test_label_routing(client, blobs):
    await publish(blobs, "alice", "public", "main", "noarch/repodata.json", b'{"main":1}')
    await publish(blobs, "alice", "public", "dev", "noarch/repodata.json", b'{"dev":1}')
    await publish(blobs, "alice", "public", "dev", "channeldata.json", b'{"channeldata_version":1,"dev":1}')
    assert await (await client.get("/conda/alice/noarch/repodata.json")).read() == b'{"main":1}'
    assert await (await client.get("/conda/alice/label/main/noarch/repodata.json")).read() == b'{"main":1}'
    assert await (await client.get("/conda/alice/label/dev/noarch/repodata.json")).read() == b'{"dev":1}'
    assert await (await client.get("/conda/alice/label/dev/channeldata.json")).read() == b'{"channeldata_version":1,"dev":1}'
    # the conda.<host> form routes the same way
    r = await client.get("/alice/label/dev/noarch/repodata.json", headers={"Host": "conda.pkgs.test"})
    assert r.status == 200 and await r.read() == b'{"dev":1}'


async def test_private_view_for_the_owner_only(client, blobs, alice, bob, fake_auth):
    await publish(blobs, "alice", "public", "main", "noarch/repodata.json", b'{"view":"public"}')
    await publish(blobs, "alice", "private", "main", "noarch/repodata.json", b'{"view":"private"}')
    anonymous = await client.get("/conda/alice/noarch/repodata.json")
    assert await anonymous.read() == b'{"view":"public"}' and anonymous.headers["Cache-Control"].startswith("public")
    other = await client.get("/conda/alice/noarch/repodata.json", headers=bob)
    assert await other.read() == b'{"view":"public"}'
    token = alice["Authorization"].split()[1]
    for kwargs in ({"headers": alice}, {"headers": {"Authorization": f"Bearer {token}"}}):
        r = await client.get("/conda/alice/noarch/repodata.json", **kwargs)
        assert await r.read() == b'{"view":"private"}' and r.headers["Cache-Control"] == "private, max-age=0, must-revalidate"
    r = await client.get(f"/conda/t/{token}/alice/noarch/repodata.json")
    assert await r.read() == b'{"view":"private"}'


async def test_shards_are_immutable(client, blobs):
    digest = "ab" * 32
    await publish(blobs, "alice", "public", "main", f"noarch/shards/{digest}.msgpack.zst", b"shard")
    r = await client.get(f"/conda/alice/noarch/shards/{digest}.msgpack.zst")
    assert r.status == 200 and await r.read() == b"shard"
    assert r.headers["Cache-Control"] == conda.IMMUTABLE
    r = await client.get(f"/conda/alice/noarch/shards/{'cd' * 32}.msgpack.zst")
    assert r.status == 404


async def test_package_files(client, blobs, fake_registry, alice):
    data = await add_package_file(fake_registry, blobs, "alice", "mylib", "1.0", "noarch/mylib-1.0-0.conda")
    r = await client.get("/conda/alice/noarch/mylib-1.0-0.conda")
    # replaceable under its name (--force): never immutable; the ETag is the content's sha256
    assert r.status == 200 and await r.read() == data and r.headers["Cache-Control"] == "public, no-cache"
    assert r.headers["ETag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    again = await client.get("/conda/alice/noarch/mylib-1.0-0.conda", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status == 304 and again.headers["Cache-Control"] == "public, no-cache"
    key = ("alice", "mylib", "1.0", "noarch/mylib-1.0-0.conda")
    assert fake_registry.files[key].download_count == 1
    r = await client.head("/conda/alice/noarch/mylib-1.0-0.conda")
    assert r.status == 200 and await r.read() == b""
    assert fake_registry.files[key].download_count == 1  # a HEAD is not a download
    # only served in the labels the file carries
    assert (await client.get("/conda/alice/label/dev/noarch/mylib-1.0-0.conda")).status == 404
    await add_package_file(fake_registry, blobs, "alice", "mylib", "1.1", "noarch/mylib-1.1-0.conda", labels=("dev",))
    assert (await client.get("/conda/alice/label/dev/noarch/mylib-1.1-0.conda")).status == 200
    assert (await client.get("/conda/alice/noarch/mylib-1.1-0.conda")).status == 404


async def test_private_file_is_a_404_like_a_missing_one(client, blobs, fake_registry, alice, bob):
    data = await add_package_file(fake_registry, blobs, "alice", "secret", "1.0", "linux-64/secret-1.0-0.tar.bz2", public=False)
    missing = await client.get("/conda/alice/linux-64/nothing-1.0-0.tar.bz2")
    assert missing.status == 404
    for headers in ({}, bob):
        r = await client.get("/conda/alice/linux-64/secret-1.0-0.tar.bz2", headers=headers)
        assert r.status == 404 and await r.json() == await missing.json()
        r = await client.head("/conda/alice/linux-64/secret-1.0-0.tar.bz2", headers=headers)
        assert r.status == 404
    r = await client.get("/conda/alice/linux-64/secret-1.0-0.tar.bz2", headers=alice)
    assert r.status == 200 and await r.read() == data
    assert r.headers["Cache-Control"] == "private, no-cache"
    # names that are not <name>-<version>-<build> are simply not found
    assert (await client.get("/conda/alice/linux-64/garbage.tar.bz2")).status == 404


async def test_a_new_index_is_served_at_once(client, blobs):
    # the filesystem store has change tags: a rewritten repodata.json is served on the next
    # request, not after the document cache's TTL
    await publish(blobs, "alice", "public", "main", "noarch/repodata.json", REPODATA.encode())
    first = await client.get("/conda/alice/noarch/repodata.json")
    newer = REPODATA.replace("x-1-0", "x-2-0")
    await publish(blobs, "alice", "public", "main", "noarch/repodata.json", newer.encode())
    await asyncio.sleep(2 * TAG_RECHECK_S)  # tags are looked at every 10 ms (the TTL is 100 ms)
    second = await client.get("/conda/alice/noarch/repodata.json")
    assert await first.text() == REPODATA and await second.text() == newer
    assert first.headers["ETag"] != second.headers["ETag"]


async def test_framed_documents_are_served_with_the_publishers_etag(client, blobs):
    # index-svc stores `<etag>\n<body>`: the body goes out byte for byte, the ETag is the stored one
    body = REPODATA.encode()
    await blobs.put_bytes(conda_document_key("alice", "public", "main", "noarch/repodata.json"),
                          stored_document('"0123456789abcdef0123456789abcdef"', body))
    zst = b"\x28\xb5\x2f\xfd zst"
    await blobs.put_bytes(conda_document_key("alice", "public", "main", "noarch/repodata.json.zst"), stored_document('"z1"', zst))
    r = await client.get("/conda/alice/noarch/repodata.json")
    assert r.status == 200 and await r.read() == body and r.headers["ETag"] == '"0123456789abcdef0123456789abcdef"'
    assert r.headers["Content-Length"] == str(len(body)) and "Last-Modified" in r.headers
    r = await client.get("/conda/alice/noarch/repodata.json.zst")
    assert await r.read() == zst and r.headers["ETag"] == '"z1"' and r.headers["Content-Type"] == "application/zstd"
    for inm in ('"z1"', 'W/"z1"', '"a", "z1"', "*"):
        r = await client.get("/conda/alice/noarch/repodata.json.zst", headers={"If-None-Match": inm})
        assert r.status == 304 and await r.read() == b"" and r.headers["ETag"] == '"z1"', inm
        assert r.headers["Cache-Control"] == "public, max-age=0, must-revalidate" and "Last-Modified" in r.headers


async def test_a_legacy_document_keeps_the_etag_it_had(client, blobs):
    # published before the framing: hashed as the gateway always did, the ETag a framed copy now carries
    await publish(blobs, "alice", "public", "main", "noarch/repodata.json", REPODATA.encode())
    r = await client.get("/conda/alice/noarch/repodata.json")
    assert r.headers["ETag"] == etag_of_digest(hashlib.sha256(REPODATA.encode()).hexdigest())


async def test_package_file_revalidation_with_weak_tags_and_lists(client, blobs, fake_registry):
    data = await add_package_file(fake_registry, blobs, "alice", "mylib", "1.0", "noarch/mylib-1.0-0.conda")
    etag = f'"{hashlib.sha256(data).hexdigest()}"'
    for inm in (f"W/{etag}", f'"x", {etag}', "*"):
        r = await client.get("/conda/alice/noarch/mylib-1.0-0.conda", headers={"If-None-Match": inm})
        assert r.status == 304 and r.headers["ETag"] == etag and "Content-Disposition" not in r.headers, inm
    key = ("alice", "mylib", "1.0", "noarch/mylib-1.0-0.conda")
    assert fake_registry.files[key].download_count == 0  # a revalidation is not a download
