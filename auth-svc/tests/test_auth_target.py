"""The auth target starts the way `pkgcloud serve --target auth` and `pkgcloud all` start it."""

from __future__ import annotations

import pytest
from pkgcloud_auth.target import TARGET
from pkgcloud_protos.v1 import auth_pb2 as pb
from pkgcloud_protos.v1.auth_pb2_grpc import AuthServiceStub
from pkgcloud_servicekit.blobstore.filesystem import FilesystemBlobStore
from pkgcloud_servicekit.grpc_plumbing import check_health, open_channel
from pkgcloud_servicekit.settings import Settings
from pkgcloud_servicekit.targets import Runtime


@pytest.mark.parametrize("mode", ["single", "all"])
async def test_target_serves_and_keeps_data_across_restarts(tmp_path, bus, mode):
    settings = Settings(data_dir=tmp_path, grpc_listen="127.0.0.1:0", metrics_port=0)
    addresses = {"auth": f"unix:{tmp_path / 'auth.sock'}"} if mode == "all" else {}
    runtime = Runtime(settings=settings, mode=mode, bus=bus, blobs=FilesystemBlobStore(tmp_path / "blobs"), addresses=addresses)

    async def run(action):
        component = await TARGET.start(runtime)
        address = addresses.get("auth") or f"127.0.0.1:{component.server.bound_port}"
        try:
            assert await check_health(address, "pkgcloud.v1.AuthService")
            async with open_channel(address) as channel:
                return await action(AuthServiceStub(channel))
        finally:
            await component.stop()

    async def create(stub):
        await stub.CreateUser(pb.CreateUserRequest(login="alice", email="a@example.com", password="s3cret-pw"))

    async def login(stub):
        return await stub.CheckPassword(pb.CheckPasswordRequest(login="alice", password="s3cret-pw"))

    await run(create)
    assert (await run(login)).login == "alice"
    assert settings.sqlite_path("auth").exists()
