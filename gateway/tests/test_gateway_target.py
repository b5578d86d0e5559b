"""The gateway target as `pkgcloud serve --target gateway` starts it: a real TCP listener,
peers from the runtime, token revocations from the bus evicting the credential cache."""

from __future__ import annotations

import socket

import aiohttp
from pkgcloud_gateway.credentials import token_hash
from pkgcloud_gateway.target import TARGET
from pkgcloud_protos.v1 import events_pb2
from pkgcloud_servicekit.eventbus.inprocess import InProcessEventBus
from pkgcloud_servicekit.events import new_event
from pkgcloud_servicekit.settings import Settings
from pkgcloud_servicekit.targets import Runtime


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_target_serves_and_evicts_revoked_tokens(tmp_path, backend, blobs, fake_auth):
    port = _free_port()
    settings = Settings(data_dir=tmp_path, host="127.0.0.1", port=port, credential_cache_ttl_s=60)
    bus = InProcessEventBus()
    await bus.start()
    runtime = Runtime(settings=settings, mode="single", bus=bus, blobs=blobs,
                      addresses={name: backend for name in ("auth", "registry", "index", "render")})
    assert TARGET.depends == ("auth", "registry", "index", "render")
    component = await TARGET.start(runtime)
    try:
        fake_auth.add_user("alice", "pw")
        token = fake_auth.add_token("alice")
        headers = {"Authorization": f"token {token}"}
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            assert (await http.get("/healthz")).status == 200
            assert (await http.head("/api")).status == 200
            assert (await http.get("/api/user", headers=headers)).status == 200
            fake_auth.tokens.clear()  # revoked behind the gateway's back: still cached (TTL 60 s)
            assert (await http.get("/api/user", headers=headers)).status == 200
            await bus.publish(new_event("alice", token_revoked=events_pb2.TokenRevoked(token_sha256=token_hash(token), login="alice")))
            assert (await http.get("/api/user", headers=headers)).status == 401
    finally:
        await component.stop()
        await bus.close()
