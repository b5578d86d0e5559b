"""index-svc's Prometheus series."""

from __future__ import annotations

from prometheus_client import Counter

EVENTS = Counter(
    "pkgcloud_index_events_total",
    "Registry events seen by index-svc: applied, or skipped as an already-applied duplicate",
    ["result"],
)
