"""Waiting until a change is served by every gateway process, not only by one.

The gateway keeps published documents in memory per process for a short TTL when the blob
store has no change tags (MinIO), and the kernel spreads new connections over its processes
(PKGCLOUD_GATEWAY_PROCESSES). A change seen once may still be missing from another process
for up to that TTL, so a client that comes next (pip, rattler) could miss it. A change that
has shown on every try for longer than the TTL is served everywhere: each process's older
copy has expired by then.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def settled(probe: Callable[[], T], ok: Callable[[T], bool], *, settle_s: float, timeout: float, pause: float = 0.05) -> tuple[bool, T]:
    """(True, the last value) once ok(probe()) has held on every try for settle_s; (False, the
    last value) when it has not started holding by `timeout`."""
    deadline = time.monotonic() + timeout
    since = None
    while True:
        value = probe()
        now = time.monotonic()
        if ok(value):
            since = now if since is None else since
            if now - since >= settle_s:
                return True, value
        else:
            since = None
            if now > deadline:
                return False, value
        time.sleep(pause)
