"""Fixtures for the gateway's unit tests: the real app (aiohttp TestServer) over real gRPC
channels to in-test servicers (gateway_fakes.py), with a real filesystem blob store."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pkgcloud_protos.v1 import auth_pb2_grpc, registry_pb2_grpc
from pkgcloud_servicekit.blobstore.filesystem import FilesystemBlobStore
from pkgcloud_servicekit.grpc_plumbing import GrpcServer
from pkgcloud_servicekit.settings import Settings

sys.path.insert(0, str(Path(__file__).parent))

from gateway_fakes import BASE_DOMAIN, FakeAuth, FakeRegistry
from pkgcloud_gateway.app import init_app
from pkgcloud_gateway.clients import PEERS, Clients


@pytest.fixture
def blobs(tmp_path):
    return FilesystemBlobStore(tmp_path / "blobs")


@pytest.fixture
def fake_auth():
    return FakeAuth()


@pytest.fixture
def fake_registry(blobs):
    return FakeRegistry(blobs)


@pytest.fixture
async def backend(fake_auth, fake_registry):
    """One gRPC server answering auth and registry (and health for every peer name)."""
    server = GrpcServer(
        "127.0.0.1:0",
        [
            (auth_pb2_grpc.add_AuthServiceServicer_to_server, fake_auth, "pkgcloud.v1.AuthService"),
            (registry_pb2_grpc.add_RegistryServiceServicer_to_server, fake_registry, "pkgcloud.v1.RegistryService"),
        ],
    )
    await server.start()
    yield f"127.0.0.1:{server.bound_port}"
    await server.stop(0)


@pytest.fixture
def settings(tmp_path):
    return Settings(data_dir=tmp_path, base_domain=BASE_DOMAIN, credential_cache_ttl_s=30.0)


@pytest.fixture
def peer_addresses(backend):
    return {name: backend for name in PEERS}


@pytest.fixture
async def app(settings, blobs, peer_addresses):
    clients = Clients.open(peer_addresses)
    application = init_app(settings, clients, blobs)
    yield application
    await clients.close()


@pytest.fixture
async def client(app):
    async with TestClient(TestServer(app)) as c:
        yield c


@pytest.fixture
def alice(fake_auth):
    fake_auth.add_user("alice", "alice-pw")
    return {"Authorization": f"token {fake_auth.add_token('alice')}"}


@pytest.fixture
def bob(fake_auth):
    fake_auth.add_user("bob", "bob-pw")
    return {"Authorization": f"token {fake_auth.add_token('bob')}"}
