"""One value the gateway's processes on a host share, changed whenever who-may-do-what changed.

The gateway keeps resolved tokens and org grants in memory for a second (credentials.py,
policy.AccessCache), one copy per process: PKGCLOUD_GATEWAY_PROCESSES runs several on one
port, and the kernel hands each connection to any of them. A revocation that went through
one process must bite in all of them on the very next request, not a cache lifetime later,
and an event over the bus arrives "soon", not "before the client's next request".

So every cache entry remembers the epoch it was read under (taken before the lookup, so a
change during the lookup makes the entry stale, never fresh), and is served only while the
epoch is unchanged. A route that changes access (access.Rule.changes_access) moves the epoch
once its handler has run, as does the bus event of a change made through another gateway
replica. The epoch lives in an 8-byte file in the data dir, mapped shared: reading it costs a
memory read, and every process mapping the file sees a write at once. It holds random bytes,
not a counter, so two processes changing it at the same moment can never write a value a
reader already saw.
"""

from __future__ import annotations

import logging
import mmap
import os
from pathlib import Path

log = logging.getLogger(__name__)

SIZE = 8


class AccessEpoch:
    def __init__(self, path: Path | None = None):
        self._local = os.urandom(SIZE)
        self._map: mmap.mmap | None = None
        if path is not None:
            try:
                self._map = _map(path)
            except OSError as e:
                # one process still sees its own changes at once; the others within the TTL
                log.warning("access epoch file %s unusable (%s): this process's caches only follow its own changes", path, e)

    def current(self) -> bytes:
        return self._map[:SIZE] if self._map is not None else self._local

    def bump(self) -> None:
        value = os.urandom(SIZE)
        if self._map is not None:
            self._map[:SIZE] = value
        else:
            self._local = value

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None


def _map(path: Path) -> mmap.mmap:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.fstat(fd).st_size < SIZE:
            os.ftruncate(fd, SIZE)  # zeros: as good a first value as any
        return mmap.mmap(fd, SIZE)
    finally:
        os.close(fd)  # the mapping keeps the file


def path_for(data_dir: Path) -> Path:
    """Where the gateway processes sharing a data dir keep their epoch."""
    return data_dir.resolve() / "run" / "gateway-access-epoch"
