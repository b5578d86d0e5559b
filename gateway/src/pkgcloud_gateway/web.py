"""The web UI, served on the bare domain (and on any host that is not a protocol host).

Its pages arrive in a later issue; the root application already answers /metrics and
/healthz and a JSON 404 for everything else.
"""

from __future__ import annotations

from aiohttp import web


def add_routes(app: web.Application) -> None:
    """Register the web UI's routes on the root application."""
    return None
