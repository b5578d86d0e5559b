"""What a topology has published for an owner's conda channels, read straight from its blob
store (no gateway cache in between), for comparing the incremental index with a rebuild."""

from __future__ import annotations

import asyncio
import json

from pkgcloud_servicekit.published import VIEWS, conda_document_key, conda_state_key

from .topology import Topology


def _blob_store(topo: Topology):
    from pkgcloud_servicekit.blobstore import make_blob_store
    from pkgcloud_servicekit.settings import Settings

    settings = {k.removeprefix("PKGCLOUD_").lower(): v for k, v in topo.env.items() if k.startswith("PKGCLOUD_")}
    return make_blob_store(Settings(**settings))


def published(topo: Topology, owner: str) -> dict[str, bytes]:
    """The owner's published conda documents, straight from the bucket (no gateway cache):
    the body of every JSON document and shard index (without the stored ETag line), without
    index-svc's own bookkeeping."""
    from pkgcloud_servicekit.published import conda_manifest_key, conda_owner_prefix, document_body

    async def read() -> dict[str, bytes]:
        blobs = _blob_store(topo)
        try:
            bookkeeping = {conda_state_key(owner)} | {conda_manifest_key(owner, v) for v in VIEWS}
            keys = [k async for k in blobs.list(conda_owner_prefix(owner))]
            wanted = [k for k in keys if (k.endswith(".json") or k.endswith("repodata_shards.msgpack.zst")) and k not in bookkeeping]
            return {k: document_body(await blobs.read_bytes(k)) for k in sorted(wanted)}
        finally:
            await blobs.close()

    return asyncio.run(read())


def noarch_files(docs: dict[str, bytes], owner: str) -> set[str]:
    raw = docs.get(conda_document_key(owner, "public", "main", "noarch/repodata.json"))
    if raw is None:
        return set()
    doc = json.loads(raw)
    return set(doc.get("packages", {})) | set(doc.get("packages.conda", {}))


def settled(topo: Topology, owner: str) -> bool:
    """Whether the owner's published documents reflect every event index-svc has applied:
    its state.json (written after the documents) counts as many events as its store."""
    from .status import owner_status

    status = owner_status("index", topo.grpc["index"], owner)
    raw = asyncio.run(_read_state(topo, owner))
    return status is not None and raw is not None and json.loads(raw).get("events_applied") == status.events_applied


async def _read_state(topo: Topology, owner: str) -> bytes | None:
    from pkgcloud_servicekit.blobstore import BlobNotFound

    blobs = _blob_store(topo)
    try:
        return await blobs.read_bytes(conda_state_key(owner))
    except BlobNotFound:
        return None
    finally:
        await blobs.close()
