"""Read index-svc's and render-svc's status RPCs (what they applied from the event stream)."""

from __future__ import annotations

import asyncio
import time

from pkgcloud_protos.v1 import index_pb2, index_pb2_grpc, render_pb2, render_pb2_grpc
from pkgcloud_servicekit.grpc_plumbing import open_channel


async def _status(service: str, address: str, owner: str):
    async with open_channel(address) as ch:
        if service == "index":
            return await index_pb2_grpc.IndexServiceStub(ch).GetStatus(index_pb2.IndexStatusRequest(owner=owner), timeout=5)
        return await render_pb2_grpc.RenderServiceStub(ch).GetStatus(render_pb2.RenderStatusRequest(owner=owner), timeout=5)


def owner_status(service: str, address: str, owner: str):
    """The ConsumerOwnerStatus of owner, or None when nothing was applied for it."""
    st = asyncio.run(_status(service, address, owner))
    for o in st.owners:
        if o.owner == owner:
            return o
    return None


def wait_applied(service: str, address: str, owner: str, at_least: int, timeout: float = 30):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = owner_status(service, address, owner)
        if last is not None and last.events_applied >= at_least:
            return last
        time.sleep(0.1)
    raise AssertionError(f"{service} applied {last.events_applied if last else 0} events for {owner}, wanted {at_least}")
