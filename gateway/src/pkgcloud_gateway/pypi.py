"""The pypi protocol: per-owner PyPI simple indexes and twine uploads.

Mounted at /pypi and on pypi.<base_domain> (routing.py). Its handlers arrive in a
later issue; until then every path answers the gateway's JSON 404. Register routes with
routing.add_route so each also exists behind /t/<token>/.
"""

from __future__ import annotations

from aiohttp import web


def create_app() -> web.Application:
    return web.Application()
