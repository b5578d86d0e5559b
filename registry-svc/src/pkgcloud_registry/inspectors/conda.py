"""The conda inspector: reads info/index.json, info/about.json and info/run_exports.json of a
`.tar.bz2` or `.conda` with conda-package-streaming, and refuses what a channel must not serve.

The archive is read from the blob stream into a spooled buffer (memory up to a bound, then
an anonymous temporary file): a `.conda` is a zip, whose directory sits at the end, so it needs
random access. Nothing is ever extracted: members are read as streams, and only the three
metadata members, each bounded in size, are read into memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import tarfile
import tempfile
import zipfile
from typing import IO, Any

from conda_package_streaming.package_streaming import stream_conda_component
from pkgcloud_servicekit.blobstore import BlobNotFound, BlobStore
from pkgcloud_servicekit.errors import Invalid

from . import Inspection, UploadContext

# CEP 26 subdir naming: noarch or <platform>-<arch>.
SUBDIR = re.compile(r"^(noarch|[a-z0-9]+-[a-z0-9]+)$")
_EXTENSIONS = (".tar.bz2", ".conda")
# Bounds on what is read into memory; real packages are far below them.
MAX_INDEX_JSON = 1024 * 1024
MAX_ABOUT_JSON = 4 * 1024 * 1024
MAX_RUN_EXPORTS_JSON = 1024 * 1024
_METADATA = {"info/index.json": MAX_INDEX_JSON, "info/about.json": MAX_ABOUT_JSON, "info/run_exports.json": MAX_RUN_EXPORTS_JSON}
_SPOOL_IN_MEMORY = 16 * 1024 * 1024
# about.json keys the registry keeps (channeldata and the web UI use them)
_ABOUT_KEYS = ("summary", "description", "home", "dev_url", "doc_url", "source_url", "license", "license_family")


def split_basename(basename: str) -> tuple[str, str, str]:
    """'linux-64/x-1.0-0.conda' -> ('linux-64', 'x-1.0-0', '.conda'); Invalid when malformed."""
    subdir, sep, fn = basename.partition("/")
    if not sep or "/" in fn:
        raise Invalid(f"a conda basename is <subdir>/<name>-<version>-<build>.<ext>, got {basename!r}")
    if not SUBDIR.match(subdir) or len(subdir) > 32:
        raise Invalid(f"unknown conda subdir {subdir!r}: expected noarch or <platform>-<arch> such as linux-64")
    for ext in _EXTENSIONS:
        if fn.endswith(ext):
            return subdir, fn[: -len(ext)], ext
    raise Invalid(f"a conda package file ends in .tar.bz2 or .conda, got {fn!r}")


def _check_member_path(name: str) -> None:
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
        raise Invalid(f"the package contains an unsafe path {name!r} (absolute or with '..')")


def _decode_json(member: str, raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid(f"{member} is not valid UTF-8") from None
    try:
        return json.loads(text)
    except ValueError:
        raise Invalid(f"{member} is not valid JSON") from None


def _members(fn: str, fileobj: IO[bytes], components: tuple[str, ...]) -> dict[str, bytes]:
    """Walk every member of the given components, checking paths; the metadata members' bytes."""
    found: dict[str, bytes] = {}
    for component in components:
        fileobj.seek(0)
        for tar, member in stream_conda_component(fn, fileobj, component):
            _check_member_path(member.name)
            if member.islnk():
                # a hard link names another member; soft links may point anywhere (as in real packages)
                _check_member_path(member.linkname)
            name = member.name[2:] if member.name.startswith("./") else member.name
            limit = _METADATA.get(name)
            if limit is None or not member.isfile():
                continue
            if member.size > limit:
                raise Invalid(f"{name} is {member.size} bytes, more than the {limit} bytes allowed")
            f = tar.extractfile(member)
            found[name] = f.read() if f is not None else b""
    return found


