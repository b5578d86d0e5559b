"""Background work repeated on an interval inside a service (janitors): one pass at start,
then one every `interval_s`; a failing pass is logged and the next one runs as planned."""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)


class PeriodicTask:
    """Subclasses give `name` and `run_once`; start() and stop() are the component's."""

    name = "periodic"

    def __init__(self, interval_s: float):
        self.interval_s = interval_s
        self._task: asyncio.Task | None = None

    async def run_once(self) -> object:
        raise NotImplementedError

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s: pass failed", self.name)
            await asyncio.sleep(self.interval_s)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
