"""`pkgcloud admin rebuild-index OWNER`: rewrite an owner's conda channels from the
registry's own records (read over gRPC), byte-identical to what the incremental path wrote.

The registry's records also replace what index-svc's store holds for the owner's conda
files (one ledger entry, "index.resynced"): after a BulkImportFiles (no events) the next
upload must not publish a channel made of only the files index-svc heard about. A running
index-svc notices the extra ledger entry at its next event and reloads the owner.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from pathlib import Path

from pkgcloud_protos.v1 import registry_pb2, registry_pb2_grpc
from pkgcloud_servicekit.blobstore import BlobStore, make_blob_store
from pkgcloud_servicekit.grpc_plumbing import open_channel
from pkgcloud_servicekit.settings import DEFAULT_GRPC_PORTS, Settings

from ..store import AppliedEvent, FileChange, IndexedFile, IndexStore, RemoveFile, UpsertFile
from .publisher import CondaIndexPublisher, conda_file


async def registry_files(stub: registry_pb2_grpc.RegistryServiceStub, owner: str) -> list[IndexedFile]:
    out = []
    async for r in stub.ListOwnerFiles(registry_pb2.LabelOwnerRef(owner=owner, type="conda")):
        out.append(IndexedFile(
            owner=owner, package=r.package, version=r.version, basename=r.basename, type="conda",
            subdir=r.subdir or r.basename.split("/", 1)[0], labels=tuple(r.labels), sha256=r.sha256, size=r.size,
            public=r.package_public, attrs_json=r.attrs_json, upload_time_ms=r.upload_time_ms,
        ))
    return out


async def resync_store(store: IndexStore, owner: str, files: list[IndexedFile]) -> None:
    """Make the store's conda files of owner exactly these (other types untouched)."""
    keep = {(f.package, f.version, f.basename) for f in files}
    changes: list[FileChange] = [
        RemoveFile(owner, f.package, f.version, f.basename)
        for f in await store.list_files(owner) if f.type == "conda" and (f.package, f.version, f.basename) not in keep
    ]
    changes += [UpsertFile(f) for f in files]
    event = AppliedEvent(event_id=f"resync-{uuid.uuid4().hex}", event_type="index.resynced", owner=owner,
                         applied_at_ms=int(time.time() * 1000))
    await store.apply_event(event, changes)


async def rebuild_from_registry(stub: registry_pb2_grpc.RegistryServiceStub, blobs: BlobStore, owner: str,
                                store: IndexStore | None = None) -> int:
    files = await registry_files(stub, owner)
    if store is not None:
        await resync_store(store, owner, files)
    # the documents come from the registry's records either way (byte-identical to the
    # store's once resynced); the store only tells a running index-svc what it missed
    await CondaIndexPublisher(store, blobs).rebuild_from(owner, [conda_file(f) for f in files])  # type: ignore[arg-type]
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
        from ..target import make_store

        channel = open_channel(registry_address(settings))
        blobs = make_blob_store(settings)
        store, mongo_client = make_store(settings)
        try:
            await store.open()
            t0 = time.perf_counter()
            n = await rebuild_from_registry(registry_pb2_grpc.RegistryServiceStub(channel), blobs, args.owner, store)
            print(f"rebuilt the conda channels of {args.owner}: {n} files in {time.perf_counter() - t0:.2f} s")
        finally:
            await channel.close()
            await blobs.close()
            await store.close()
            if mongo_client is not None:
                mongo_client.close()

    asyncio.run(main())
    return 0
