"""Prometheus exposition for services that have no HTTP server of their own."""

from __future__ import annotations

import logging

from prometheus_client import start_http_server

log = logging.getLogger(__name__)


class MetricsServer:
    """Prometheus /metrics on its own port, stoppable (a component undoes it on stop, so a
    second start in the same process does not find the port taken). Port 0 means off:
    in all-in-one the gateway's /metrics serves every series of the one process."""

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
