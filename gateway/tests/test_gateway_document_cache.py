"""The gateway's one cache of published documents (document_cache.py): ETags read from the
publisher's framing, legacy (unframed) blobs hashed as before, versions, forms, bounds."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from pkgcloud_gateway import document_cache
from pkgcloud_gateway.blob_freshness import TAG_RECHECK_S
from pkgcloud_gateway.document_cache import CachePolicy, Document, DocumentCache
from pkgcloud_servicekit.blobstore.filesystem import FilesystemBlobStore
from pkgcloud_servicekit.published import etag_of_digest, stored_document

REPODATA = b'{"info":{"subdir":"noarch"},"packages":{},"packages.conda":{},"removed":[],"repodata_version":1}'
ZSTD = b"\x28\xb5\x2f\xfd" + b"compressed bytes"
POLICY = CachePolicy(ttl_s=1.0, untagged_ttl_s=0.1)


class Untagged(FilesystemBlobStore):
    """A store without change tags (as MinIO): only the TTLs decide; counts reads."""

    reads = 0

    def change_tag(self, key):
        return None

    async def read_bytes(self, key):
        self.reads += 1
        return await super().read_bytes(key)


@pytest.fixture
def blobs(tmp_path):
    return FilesystemBlobStore(tmp_path / "blobs")


def sha_etag(body: bytes) -> str:
    return etag_of_digest(hashlib.sha256(body).hexdigest())


async def test_a_framed_document_brings_its_etag_and_is_not_hashed(blobs, monkeypatch):
    await blobs.put_bytes("k", stored_document('"from-the-publisher"', REPODATA))

    async def no_hashing(body):
        raise AssertionError("a framed document was hashed")

    monkeypatch.setattr(document_cache, "sha256_etag", no_hashing)
    doc = await DocumentCache().get(blobs, "k", POLICY)
    assert doc.body == REPODATA and doc.etag == '"from-the-publisher"' and doc.last_modified > 0


@pytest.mark.parametrize("body", [REPODATA, ZSTD], ids=["json", "zstd"])
async def test_an_unframed_document_is_hashed_to_the_etag_the_publisher_now_stores(blobs, body):
    # published before the framing: a JSON document starts with "{", a zstd one with its magic
    await blobs.put_bytes("legacy", body)
    await blobs.put_bytes("framed", stored_document(sha_etag(body), body))
    cache = DocumentCache()
    legacy, framed = await cache.get(blobs, "legacy", POLICY), await cache.get(blobs, "framed", POLICY)
    assert legacy.body == framed.body == body
    assert legacy.etag == framed.etag == sha_etag(body)  # a client's validator survives the republish


async def test_a_big_unframed_document_is_hashed_off_the_event_loop(blobs):
    body = b"{" + b" " * (2 * 1024 * 1024) + b"}"
    await blobs.put_bytes("big", body)
    assert (await DocumentCache().get(blobs, "big", POLICY)).etag == sha_etag(body)


async def test_missing_documents(blobs, tmp_path):
    cache = DocumentCache()
    assert await cache.get(blobs, "absent", POLICY) is None and len(cache) == 0
    remembered = CachePolicy(ttl_s=1.0, untagged_ttl_s=1.0, remember_missing=True)
    assert await cache.get(blobs, "absent", remembered) is None and len(cache) == 1
    await blobs.put_bytes("absent", stored_document('"v1"', b"{}"))
    # with change tags, the new blob's tag ends the remembered miss
    assert (await cache.get(blobs, "absent", remembered)).etag == '"v1"'
    # without, it lasts its TTL
    untagged = Untagged(tmp_path / "untagged")
    assert await cache.get(untagged, "gone", remembered) is None
    await untagged.put_bytes("gone", stored_document('"v1"', b"{}"))
    assert await cache.get(untagged, "gone", remembered) is None and untagged.reads == 1


async def test_a_rewrite_is_served_once_its_change_tag_moves(blobs):
    cache = DocumentCache()
    await blobs.put_bytes("k", stored_document('"v1"', b"{1}"))
    first = await cache.get(blobs, "k", POLICY)
    await blobs.put_bytes("k", stored_document('"v2"', b"{2}"))
    await asyncio.sleep(2 * TAG_RECHECK_S)
    second = await cache.get(blobs, "k", POLICY)
    assert (first.etag, second.etag, second.body) == ('"v1"', '"v2"', b"{2}")


async def test_without_change_tags_the_untagged_ttl_decides(tmp_path):
    blobs = Untagged(tmp_path / "untagged")
    cache = DocumentCache()
    policy = CachePolicy(ttl_s=10.0, untagged_ttl_s=0.05)
    await blobs.put_bytes("k", stored_document('"v1"', b"{1}"))
    assert (await cache.get(blobs, "k", policy)).etag == '"v1"'
    await blobs.put_bytes("k", stored_document('"v2"', b"{2}"))
    assert (await cache.get(blobs, "k", policy)).etag == '"v1"' and blobs.reads == 1  # kept within the TTL
    await asyncio.sleep(0.08)
    assert (await cache.get(blobs, "k", policy)).etag == '"v2"' and blobs.reads == 2


async def test_an_unchanged_version_keeps_its_last_modified_and_forms(tmp_path):
    blobs = Untagged(tmp_path / "untagged")
    cache = DocumentCache()
    policy = CachePolicy(ttl_s=0.0, untagged_ttl_s=0.0)  # read again every time
    await blobs.put_bytes("k", stored_document('"v1"', b"{1}"))
    first = await cache.get(blobs, "k", policy)
    made = []

    async def gz(doc: Document) -> Document:
        made.append(doc.etag)
        return Document(doc.body.upper(), doc.etag[:-1] + '-gz"')

    assert (await cache.form("k", first, "gzip", gz)).etag == '"v1-gz"'
    again = await cache.get(blobs, "k", policy)
    assert again is first and blobs.reads == 2
    await cache.form("k", again, "gzip", gz)
    assert made == ['"v1"']  # made once per version
    await blobs.put_bytes("k", stored_document('"v2"', b"{2}"))
    newer = await cache.get(blobs, "k", policy)
    assert newer is not first and (await cache.form("k", newer, "gzip", gz)).etag == '"v2-gz"' and made == ['"v1"', '"v2"']


async def test_immutable_documents_are_not_read_again(tmp_path):
    blobs = Untagged(tmp_path / "untagged")
    cache = DocumentCache()
    rendered = CachePolicy(ttl_s=0.0, untagged_ttl_s=0.0, immutable=True, hash_unframed=False)
    await blobs.put_bytes("page.html", b"<html></html>")
    doc = await cache.get(blobs, "page.html", rendered)
    assert doc.body == b"<html></html>" and doc.etag == ""  # the route makes its own validator
    assert await cache.get(blobs, "page.html", rendered) is doc and blobs.reads == 1


async def test_bounded_by_entries_and_bytes(blobs):
    cache = DocumentCache(entries=3, max_bytes=100)
    for i in range(5):
        await blobs.put_bytes(f"k{i}", stored_document(f'"v{i}"', b"{" + b"x" * 10 + b"}"))
        await cache.get(blobs, f"k{i}", POLICY)
    assert len(cache) == 3
    await cache.get(blobs, "k2", POLICY)  # recently used: stays
    await blobs.put_bytes("big", stored_document('"big"', b"{" + b"x" * 80 + b"}"))
    await cache.get(blobs, "big", POLICY)
    assert len(cache) == 2 and cache._bytes <= 100  # the least recently used went first
    assert {k for k in cache._kept} == {"k2", "big"}
    await blobs.put_bytes("huge", stored_document('"huge"', b"{" + b"x" * 200 + b"}"))
    assert (await cache.get(blobs, "huge", POLICY)).etag == '"huge"'  # served, not kept
    assert "huge" not in cache._kept


async def test_built_documents_share_the_cache():
    cache = DocumentCache()
    key = ("conda", "indexes/conda/alice/public/label/main/noarch/repodata.json", '"a"', '"b"', frozenset({"x"}))
    assert cache.built(key) is None
    cache.keep_built(key, Document(b"{}", '"p1"'))
    assert cache.built(key).etag == '"p1"'
