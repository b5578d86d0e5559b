"""Prometheus exposition for services that have no HTTP server of their own."""

from __future__ import annotations

import logging

from prometheus_client import start_http_server

log = logging.getLogger(__name__)


def start_metrics_server(port: int) -> None:
    if port > 0:
        start_http_server(port, addr="0.0.0.0")
        log.info("metrics on :%d/metrics", port)
