"""Serving the simple pages index-svc stored: gzip for clients that ask (pip always does),
validators per representation, and a new page served as soon as it is written."""

from __future__ import annotations

import asyncio
import gzip
import json

from pkgcloud_gateway.blob_freshness import TAG_RECHECK_S
from pkgcloud_gateway.pypi import JSON_TYPE
from pkgcloud_servicekit.published import pypi_page_key, stored_document

PIP_ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"
PAGE = "/pypi/alice/simple/proj/"


def page(n_files: int) -> bytes:
    files = [{"filename": f"proj-1.0.{i}.tar.gz", "url": f"../../files/proj/1.0.{i}/proj-1.0.{i}.tar.gz",
              "hashes": {"sha256": f"{i:064x}"}} for i in range(n_files)]
    return json.dumps({"meta": {"api-version": "1.1"}, "name": "proj", "files": files}).encode()


async def store_page(blobs, body: bytes, etag: str, project: str = "proj") -> None:
    await blobs.put_bytes(pypi_page_key("alice", "public", "main", "json", project), stored_document(etag, body))


async def test_gzip_for_clients_that_accept_it(client, alice, blobs):
    body = page(200)
    await store_page(blobs, body, '"v1"')

    plain = await client.get(PAGE, headers={"Accept": PIP_ACCEPT, "Accept-Encoding": "identity"})
    assert plain.status == 200 and "Content-Encoding" not in plain.headers
    assert await plain.read() == body and plain.headers["ETag"] == '"v1"'
    assert plain.headers["Vary"] == "Accept, Accept-Encoding"

    # auto_decompress off: see the bytes on the wire
    zipped = await client.get(PAGE, headers={"Accept": PIP_ACCEPT, "Accept-Encoding": "gzip, deflate"}, auto_decompress=False)
    wire = await zipped.read()
    assert zipped.status == 200 and zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Content-Type"] == JSON_TYPE
    assert gzip.decompress(wire) == body and len(wire) < len(body) // 3
    assert zipped.headers["ETag"] == '"v1-gz"' != plain.headers["ETag"]

    refused = await client.get(PAGE, headers={"Accept": PIP_ACCEPT, "Accept-Encoding": "gzip;q=0"}, auto_decompress=False)
    assert "Content-Encoding" not in refused.headers and await refused.read() == body


async def test_either_validator_revalidates(client, alice, blobs):
    await store_page(blobs, page(50), '"v1"')
    for etag in ('"v1"', '"v1-gz"'):
        r = await client.get(PAGE, headers={"Accept": PIP_ACCEPT, "Accept-Encoding": "gzip", "If-None-Match": etag})
        assert r.status == 304 and await r.read() == b""
    r = await client.get(PAGE, headers={"Accept": PIP_ACCEPT, "If-None-Match": '"v0"'})
    assert r.status == 200


async def test_a_tiny_page_is_sent_as_is(client, alice, blobs):
    body = page(0)
    await store_page(blobs, body, '"t1"')
    r = await client.get(PAGE, headers={"Accept": PIP_ACCEPT, "Accept-Encoding": "gzip"}, auto_decompress=False)
    assert "Content-Encoding" not in r.headers and await r.read() == body and r.headers["ETag"] == '"t1"'


async def test_a_new_page_is_served_at_once(client, alice, blobs):
    # the filesystem store has change tags: no waiting out the page cache's TTL
    await store_page(blobs, page(3), '"a"')
    first = await client.get(PAGE, headers={"Accept": PIP_ACCEPT, "Accept-Encoding": "gzip"})
    assert first.headers["ETag"] == '"a-gz"' and len((await first.json())["files"]) == 3
    await store_page(blobs, page(4), '"b"')
    await asyncio.sleep(2 * TAG_RECHECK_S)  # tags are looked at every 10 ms (the TTL is 1 s)
    second = await client.get(PAGE, headers={"Accept": PIP_ACCEPT, "Accept-Encoding": "gzip"})
    assert second.headers["ETag"] == '"b-gz"' and len((await second.json())["files"]) == 4


async def test_revalidation_with_weak_tags_lists_and_star(client, alice, blobs):
    await store_page(blobs, page(50), '"v1"')
    for inm in ('W/"v1"', '"v0", "v1-gz"', "*"):
        r = await client.get(PAGE, headers={"Accept": PIP_ACCEPT, "Accept-Encoding": "gzip", "If-None-Match": inm})
        assert r.status == 304 and await r.read() == b"", inm
        assert r.headers["ETag"] == '"v1-gz"' and r.headers["Vary"] == "Accept, Accept-Encoding"
        assert r.headers["Cache-Control"].startswith("max-age=0, must-revalidate") and "Content-Encoding" not in r.headers
