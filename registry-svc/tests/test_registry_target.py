"""The registry target starts its server, relay and janitor, and stops them in reverse."""

import asyncio
import hashlib

from pkgcloud_protos.v1 import common_pb2, registry_pb2, registry_pb2_grpc
from pkgcloud_registry.target import TARGET
from pkgcloud_servicekit.grpc_plumbing import check_health, open_channel
from pkgcloud_servicekit.targets import Runtime, discover_targets


def test_target_is_registered():
    assert discover_targets()["registry"] is TARGET


async def test_start_serve_publish_stop(tmp_path, settings, blobs, bus, recorder):
    address = f"unix:{tmp_path / 'registry.sock'}"
    settings.outbox_poll_s = 0.05
    runtime = Runtime(settings=settings, mode="all", bus=bus, blobs=blobs, addresses={"registry": address})
    component = await TARGET.start(runtime)
    try:
        assert await check_health(address)
        assert settings.sqlite_path("registry").exists()
        async with open_channel(address) as ch:
            s = registry_pb2_grpc.RegistryServiceStub(ch)
            await s.CreatePackage(registry_pb2.CreatePackageRequest(owner="alice", name="p"))
            await s.CreateRelease(registry_pb2.CreateReleaseRequest(ref=registry_pb2.ReleaseRef(owner="alice", package="p", version="1")))
            ref = common_pb2.FileRef(owner="alice", package="p", version="1", basename="f.txt")
            st = await s.StageUpload(registry_pb2.StageUploadRequest(
                ref=ref, distribution_type="file", sha256=hashlib.sha256(b"x").hexdigest(), form_post_url="http://gw/form"))
            await blobs.put_bytes(st.form_data[0].value, b"x")
            await s.CommitUpload(registry_pb2.CommitUploadRequest(ref=ref, dist_id=st.dist_id))
        for _ in range(300):
            if recorder.events:
                break
            await asyncio.sleep(0.01)
        assert recorder.types() == ["file.committed"]
    finally:
        await component.stop()
    assert not await check_health(address, timeout=0.5)
