"""A download in one call (the OpenDownload RPC, issue 11): the file, the caller's read
access applied, the download counted only when asked and when the client lacks the bytes;
every refusal is the answer a missing file gets."""

from __future__ import annotations

import hashlib

import pytest
from pkgcloud_protos.v1 import common_pb2, registry_pb2
from pkgcloud_registry.core import FILE_NOT_FOUND
from pkgcloud_registry.privacy import ReadAccess
from pkgcloud_registry.servicer import RegistryServicer
from pkgcloud_servicekit.errors import Invalid, NotFound

DATA = b"file bytes\n"
PUBLIC = ("alice", "open", "1.0", "open-1.0.txt")
PRIVATE = ("alice", "Secret", "1.0", "secret-1.0.txt")


def core_sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
async def files(core, h):
    await h.release(core, package="open")
    await h.upload(core, *PUBLIC, DATA)
    await h.release(core, package="Secret")
    await h.upload(core, *PRIVATE, DATA, labels=["dev"])
    await core.access.set_public("alice", "Secret", False)
    return core


ANONYMOUS = ReadAccess()


async def _refusal(core, ref, access=ANONYMOUS, **kw) -> str:
    with pytest.raises(NotFound) as e:
        await core.open_download(*ref, access, **kw)
    return e.value.message


async def _count(core, ref) -> int:
    return (await core.get_file(*ref)).file.download_count


async def test_unreadable_is_missing(files):
    core = files
    missing = await _refusal(core, ("alice", "Secret", "1.0", "nothing.txt"), ReadAccess(everything=True))
    assert missing == FILE_NOT_FOUND
    assert await _refusal(core, ("alice", "nothing", "1.0", "x.txt")) == missing
    assert await _refusal(core, ("bob", "Secret", "1.0", PRIVATE[3])) == missing
    # anonymous, another user's grants, and a wrong label or type: one answer
    assert await _refusal(core, PRIVATE) == missing
    assert await _refusal(core, PRIVATE, ReadAccess(packages=frozenset({"open"}))) == missing
    assert await _refusal(core, PRIVATE, ReadAccess(everything=True), label="main") == missing
    assert await _refusal(core, PRIVATE, ReadAccess(everything=True), file_type="pypi") == missing
    assert await _refusal(core, PUBLIC, label="dev") == missing
    assert await _count(core, PRIVATE) == 0  # a refused download is not counted either
    # readable: the owner's access, or a grant naming the package (lowercase)
    for access in (ReadAccess(everything=True), ReadAccess(packages=frozenset({"secret"}))):
        v = await core.open_download(*PRIVATE, access, label="dev", file_type="file")
        assert v.file.basename == PRIVATE[3] and v.package_public is False
    v = await core.open_download(*PUBLIC, ReadAccess())
    assert v.package_public and v.file.sha256 == core_sha(DATA)
    with pytest.raises(Invalid):  # a name that cannot exist: as before, whatever is stored
        await core.open_download("alice", "Secret", " 1.0", PRIVATE[3], ReadAccess())


async def test_counted_only_when_bytes_are_sent(files):
    core = files
    assert (await core.open_download(*PUBLIC, ReadAccess())).file.download_count == 0  # HEAD, metadata: count=False
    assert (await core.open_download(*PUBLIC, ReadAccess(), count=True)).file.download_count == 1
    # a cache revalidating the bytes it holds gets a 304: not counted
    held = frozenset({core_sha(DATA)})
    assert (await core.open_download(*PUBLIC, ReadAccess(), count=True, cached_sha256=held)).file.download_count == 1
    other = frozenset({"0" * 64})
    assert (await core.open_download(*PUBLIC, ReadAccess(), count=True, cached_sha256=other)).file.download_count == 2
    assert await _count(core, PUBLIC) == 2


async def test_open_download_rpc(files):
    servicer = RegistryServicer(files)
    ref = common_pb2.FileRef(owner=PRIVATE[0], package=PRIVATE[1], version=PRIVATE[2], basename=PRIVATE[3])
    with pytest.raises(NotFound, match=FILE_NOT_FOUND):
        await servicer.OpenDownload(registry_pb2.DownloadRequest(ref=ref, count=True), None)
    granted = registry_pb2.ReadAccess(packages=["SECRET"])  # matched case-insensitively
    dl = await servicer.OpenDownload(registry_pb2.DownloadRequest(ref=ref, access=granted, label="dev", count=True), None)
    assert dl.file.download_count == 1 and not dl.file.package_public
