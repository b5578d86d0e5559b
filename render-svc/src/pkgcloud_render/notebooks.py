"""Rendered notebooks, keyed by the notebook's content.

A render is stored in the blob store (the keys: pkgcloud_servicekit.published): the page, its
images (content addressed, shared by every page that shows them), and a refused notebook's
reason, so a bad notebook is not re-rendered on every view. The blob store is the record: every render-svc replica sees
the same results, and bumping renderer.RENDER_VERSION re-renders lazily.

Concurrent requests for one notebook share one render (single-flight). A render that overruns
the time limit is not stored (the machine may just have been busy); the reader is told.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass

from pkgcloud_servicekit import published
from pkgcloud_servicekit.blobstore import BlobNotFound, BlobStore

from .metrics import RENDER_SECONDS, RENDERS
from .pool import RenderPool, RenderTimeout
from .renderer import RENDER_VERSION

log = logging.getLogger(__name__)


def html_key(sha256: str) -> str:
    return published.rendered_html_key(RENDER_VERSION, sha256)


def failed_key(sha256: str) -> str:
    return published.rendered_failed_key(RENDER_VERSION, sha256)


@dataclass(frozen=True)
class RenderResult:
    status: str          # "ok" | "failed"
    html_key: str = ""
    error: str = ""
    limit: str = ""      # "time" | "size" | "invalid"
    render_ms: int = 0   # 0: served from the stored result


class NotebookRenders:
    def __init__(self, blobs: BlobStore, pool: RenderPool, *, time_limit_s: float = 30.0, max_input_bytes: int = 64 * 1024 * 1024):
        self.blobs = blobs
        self.pool = pool
        self.time_limit_s = time_limit_s
        self.max_input_bytes = max_input_bytes
        self._pending: dict[str, asyncio.Future[RenderResult]] = {}

    async def render(self, sha256: str, blob_key: str) -> RenderResult:
        """The stored render of this notebook, rendering it now on a miss."""
        stored = await self._stored(sha256)
        if stored is not None:
            RENDERS.labels("cached").inc()
            return stored
        pending = self._pending.get(sha256)
        if pending is not None:
            RENDERS.labels("joined").inc()
            return await asyncio.shield(pending)
        fut: asyncio.Future[RenderResult] = asyncio.get_running_loop().create_future()
        self._pending[sha256] = fut
        try:
            result = await self._render(sha256, blob_key)
            fut.set_result(result)
        except BaseException as e:
            fut.set_exception(e)
            fut.exception()  # mark retrieved: nobody may be waiting
            raise
        finally:
            del self._pending[sha256]
        return result

    async def _stored(self, sha256: str) -> RenderResult | None:
        if await self.blobs.exists(html_key(sha256)):
            return RenderResult("ok", html_key=html_key(sha256))
        try:
            failed = json.loads(await self.blobs.read_bytes(failed_key(sha256)))
        except BlobNotFound:
            return None
        return RenderResult("failed", error=failed["error"], limit=failed["limit"])

    async def _render(self, sha256: str, blob_key: str) -> RenderResult:
        try:
            if not blob_key.startswith("files/"):
                raise BlobNotFound(blob_key)
            size = await self.blobs.size(blob_key)
        except BlobNotFound:
            # not stored: the file may have been removed since; nothing to render now
            return RenderResult("failed", error="the notebook file is missing from the store", limit="invalid")
        if size > self.max_input_bytes:
            return await self._failed(sha256, f"the notebook is {size} bytes, more than the rendering limit of {self.max_input_bytes}", "size")
        raw = await self.blobs.read_bytes(blob_key)
        started = time.perf_counter()
        try:
            status, value = await self.pool.render(raw, self.time_limit_s)
        except RenderTimeout as e:
            RENDERS.labels("time_limit").inc()
            return RenderResult("failed", error=f"{e}; try again later", limit="time")
        elapsed = time.perf_counter() - started
        if status != "ok":
            message, limit = value
            return await self._failed(sha256, message, limit)
        for name, data in value.images.items():
            key = published.rendered_image_key(name)
            if not await self.blobs.exists(key):
                await self.blobs.put_bytes(key, data)
        # the page last: once it exists, every image it names does
        await self.blobs.put_bytes(html_key(sha256), value.html)
        RENDERS.labels("rendered").inc()
        RENDER_SECONDS.observe(elapsed)
        return RenderResult("ok", html_key=html_key(sha256), render_ms=max(1, int(elapsed * 1000)))

    async def _failed(self, sha256: str, message: str, limit: str) -> RenderResult:
        RENDERS.labels(f"failed_{limit}").inc()
        await self.blobs.put_bytes(failed_key(sha256), json.dumps({"error": message, "limit": limit}).encode())
        return RenderResult("failed", error=message, limit=limit)