def read_metadata(fn: str, ext: str, fileobj: IO[bytes]) -> dict[str, bytes]:
    """The metadata members of the archive; Invalid when it is not a well-formed package."""
    try:
        if ext == ".conda":
            with zipfile.ZipFile(fileobj) as zf:
                names = zf.namelist()
                for n in names:
                    _check_member_path(n)
                stem = fn[: -len(ext)]
                for component in ("info", "pkg"):
                    if f"{component}-{stem}.tar.zst" not in names:
                        raise Invalid(f"the .conda archive has no {component}-{stem}.tar.zst inside")
            return _members(fn, fileobj, ("info", "pkg"))
        return _members(fn, fileobj, ("info",))
    except Invalid:
        raise
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, LookupError, ValueError, RuntimeError) as e:
        raise Invalid(f"{fn} is not a readable conda package ({type(e).__name__}: {e})") from None
    except Exception as e:  # zstd raises its own error types
        raise Invalid(f"{fn} is not a readable conda package ({type(e).__name__})") from None


def build_attrs(subdir: str, stem: str, meta: dict[str, bytes]) -> dict[str, Any]:
    raw_index = meta.get("info/index.json")
    if raw_index is None:
        raise Invalid("the package has no info/index.json")
    index = _decode_json("info/index.json", raw_index)
    if not isinstance(index, dict):
        raise Invalid("info/index.json must be a JSON object")
    for key in ("name", "version", "build"):
        if not isinstance(index.get(key), str) or not index[key]:
            raise Invalid(f"info/index.json has no {key!r} string")
    expected = f"{index['name']}-{index['version']}-{index['build']}"
    if expected != stem:
        raise Invalid(f"info/index.json says {expected!r} but the file is named {stem!r}")
    if index.get("subdir", subdir) != subdir:
        raise Invalid(f"info/index.json says subdir {index.get('subdir')!r} but the file is uploaded to {subdir!r}")
    if not isinstance(index.get("build_number", 0), int):
        raise Invalid("info/index.json build_number must be an integer")
    attrs = dict(index)
    attrs["subdir"] = subdir
    if "info/run_exports.json" in meta:
        run_exports = _decode_json("info/run_exports.json", meta["info/run_exports.json"])
        if isinstance(run_exports, list):
            run_exports = {"weak": run_exports}
        if not isinstance(run_exports, dict):
            raise Invalid("info/run_exports.json must be a JSON object or list")
        attrs["run_exports"] = run_exports
    if "info/about.json" in meta:
        about = _decode_json("info/about.json", meta["info/about.json"])
        if isinstance(about, dict):
            kept = {k: about[k] for k in _ABOUT_KEYS if isinstance(about.get(k), str)}
            if kept:
                attrs["about"] = kept
    return attrs


async def _spool(blobs: BlobStore, key: str) -> tuple[IO[bytes], str]:
    """The blob in a spooled buffer, and its md5 (the record carries it; computed on the way)."""
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)
    md5 = hashlib.md5()
    try:
        async for chunk in blobs.open(key):
            md5.update(chunk)
            spool.write(chunk)
    except BlobNotFound:
        spool.close()
        raise Invalid("no file was uploaded for this stage") from None
    spool.seek(0)
    return spool, md5.hexdigest()


class CondaInspector:
    async def inspect(self, blobs: BlobStore, key: str, ctx: UploadContext) -> Inspection:
        subdir, stem, ext = split_basename(ctx.basename)
        spool, md5 = await _spool(blobs, key)
        try:
            meta = await asyncio.to_thread(read_metadata, stem + ext, ext, spool)
        finally:
            spool.close()
        attrs = build_attrs(subdir, stem, meta)
        if attrs["name"] != ctx.package.lower() and attrs["name"] != ctx.package:
            raise Invalid(f"the package file is {attrs['name']!r}, uploaded to package {ctx.package!r}")
        if attrs["version"] != ctx.version:
            raise Invalid(f"the package file is version {attrs['version']!r}, uploaded to release {ctx.version!r}")
        # the repodata record's checksums, of the exact bytes stored
        attrs.update(md5=md5, sha256=ctx.sha256, size=ctx.size)
        return Inspection(attrs=attrs, subdir=subdir)


INSPECTOR = CondaInspector()
