"""Python distributions (sdists and wheels): their core metadata, read with `packaging`.

The archive is read in place (a seekable temporary copy of the blob, never unpacked to
disk), every member name is checked before anything trusts it, and what is read is bounded:
declared sizes are checked against the compressed ones (zip and tar bombs) and the metadata
file itself has a size limit. The name and version the filename, the core metadata and the
upload request carry must all agree, compared the PEP 503 / PEP 440 way.

A wheel's METADATA file is kept byte for byte as a sidecar blob (`<content key>.metadata`),
served as `<file>.metadata` (PEP 658) with its sha256 recorded in the file's attrs.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import posixpath
import re
import tarfile
import tempfile
import zipfile
from typing import Any

from packaging.metadata import parse_email
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version
from pkgcloud_servicekit.blobstore import BlobStore
from pkgcloud_servicekit.errors import Invalid

from . import Inspection, UploadContext

#: METADATA / PKG-INFO larger than this is refused (PyPI's largest are well under 1 MiB)
MAX_METADATA_BYTES = 1024 * 1024
#: archives whose contents expand to more than this many times their size are bombs...
MAX_RATIO = 50
#: ...once they expand past this (small, highly compressible text files are normal)
RATIO_FLOOR = 64 * 1024 * 1024
MAX_MEMBERS = 100_000
#: the copy of the blob stays in memory up to this size, then spills to a temporary file
SPOOL_BYTES = 16 * 1024 * 1024
SIDECAR = "metadata"

_DRIVE = re.compile(r"^[A-Za-z]:")


def _check_member_name(name: str) -> None:
    if not name or name.startswith("/") or "\\" in name or _DRIVE.match(name):
        raise Invalid(f"archive member {name!r} has an absolute or non-POSIX path; refusing the archive")
    if ".." in name.split("/"):
        raise Invalid(f"archive member {name!r} escapes the archive (path traversal); refusing the archive")


def _check_expansion(expanded: int, compressed: int) -> None:
    if expanded > RATIO_FLOOR and expanded > MAX_RATIO * max(compressed, 1):
        raise Invalid(
            f"archive expands to {expanded} bytes from {compressed}: more than {MAX_RATIO} times its size (a zip bomb?)"
        )


def _metadata_fields(data: bytes, what: str) -> dict[str, Any]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid(f"{what} is not UTF-8 text") from None
    raw, _unparsed = parse_email(text)
    name, version = raw.get("name"), raw.get("version")
    if not name:
        raise Invalid(f"{what} has no Name field")
    if not version:
        raise Invalid(f"{what} has no Version field")
    try:
        parsed = Version(version)
    except InvalidVersion:
        raise Invalid(f"{what} declares version {version!r}, which is not a valid PEP 440 version") from None
    out: dict[str, Any] = {
        "name": name,
        "version": str(parsed),
        "metadata_version": raw.get("metadata_version", ""),
        "summary": raw.get("summary", ""),
        "requires_python": raw.get("requires_python", ""),
        "requires_dist": list(raw.get("requires_dist", [])),
        "license": raw.get("license_expression") or raw.get("license", ""),
        "home_page": raw.get("home_page", ""),
    }
    return out


def _agree(ctx: UploadContext, kind: str, file_name: str, file_version: Version, meta: dict[str, Any], what: str) -> None:
    """The filename, the metadata and the upload request must name the same project and version."""
    meta_name = canonicalize_name(meta["name"])
    if canonicalize_name(file_name) != meta_name:
        raise Invalid(f"the {kind} filename {ctx.basename!r} names project {file_name!r} but its {what} says {meta['name']!r}")
    if file_version != Version(meta["version"]):
        raise Invalid(f"the {kind} filename {ctx.basename!r} has version {file_version} but its {what} says {meta['version']}")
    if canonicalize_name(ctx.package) != meta_name:
        raise Invalid(f"{ctx.basename} is a distribution of {meta['name']!r}, not of package {ctx.package!r}")
    try:
        requested = Version(ctx.version)
    except InvalidVersion:
        raise Invalid(f"version {ctx.version!r} is not a valid PEP 440 version") from None
    if requested != file_version:
        raise Invalid(f"{ctx.basename} is version {file_version}, not {ctx.version}")


def _read_bounded(fileobj, declared: int, what: str) -> bytes:
    if declared > MAX_METADATA_BYTES:
        raise Invalid(f"{what} is {declared} bytes, more than the limit of {MAX_METADATA_BYTES}")
    data = fileobj.read(MAX_METADATA_BYTES + 1)
    if len(data) > MAX_METADATA_BYTES:
        raise Invalid(f"{what} is larger than the limit of {MAX_METADATA_BYTES} bytes")
    return data


# --- wheels ---------------------------------------------------------------------------


def _inspect_zip_members(zf: zipfile.ZipFile, compressed_size: int) -> list[zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise Invalid(f"archive has {len(infos)} members, more than {MAX_MEMBERS}")
    expanded = 0
    for info in infos:
        _check_member_name(info.filename)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise Invalid(f"archive member {info.filename!r} uses an unsupported compression method (only stored and deflated)")
        expanded += info.file_size
    _check_expansion(expanded, compressed_size)
    return infos


def _read_zip_member(zf: zipfile.ZipInfo | Any, info: zipfile.ZipInfo, what: str) -> bytes:
    with zf.open(info) as fh:
        data = _read_bounded(fh, info.file_size, what)
    # zipfile checks the CRC only at the end of the member: a lying header fails here
    if len(data) != info.file_size:
        raise Invalid(f"{what} is {len(data)} bytes but the archive declares {info.file_size}")
    return data


def _inspect_wheel(fh, size: int, ctx: UploadContext) -> Inspection:
    try:
        name, version, _build, tags = parse_wheel_filename(ctx.basename)
    except (InvalidWheelFilename, InvalidVersion) as e:
        raise Invalid(f"invalid wheel filename {ctx.basename!r}: {e}") from None
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise Invalid(f"{ctx.basename} is not a valid zip archive") from None
    with zf:
        infos = _inspect_zip_members(zf, size)
        dist_infos = {i.filename.split("/", 1)[0] for i in infos if i.filename.split("/", 1)[0].endswith(".dist-info")}
        if len(dist_infos) != 1:
            raise Invalid(f"{ctx.basename} must contain exactly one .dist-info directory, found {len(dist_infos)}")
        dist_info = dist_infos.pop()
        by_name = {i.filename: i for i in infos}
        meta_info = by_name.get(f"{dist_info}/METADATA")
        if meta_info is None:
            raise Invalid(f"{ctx.basename} has no {dist_info}/METADATA")
        if f"{dist_info}/WHEEL" not in by_name:
            raise Invalid(f"{ctx.basename} has no {dist_info}/WHEEL")
        try:
            metadata = _read_zip_member(zf, meta_info, "the wheel's METADATA")
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            raise Invalid(f"cannot read the METADATA of {ctx.basename}: {e}") from None
    meta = _metadata_fields(metadata, "the wheel's METADATA")
    _agree(ctx, "wheel", str(name), version, meta, "METADATA")
    tag_list = sorted(str(t) for t in tags)
    attrs = {
        **ctx.client_attrs,
        **meta,
        "packagetype": "bdist_wheel",
        "python_version": sorted({t.interpreter for t in tags})[0] if tags else "",
        "tags": tag_list,
        "core_metadata_sha256": hashlib.sha256(metadata).hexdigest(),
        "core_metadata_blake2_256": hashlib.blake2b(metadata, digest_size=32).hexdigest(),
        "core_metadata_size": len(metadata),
    }
    return Inspection(attrs=attrs, sidecars={SIDECAR: metadata})


# --- sdists ---------------------------------------------------------------------------


def _sdist_pkg_info_tar(fh, size: int, ctx: UploadContext) -> bytes:
    try:
        tf = tarfile.open(fileobj=fh, mode="r:*")
    except (tarfile.TarError, OSError, EOFError):
        raise Invalid(f"{ctx.basename} is not a valid gzip-compressed tar archive") from None
    tops: set[str] = set()
    pkg_info: tarfile.TarInfo | None = None
    expanded = 0
    with tf:
        try:
            count = 0
            for member in tf:  # reads headers one after another; stops at the first bad one
                count += 1
                if count > MAX_MEMBERS:
                    raise Invalid(f"archive has more than {MAX_MEMBERS} members")
                _check_member_name(member.name)
                if member.issym() or member.islnk():
                    target = member.linkname if member.islnk() else posixpath.join(posixpath.dirname(member.name), member.linkname)
                    _check_member_name(posixpath.normpath(target) if not member.linkname.startswith("/") else member.linkname)
                elif not (member.isfile() or member.isdir()):
                    raise Invalid(f"archive member {member.name!r} is a device, fifo or other special file")
                expanded += member.size
                _check_expansion(expanded, size)
                tops.add(member.name.split("/", 1)[0])
                parts = member.name.split("/")
                if len(parts) == 2 and parts[1] == "PKG-INFO" and member.isfile():
                    pkg_info = member
        except (tarfile.TarError, OSError, EOFError, ValueError) as e:
            raise Invalid(f"{ctx.basename} is a damaged tar archive: {e}") from None
        if len(tops) != 1:
            raise Invalid(f"an sdist must contain a single top-level directory; {ctx.basename} has {len(tops)}")
        if pkg_info is None:
            raise Invalid(f"{ctx.basename} has no <name>-<version>/PKG-INFO")
        try:
            extracted = tf.extractfile(pkg_info)
            assert extracted is not None
            data = _read_bounded(extracted, pkg_info.size, "the sdist's PKG-INFO")
        except (tarfile.TarError, OSError, EOFError) as e:
            raise Invalid(f"cannot read the PKG-INFO of {ctx.basename}: {e}") from None
    return data


def _sdist_pkg_info_zip(fh, size: int, ctx: UploadContext) -> bytes:
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise Invalid(f"{ctx.basename} is not a valid zip archive") from None
    with zf:
        infos = _inspect_zip_members(zf, size)
        tops = {i.filename.split("/", 1)[0] for i in infos}
        if len(tops) != 1:
            raise Invalid(f"an sdist must contain a single top-level directory; {ctx.basename} has {len(tops)}")
        top = tops.pop()
        info = next((i for i in infos if i.filename == f"{top}/PKG-INFO"), None)
        if info is None:
            raise Invalid(f"{ctx.basename} has no <name>-<version>/PKG-INFO")
        try:
            return _read_zip_member(zf, info, "the sdist's PKG-INFO")
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            raise Invalid(f"cannot read the PKG-INFO of {ctx.basename}: {e}") from None


def _inspect_sdist(fh, size: int, ctx: UploadContext) -> Inspection:
    try:
        name, version = parse_sdist_filename(ctx.basename)
    except (InvalidSdistFilename, InvalidVersion) as e:
        raise Invalid(f"invalid sdist filename {ctx.basename!r}: {e}") from None
    if ctx.basename.endswith(".zip"):
        data = _sdist_pkg_info_zip(fh, size, ctx)
    else:
        data = _sdist_pkg_info_tar(fh, size, ctx)
    meta = _metadata_fields(data, "the sdist's PKG-INFO")
    _agree(ctx, "sdist", str(name), version, meta, "PKG-INFO")
    return Inspection(attrs={**ctx.client_attrs, **meta, "packagetype": "sdist", "python_version": "source"})


def inspect_file(fh, size: int, ctx: UploadContext) -> Inspection:
    """Inspect a seekable file object holding the distribution (blocking: run in a thread)."""
    if "/" in ctx.basename:
        raise Invalid(f"a Python distribution's basename is a plain filename, not {ctx.basename!r}")
    if ctx.basename.endswith(".whl"):
        return _inspect_wheel(fh, size, ctx)
    if ctx.basename.endswith((".tar.gz", ".zip")):
        return _inspect_sdist(fh, size, ctx)
    raise Invalid(f"{ctx.basename} is neither a wheel (.whl) nor an sdist (.tar.gz or .zip)")


class PypiInspector:
    async def inspect(self, blobs: BlobStore, key: str, ctx: UploadContext) -> Inspection:
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
            async for chunk in blobs.open(key):
                await asyncio.to_thread(spool.write, chunk)
            spool.seek(0)
            return await asyncio.to_thread(inspect_file, spool, ctx.size, ctx)


INSPECTOR = PypiInspector()


def inspect_bytes(data: bytes, ctx: UploadContext) -> Inspection:
    """Convenience for tests and tools."""
    return inspect_file(io.BytesIO(data), len(data), ctx)


def name_clash(package: str, existing: list[str]) -> str | None:
    """The existing project of the owner that `package` would be confused with: one whose
    normalized name is the same while its spelling differs (pip could never tell them apart)."""
    wanted = canonicalize_name(package)
    for other in existing:
        if other != package and canonicalize_name(other) == wanted:
            return other
    return None
