"""render-svc's Prometheus series."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

EVENTS = Counter(
    "pkgcloud_render_events_total",
    "Registry events seen by render-svc: applied, or skipped as an already-applied duplicate",
    ["result"],
)


RENDERS = Counter(
    "pkgcloud_render_notebooks_total",
    "Notebook render requests by outcome: rendered, cached, joined (shared a running render), failed_<limit>, time_limit",
    ["result"],
)
RENDER_SECONDS = Histogram(
    "pkgcloud_render_seconds",
    "Time to render one notebook in a worker (pipe transfer included)",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
