"""The gateway target as `pkgcloud serve --target gateway` starts it: a real TCP listener,
peers from the runtime, token revocations from the bus evicting the credential cache."""

from __future__ import annotations

import aiohttp
from pkgcloud_gateway.credentials import token_hash
from pkgcloud_gateway.target import TARGET
from pkgcloud_protos.v1 import events_pb2
from pkgcloud_servicekit import listening
from pkgcloud_servicekit.eventbus.inprocess import InProcessEventBus
from pkgcloud_servicekit.events import new_event
from pkgcloud_servicekit.settings import Settings
from pkgcloud_servicekit.targets import Runtime


async def test_target_serves_and_evicts_revoked_tokens(tmp_path, backend, blobs, fake_auth):
    settings = Settings(data_dir=tmp_path, host="127.0.0.1", port=0, credential_cache_ttl_s=60)
    bus = InProcessEventBus()
    await bus.start()
    runtime = Runtime(settings=settings, mode="single", bus=bus, blobs=blobs,
                      addresses={name: backend for name in ("auth", "registry", "index", "render")})
    assert TARGET.depends == ("auth", "registry", "index", "render")
    component = await TARGET.start(runtime)
    try:
        # port 0: the target bound a free port and says which, in its settings and its report
        port = settings.port
        assert port > 0 and listening.snapshot()["http"] == f"http://127.0.0.1:{port}"
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
