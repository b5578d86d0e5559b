"""The conda protocol: conda channels: repodata, channeldata and package files per owner and label.

Mounted at /conda and on conda.<base_domain> (routing.py). Its handlers arrive in a
later issue; until then every path answers the gateway's JSON 404. Register routes with
routing.add_route so each also exists behind /t/<token>/.
"""

from __future__ import annotations

from aiohttp import web


def create_app() -> web.Application:
    return web.Application()
