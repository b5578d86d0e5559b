"""Throttling of password guessing: per login and per remote address, sliding window.

Kept in memory, per process: it slows an online guesser down by orders of magnitude, which
is its job; a deployment that runs several auth-svc replicas multiplies the allowance by the
replica count, which is still far from a useful guessing rate against argon2.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable


class FailureWindow:
    """Counts failures per key over the last `window_s` seconds; a key that reached `limit`
    is blocked until its oldest counted failure leaves the window."""

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000):
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self.max_keys = max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str) -> deque[float] | None:
        q = self._failures.get(key)
        if q is None:
            return None
        cutoff = self.clock() - self.window_s
        while q and q[0] <= cutoff:
            q.popleft()
        if not q:
            del self._failures[key]
            return None
        return q

    def retry_after(self, key: str) -> float:
        """Seconds until `key` may try again; 0 when it is not blocked."""
        if self.limit <= 0 or not key:
            return 0.0
        q = self._recent(key)
        if q is None or len(q) < self.limit:
            return 0.0
        return max(0.0, q[0] + self.window_s - self.clock())

    def record(self, key: str) -> None:
        if self.limit <= 0 or not key:
            return
        q = self._recent(key)
        if q is None:
            q = self._failures[key] = deque(maxlen=self.limit)
            # Bound memory under a spray of distinct keys: forget the stalest ones.
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)
        else:
            self._failures.move_to_end(key)
        q.append(self.clock())

    def forgive(self, key: str) -> None:
        """Take back the most recent failure of `key` (an attempt counted before it was
        checked turned out to be good)."""
        q = self._failures.get(key)
        if q:
            q.pop()
            if not q:
                del self._failures[key]

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)
