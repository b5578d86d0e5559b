"""Worker processes that render notebooks, with a hard time limit.

Rendering is CPU-bound Python: in a thread it would hold the GIL the gateway shares in
`pkgcloud all`, and a runaway render could not be stopped. Worker processes come from a
forkserver (never a fork of this process: it holds gRPC and event-loop state) that preloads
nbconvert, so a new worker is ready in milliseconds; each builds its exporter once. A render
that overruns the limit has its pool torn down (the workers killed) and a new one started.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from . import renderer

log = logging.getLogger(__name__)


class RenderTimeout(Exception):
    pass


class RenderPool:
    def __init__(self, workers: int = 1, max_output_bytes: int = 32 * 1024 * 1024, max_tasks_per_child: int = 200):
        self.workers = workers
        self.max_output_bytes = max_output_bytes
        self.max_tasks_per_child = max_tasks_per_child
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(["pkgcloud_render.renderer", "nbconvert", "nbformat", "nh3"])
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=self._ctx,
                initializer=renderer.init_worker,
                initargs=(self.max_output_bytes,),
                max_tasks_per_child=self.max_tasks_per_child,  # bounds what a leaky render can keep
            )
        return self._pool

    async def warm_up(self) -> None:
        """Start the workers now so the first notebook does not pay for it."""
        loop = asyncio.get_running_loop()
        pool = self._executor()
        await asyncio.gather(*(loop.run_in_executor(pool, _noop) for _ in range(self.workers)))

    async def render(self, raw: bytes, time_limit_s: float) -> tuple[str, Any]:
        loop = asyncio.get_running_loop()
        pool = self._executor()
        fut = loop.run_in_executor(pool, renderer.render_in_worker, raw)
        try:
            return await asyncio.wait_for(fut, time_limit_s)
        except TimeoutError:
            log.warning("a notebook render overran %.1fs; restarting the render workers", time_limit_s)
            self._kill()
            raise RenderTimeout(f"rendering took longer than the limit of {time_limit_s:g}s") from None
        except BrokenProcessPool:
            self._kill()
            raise

    def _kill(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        for proc in list(getattr(pool, "_processes", {}).values()):
            proc.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the workers; a render still running is abandoned (its caller was stopped too)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        for proc in list(getattr(pool, "_processes", {}).values()):
            proc.terminate()
        pool.shutdown(wait=True, cancel_futures=True)


def _noop() -> None:
    return None
