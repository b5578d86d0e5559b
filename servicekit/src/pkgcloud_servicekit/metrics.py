"""Prometheus exposition for services that have no HTTP server of their own."""

from __future__ import annotations

import logging

from prometheus_client import start_http_server

from . import listening

log = logging.getLogger(__name__)


class MetricsServer:
    """Prometheus /metrics on its own port, stoppable (a component undoes it on stop, so a
    second start in the same process does not find the port taken). Port None means off
    (in all-in-one the gateway's /metrics serves every series of the one process); port 0
    means a free port, which `bound_port` and the process's address report then tell."""

    def __init__(self, port: int | None, service: str = "-"):
        self.port = port
        self.service = service
        self.bound_port: int | None = None
        self._server = None
        self._thread = None

    def start(self) -> None:
        if self.port is not None and self.port >= 0:
            self._server, self._thread = start_http_server(self.port, addr="0.0.0.0")
            self.bound_port = self._server.server_address[1]
            listening.record_metrics(self.service, self.bound_port)
            log.info("metrics on :%d/metrics", self.bound_port)

    def stop(self) -> None:
        if self._server is not None:
            listening.forget_metrics(self.service, self.bound_port)
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = self._thread = None
