"""SortedPieces: values kept in key order, so a document section is one bytes join instead
of a sort of the whole channel per update."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Hashable, Iterable
from typing import Any, Generic, TypeVar

V = TypeVar("V")


class SortedPieces(Generic[V]):
    """A mapping whose values are also held as a list in key order.

    Changes are recorded and applied when the order is next read: a few by bisection
    (an upload), many by one sort (loading a channel), so both stay cheap.
    """

    def __init__(self) -> None:
        self._values: dict[Any, V] = {}
        self._keys: list[Any] = []
        self._ordered: list[V] = []
        self._pending: set[Hashable] = set()

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._values

    def get(self, key: Hashable) -> V | None:
        return self._values.get(key)

    def set(self, key: Hashable, value: V) -> None:
        self._values[key] = value
        self._pending.add(key)

    def load(self, items: Iterable[tuple[Hashable, V]]) -> None:
        """Set many at once (loading a channel): they are sorted once when next read."""
        self._values.update(items)
        self._keys, self._ordered, self._pending = [], [], set(self._values)

    def discard(self, key: Hashable) -> None:
        if self._values.pop(key, None) is not None:
            self._pending.add(key)

    def keys(self) -> list:
        """The keys in order (the list is the structure's own: do not change it)."""
        self._settle()
        return self._keys

    def values(self) -> list[V]:
        """The values in key order (the structure's own list)."""
        self._settle()
        return self._ordered

    def join(self, sep: bytes = b",") -> bytes:
        return sep.join(self.values())  # type: ignore[arg-type]

    def _settle(self) -> None:
        pending = self._pending
        if not pending:
            return
        values, keys, ordered = self._values, self._keys, self._ordered
        if len(pending) > 16 + len(values) // 32:
            # one sort beats many list insertions (each moves the list's tail)
            self._keys = sorted(values)
            self._ordered = [values[k] for k in self._keys]
        else:
            for key in pending:
                i = bisect_left(keys, key)
                present = i < len(keys) and keys[i] == key
                value = values.get(key)
                if value is None:
                    if present:
                        del keys[i]
                        del ordered[i]
                elif present:
                    ordered[i] = value
                else:
                    keys.insert(i, key)
                    ordered.insert(i, value)
        pending.clear()
