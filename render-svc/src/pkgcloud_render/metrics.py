"""render-svc's Prometheus series."""

from __future__ import annotations

import logging

from prometheus_client import Counter, Histogram, start_http_server

log = logging.getLogger(__name__)

EVENTS = Counter(
    "pkgcloud_render_events_total",
    "Registry events seen by render-svc: applied, or skipped as an already-applied duplicate",
    ["result"],
)


class MetricsServer:
    """Prometheus /metrics on its own port, stoppable.

    servicekit's start_metrics_server discards the server handle, so a component could not
    undo it on stop (and a second start in the same process would find the port taken);
    this keeps the handle. Port 0 means off (all-in-one: the gateway serves every series).
    """

    def __init__(self, port: int):
        self.port = port
        self._server = None
        self._thread = None

    def start(self) -> None:
        if self.port > 0:
            self._server, self._thread = start_http_server(self.port, addr="0.0.0.0")
            log.info("metrics on :%d/metrics", self.port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = self._thread = None

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
