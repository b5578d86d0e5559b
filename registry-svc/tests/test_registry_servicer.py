"""RegistryService through a real grpc.aio server and stub."""

import hashlib
import json

import grpc
import pytest
from pkgcloud_protos.v1 import common_pb2, registry_pb2, registry_pb2_grpc
from pkgcloud_registry.core import RegistryCore
from pkgcloud_registry.servicer import SERVICE_NAME, RegistryServicer
from pkgcloud_registry.store.sqlite import SqliteRegistryStore
from pkgcloud_servicekit.errors import Conflict, NotFound, from_rpc_error
from pkgcloud_servicekit.grpc_plumbing import GrpcServer, check_health, open_channel

DATA = b"hello world\n"


@pytest.fixture
async def stub(tmp_path, blobs, settings):
    store = SqliteRegistryStore(tmp_path / "registry.sqlite3")
    await store.open()
    core = RegistryCore(store, blobs, settings)
    server = GrpcServer("127.0.0.1:0", [(registry_pb2_grpc.add_RegistryServiceServicer_to_server, RegistryServicer(core), SERVICE_NAME)])
    await server.start()
    address = f"127.0.0.1:{server.bound_port}"
    assert await check_health(address, SERVICE_NAME)
    channel = open_channel(address)
    yield registry_pb2_grpc.RegistryServiceStub(channel), blobs
    await channel.close()
    await server.stop(0)
    await store.close()


async def test_upload_flow_over_grpc(stub, tmp_path):
    from e2e_harness.conda_packages import build

    s, blobs = stub
    DATA = build(tmp_path, "hello", "1.0", subdir="linux-64").read_bytes()  # a real package: the conda inspector reads it
    pkg = await s.CreatePackage(registry_pb2.CreatePackageRequest(
        owner="alice", name="hello", public=True, public_attrs_json=json.dumps({"summary": "S", "license": {"name": "MIT"}})))
    assert (pkg.summary, pkg.license, pkg.public) == ("S", "MIT", True)
    ref = registry_pb2.ReleaseRef(owner="alice", package="hello", version="1.0")
    rel = await s.CreateRelease(registry_pb2.CreateReleaseRequest(ref=ref, attrs_json='{"description": "x"}'))
    assert json.loads(rel.attrs_json) == {"description": "x"} and list(rel.files) == []

    fref = common_pb2.FileRef(owner="alice", package="hello", version="1.0", basename="linux-64/hello-1.0-0.conda")
    staged = await s.StageUpload(registry_pb2.StageUploadRequest(
        ref=fref, distribution_type="conda", attrs_json='{"subdir": "linux-64"}', sha256=hashlib.sha256(DATA).hexdigest(),
        form_post_url="http://localhost:8080/api/upload-form",
    ))
    assert staged.post_url == "http://localhost:8080/api/upload-form"
    assert [f.name for f in staged.form_data] == ["key", "success_action_status"]
    grant = await s.GrantFormUpload(registry_pb2.GrantFormUploadRequest(key=staged.form_data[0].value))
    assert grant.max_size > 0
    await blobs.put_bytes(grant.blob_key, DATA)
    rec = await s.CommitUpload(registry_pb2.CommitUploadRequest(ref=fref, dist_id=staged.dist_id))
    assert (rec.size, rec.subdir, list(rec.labels), rec.type, rec.package_public) == (len(DATA), "linux-64", ["main"], "conda", True)

    got = await s.GetPackage(registry_pb2.PackageRef(owner="alice", name="hello"))
    assert list(got.versions) == ["1.0"] and [f.basename for f in got.files] == [fref.basename] and list(got.package_types) == ["conda"]
    listed = await s.ListPackages(registry_pb2.ListPackagesRequest(owner="alice"))
    assert [p.name for p in listed.packages] == ["hello"]
    dl = await s.OpenDownload(registry_pb2.DownloadRequest(ref=fref, count=True))
    assert dl.file.download_count == 1 and dl.file.blob_key.startswith("files/sha256/")
    assert (await s.GetRelease(ref)).files[0].basename == fref.basename
    upd = await s.UpdatePackage(registry_pb2.UpdatePackageRequest(owner="alice", name="hello", public_attrs_json='{"summary": "T"}'))
    assert upd.summary == "T"
    upd_rel = await s.UpdateRelease(registry_pb2.UpdateReleaseRequest(ref=ref, attrs_json='{"home": "h"}'))
    assert json.loads(upd_rel.attrs_json) == {"description": "x", "home": "h"}

    removed = await s.DeleteFile(fref)
    assert removed.basename == fref.basename
    assert (await s.DeleteRelease(ref)).files_removed == 0
    assert (await s.DeletePackage(registry_pb2.PackageRef(owner="alice", name="hello"))).files_removed == 0


async def test_domain_errors_become_status_codes(stub):
    s, _ = stub
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await s.GetPackage(registry_pb2.PackageRef(owner="alice", name="nope"))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND and e.value.details() == "Package not found"
    assert isinstance(from_rpc_error(e.value), NotFound)

    await s.CreatePackage(registry_pb2.CreatePackageRequest(owner="alice", name="hello"))
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await s.CreatePackage(registry_pb2.CreatePackageRequest(owner="alice", name="hello"))
    assert isinstance(from_rpc_error(e.value), Conflict)

    with pytest.raises(grpc.aio.AioRpcError) as e:
        await s.GetFile(common_pb2.FileRef(owner="alice", package="hello", version="1.0", basename="../etc/passwd"))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "basename" in e.value.details()

    with pytest.raises(grpc.aio.AioRpcError) as e:
        await s.GrantFormUpload(registry_pb2.GrantFormUploadRequest(key="uploads/guess"))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
