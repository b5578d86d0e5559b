"""Notebook rendering through the real worker pool and a real blob store: stored by content,
images out of the page, one render shared by concurrent requests, the limits."""

from __future__ import annotations

import asyncio
import base64
import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from pkgcloud_render.metrics import RENDERS
from pkgcloud_render.notebooks import NotebookRenders, failed_key, html_key
from pkgcloud_render.pool import RenderPool
from pkgcloud_servicekit.blobstore import content_key
from pkgcloud_servicekit.blobstore.filesystem import FilesystemBlobStore
from pkgcloud_servicekit.published import rendered_image_key

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVQI12P4z8AAAAMBAQAY3Y2wAAAAAElFTkSuQmCC")


def notebook_bytes(marker: str, cells: int = 2) -> bytes:
    nb = new_notebook(cells=[new_markdown_cell(f"# {marker}")] + [
        new_code_cell(f"print({i})", outputs=[
            new_output("stream", name="stdout", text=f"{marker}-{i}\n"),
            new_output("display_data", data={"image/png": base64.b64encode(PNG).decode()}),
        ]) for i in range(cells)
    ])
    return nbformat.writes(nb).encode()


@pytest.fixture(scope="module")
def pool():
    p = RenderPool(workers=1)
    yield p
    p.close()


@pytest.fixture
async def stored(tmp_path):
    blobs = FilesystemBlobStore(tmp_path / "blobs")

    async def put(raw: bytes) -> tuple[str, str]:
        import hashlib

        sha = hashlib.sha256(raw).hexdigest()
        await blobs.put_bytes(content_key(sha), raw)
        return sha, content_key(sha)

    return blobs, put


def count(result: str) -> float:
    return RENDERS.labels(result)._value.get()


async def test_render_is_stored_with_images_out_of_the_page_and_then_served_from_the_store(pool, stored):
    blobs, put = stored
    renders = NotebookRenders(blobs, pool)
    sha, key = await put(notebook_bytes("first"))
    result = await renders.render(sha, key)
    assert result.status == "ok" and result.html_key == html_key(sha) and result.render_ms > 0
    page = (await blobs.read_bytes(result.html_key)).decode()
    assert "first-1" in page and "base64" not in page
    image = hashlib_name(PNG)
    assert f'src="__images__/{image}"' in page
    assert await blobs.read_bytes(rendered_image_key(image)) == PNG
    again = await renders.render(sha, key)
    assert again.status == "ok" and again.render_ms == 0  # from the store, no render


def hashlib_name(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest() + ".png"


async def test_concurrent_requests_share_one_render(pool, stored):
    blobs, put = stored
    renders = NotebookRenders(blobs, pool)
    sha, key = await put(notebook_bytes("shared", cells=20))
    rendered, joined = count("rendered"), count("joined")
    results = await asyncio.gather(*(renders.render(sha, key) for _ in range(8)))
    assert {r.html_key for r in results} == {html_key(sha)} and all(r.status == "ok" for r in results)
    assert count("rendered") - rendered == 1
    assert count("joined") - joined == 7


async def test_an_invalid_notebook_fails_once_and_the_failure_is_stored(pool, stored):
    blobs, put = stored
    renders = NotebookRenders(blobs, pool)
    sha, key = await put(b'{"not": "a notebook"')
    result = await renders.render(sha, key)
    assert result.status == "failed" and result.limit == "invalid" and "not a readable notebook" in result.error
    assert json.loads(await blobs.read_bytes(failed_key(sha)))["limit"] == "invalid"
    assert (await renders.render(sha, key)).error == result.error


async def test_size_limit_on_the_input(pool, stored):
    blobs, put = stored
    renders = NotebookRenders(blobs, pool, max_input_bytes=1000)
    sha, key = await put(notebook_bytes("big", cells=10))
    result = await renders.render(sha, key)
    assert result.status == "failed" and result.limit == "size" and "more than the rendering limit of 1000" in result.error


async def test_size_limit_on_the_output(stored):
    blobs, put = stored
    small = RenderPool(workers=1, max_output_bytes=2000)
    try:
        sha, key = await put(notebook_bytes("out", cells=3))
        result = await NotebookRenders(blobs, small).render(sha, key)
    finally:
        small.close()
    assert result.status == "failed" and result.limit == "size" and "limit of 2000" in result.error


async def test_time_limit_stops_the_render_and_the_pool_recovers(pool, stored):
    blobs, put = stored
    sha, key = await put(notebook_bytes("slow", cells=200))
    hurried = NotebookRenders(blobs, pool, time_limit_s=0.001)
    result = await hurried.render(sha, key)
    assert result.status == "failed" and result.limit == "time" and "longer than the limit" in result.error
    assert not await blobs.exists(failed_key(sha))  # a busy machine is not the notebook's fault
    result = await NotebookRenders(blobs, pool, time_limit_s=60).render(sha, key)
    assert result.status == "ok"
