"""The render target as `pkgcloud serve --target render` starts it: store, consumer, gRPC, metrics."""

from __future__ import annotations

from importlib.metadata import entry_points

from pkgcloud_protos.v1 import events_pb2, render_pb2, render_pb2_grpc
from pkgcloud_render.target import TARGET
from pkgcloud_servicekit.events import new_event
from pkgcloud_servicekit.testing import check_consumer_target_lifecycle

from .test_render_consumer import notebook


def test_target_is_registered_under_its_name():
    [ep] = [ep for ep in entry_points(group="pkgcloud.targets") if ep.name == "render"]
    assert ep.load() is TARGET and TARGET.name == "render"


async def test_start_serves_status_of_consumed_events_and_stop_undoes_it(tmp_path):
    ev = new_event("alice", file_committed=events_pb2.FileCommitted(file=notebook("alice", 1)))

    async def statuses(channel):
        return (await render_pb2_grpc.RenderServiceStub(channel).GetStatus(render_pb2.RenderStatusRequest(owner="alice"))).owners

    await check_consumer_target_lifecycle(TARGET, tmp_path, ev, statuses)
