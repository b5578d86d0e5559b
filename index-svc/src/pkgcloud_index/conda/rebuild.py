"""`pkgcloud admin rebuild-index OWNER`: rewrite an owner's conda channels from the
registry's own records (read over gRPC), byte-identical to what the incremental path wrote."""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from pkgcloud_protos.v1 import registry_pb2, registry_pb2_grpc
from pkgcloud_servicekit.blobstore import BlobStore, make_blob_store
from pkgcloud_servicekit.grpc_plumbing import open_channel
from pkgcloud_servicekit.settings import DEFAULT_GRPC_PORTS, Settings

from .publisher import CondaIndexPublisher
from .records import CondaFile


class _NoStore:
    """The rebuild reads the registry, never index-svc's store."""


async def registry_files(stub: registry_pb2_grpc.RegistryServiceStub, owner: str) -> list[CondaFile]:
    out = []
    async for r in stub.ListOwnerFiles(registry_pb2.LabelOwnerRef(owner=owner, type="conda")):
        out.append(CondaFile(
            package=r.package, version=r.version, basename=r.basename, subdir=r.subdir or r.basename.split("/", 1)[0],
            labels=tuple(r.labels), public=r.package_public, sha256=r.sha256, size=r.size,
            upload_time_ms=r.upload_time_ms, attrs_json=r.attrs_json,
        ))
    return out


async def rebuild_from_registry(stub: registry_pb2_grpc.RegistryServiceStub, blobs: BlobStore, owner: str) -> int:
    files = await registry_files(stub, owner)
    await CondaIndexPublisher(_NoStore(), blobs).rebuild_from(owner, files)  # type: ignore[arg-type]
    return len(files)


def registry_address(settings: Settings) -> str:
    if settings.registry_addr:
        return settings.registry_addr
    sock = settings.data_dir.resolve() / "run" / "registry.sock"
    return f"unix:{sock}" if Path(sock).exists() else f"127.0.0.1:{DEFAULT_GRPC_PORTS['registry']}"


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rebuild-index", help="rewrite an owner's conda channel indexes from the registry")
    p.add_argument("owner", metavar="OWNER")
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    async def main() -> None:
        channel = open_channel(registry_address(settings))
        blobs = make_blob_store(settings)
        try:
            t0 = time.perf_counter()
            n = await rebuild_from_registry(registry_pb2_grpc.RegistryServiceStub(channel), blobs, args.owner)
            print(f"rebuilt the conda channels of {args.owner}: {n} files in {time.perf_counter() - t0:.2f} s")
        finally:
            await channel.close()
            await blobs.close()

    asyncio.run(main())
    return 0
