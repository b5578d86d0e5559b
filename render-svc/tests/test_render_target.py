"""The render target as `pkgcloud serve --target render` starts it: store, consumer, gRPC, metrics."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from importlib.metadata import entry_points

import pytest

from pkgcloud_render.target import TARGET
from pkgcloud_protos.v1 import events_pb2, render_pb2, render_pb2_grpc
from pkgcloud_servicekit.blobstore import make_blob_store
from pkgcloud_servicekit.eventbus.inprocess import InProcessEventBus
from pkgcloud_servicekit.events import new_event
from pkgcloud_servicekit.grpc_plumbing import open_channel
from pkgcloud_servicekit.settings import Settings
from pkgcloud_servicekit.targets import Runtime

from .test_render_consumer import notebook


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_target_is_registered_under_its_name():
    [ep] = [ep for ep in entry_points(group="pkgcloud.targets") if ep.name == "render"]
    assert ep.load() is TARGET and TARGET.name == "render"


async def test_start_serves_status_of_consumed_events_and_stop_undoes_it(tmp_path):
    metrics_port = free_port()
    settings = Settings(data_dir=tmp_path, grpc_listen="127.0.0.1:0", metrics_port=metrics_port)
    bus = InProcessEventBus()
    await bus.start()
    runtime = Runtime(settings=settings, mode="single", bus=bus, blobs=make_blob_store(settings))
    component = await TARGET.start(runtime)
    try:
        assert settings.sqlite_path("render").exists()
        ev = new_event("alice", file_committed=events_pb2.FileCommitted(file=notebook("alice", 1)))
        await bus.publish(ev)
        async with open_channel(f"127.0.0.1:{component.grpc_port}") as channel:
            status = await render_pb2_grpc.RenderServiceStub(channel).GetStatus(render_pb2.RenderStatusRequest(owner="alice"))
        assert [(o.owner, o.last_event_id, o.events_applied) for o in status.owners] == [("alice", ev.id, 1)]
        body = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
        assert 'pkgcloud_render_events_total{result="applied"}' in body
    finally:
        await component.stop()
        await bus.close()
    # everything it opened is closed: nothing answers on the metrics port any more, and a
    # restart on the same data dir (and ports) finds the applied event
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5)
    bus = InProcessEventBus()
    await bus.start()
    component = await TARGET.start(Runtime(settings=settings, mode="single", bus=bus, blobs=make_blob_store(settings)))
    try:
        assert await component.store.is_applied(ev.id)
    finally:
        await component.stop()
        await bus.close()
