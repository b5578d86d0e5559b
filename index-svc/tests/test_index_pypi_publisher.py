"""PypiIndexPublisher against every index store and a real filesystem blob store."""

from __future__ import annotations

import json

import pytest
from pkgcloud_index.converters import IncomingEvent
from pkgcloud_index.core import IndexCore
from pkgcloud_index.pypi import PypiIndexPublisher
from pkgcloud_index.store import IndexedFile, RemoveFile, SetPackagePrivacy, UpsertFile
from pkgcloud_servicekit.blobstore.filesystem import FilesystemBlobStore
from pkgcloud_servicekit.published import parse_stored_document, pypi_page_key


def pyfile(package, version, basename, *, public=True, labels=("main",), yanked=False):
    attrs = {"requires_python": ">=3.9", "core_metadata_sha256": "c" * 64} if basename.endswith(".whl") else {}
    return IndexedFile("o", package, version, basename, "pypi", "", labels, "a" * 64, 123, public, json.dumps(attrs),
                       upload_time_ms=1_700_000_000_123, yanked=yanked, yanked_reason="broken" if yanked else "")


@pytest.fixture
async def setup(index_store, tmp_path):
    blobs = FilesystemBlobStore(tmp_path / "blobs")
    pub = PypiIndexPublisher(index_store, blobs)
    core = IndexCore(index_store, publishers=[pub])
    n = iter(range(1000))

    async def apply(*changes):
        await core.apply(IncomingEvent(f"e{next(n)}", "file.committed", "o", "", tuple(changes)))

    async def page(view, project="", fmt="json", label="main"):
        try:
            etag, body = parse_stored_document(await blobs.read_bytes(pypi_page_key("o", view, label, fmt, project)))
        except KeyError:
            return None
        return json.loads(body) if fmt == "json" else body.decode()

    return pub, apply, page, blobs


async def test_pages_views_labels_and_removal(setup):
    pub, apply, page, blobs = setup
    await apply(UpsertFile(pyfile("My_Pkg", "1.0", "my_pkg-1.0-py3-none-any.whl")),
                UpsertFile(pyfile("My_Pkg", "1.1", "my_pkg-1.1.tar.gz", labels=("main", "dev"), yanked=True)))
    doc = await page("public", "my-pkg")
    assert doc["name"] == "my-pkg" and doc["versions"] == ["1.0", "1.1"] and doc["meta"]["api-version"] == "1.1"
    wheel, sdist = doc["files"]
    assert wheel["url"] == "../../files/My_Pkg/1.0/my_pkg-1.0-py3-none-any.whl" and wheel["core-metadata"] == {"sha256": "c" * 64}
    assert wheel["upload-time"] == "2023-11-14T22:13:20.123000Z" and wheel["size"] == 123 and "yanked" not in wheel
    assert sdist["yanked"] == "broken" and "core-metadata" not in sdist
    html = await page("public", "my-pkg", fmt="html")
    assert 'data-requires-python="&gt;=3.9"' in html and 'data-yanked="broken"' in html
    assert (await page("public", label="dev"))["projects"] == [{"name": "My_Pkg"}]

    await apply(UpsertFile(pyfile("secret", "1", "secret-1.tar.gz", public=False)))
    assert await page("public", "secret") is None
    assert {p["name"] for p in (await page("private"))["projects"]} == {"My_Pkg", "secret"}
    assert {p["name"] for p in (await page("public"))["projects"]} == {"My_Pkg"}

    await apply(SetPackagePrivacy("o", "secret", True), UpsertFile(pyfile("secret", "1", "secret-1.tar.gz", public=True)))
    assert await page("public", "secret") is not None

    await apply(RemoveFile("o", "My_Pkg", "1.1", "my_pkg-1.1.tar.gz"))
    assert await page("public", label="dev") is None and await page("public", "my-pkg", label="dev") is None
    assert len((await page("public", "my-pkg"))["files"]) == 1


async def test_start_repairs_what_a_crash_left(setup, index_store):
    pub, apply, page, blobs = setup
    await apply(UpsertFile(pyfile("a", "1", "a-1.tar.gz")))
    # a crash after the store committed the event but before publishing it
    await index_store.apply_event(
        __import__("pkgcloud_index.store", fromlist=["AppliedEvent"]).AppliedEvent("lost", "file.committed", "o", 1),
        [UpsertFile(pyfile("b", "1", "b-1.tar.gz")), RemoveFile("o", "a", "1", "a-1.tar.gz")],
    )
    assert await page("public", "b") is None
    await pub.start()
    assert await page("public", "b") is not None and await page("public", "a") is None
    assert (await page("public"))["projects"] == [{"name": "b"}]


async def test_a_stale_replica_never_writes_an_older_page(index_store, tmp_path):
    # Replica A read the owner at generation 1 and stalls before writing; replica B applies
    # a newer version and publishes; A's writes then land and are all refused.
    import asyncio

    from pkgcloud_index.store import AppliedEvent

    class HeldWrites(FilesystemBlobStore):
        def __init__(self, root):
            super().__init__(root)
            self.entered, self.release, self.refused = asyncio.Event(), asyncio.Event(), 0

        async def write_if_newer(self, key, data, generation):
            self.entered.set()
            await self.release.wait()
            done = await super().write_if_newer(key, data, generation)
            self.refused += not done
            return done

    held = HeldWrites(tmp_path / "blobs")
    replica_a, replica_b = PypiIndexPublisher(index_store, held), PypiIndexPublisher(index_store, FilesystemBlobStore(tmp_path / "blobs"))
    await replica_b.rebuild("o")
    first = [UpsertFile(pyfile("pkg", "1.0", "pkg-1.0.tar.gz"))]
    await index_store.apply_event(AppliedEvent("e1", "file.committed", "o", 1), first)
    stalled = asyncio.create_task(replica_a.publish("o", first))
    await held.entered.wait()  # A has read the store and is writing
    second = [UpsertFile(pyfile("pkg", "2.0", "pkg-2.0.tar.gz"))]
    await index_store.apply_event(AppliedEvent("e2", "file.committed", "o", 1), second)
    await replica_b.publish("o", second)
    held.release.set()
    await stalled
    assert held.refused >= 1
    _, body = parse_stored_document(await held.read_bytes(pypi_page_key("o", "public", "main", "json", "pkg")))
    assert json.loads(body)["versions"] == ["1.0", "2.0"]
    assert await held.generation(pypi_page_key("o", "public", "main", "json", "pkg")) == 2
