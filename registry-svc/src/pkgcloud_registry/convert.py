"""Domain records <-> protobuf messages (events and the gRPC API)."""

from __future__ import annotations

import json

from pkgcloud_protos.v1 import common_pb2, registry_pb2

from .store import PackageRecord, ReleaseRecord, StoredFile


def file_record(f: StoredFile, *, package_public: bool) -> common_pb2.FileRecord:
    return common_pb2.FileRecord(
        owner=f.owner, package=f.package, version=f.version, basename=f.basename, type=f.type, subdir=f.subdir,
        labels=list(f.labels), size=f.size, sha256=f.sha256, md5=f.md5, blob_key=f.blob_key, attrs_json=f.attrs_json,
        upload_time_ms=f.upload_time_ms, package_public=package_public, description=f.description,
        dependencies_json=f.dependencies_json, download_count=f.download_count, blake2_256=f.blake2_256,
        yanked=f.yanked, yanked_reason=f.yanked_reason,
    )


def package_message(p: PackageRecord, versions: list[str], files: list[StoredFile]) -> registry_pb2.Package:
    return registry_pb2.Package(
        owner=p.owner, name=p.name, summary=p.summary, public=p.public, package_types=list(p.package_types),
        created_at_ms=p.created_at_ms, modified_at_ms=p.modified_at_ms, public_attrs_json=json.dumps(p.public_attrs),
        versions=versions, files=[file_record(f, package_public=p.public) for f in files], license=p.license,
    )


def release_message(r: ReleaseRecord, files: list[StoredFile], *, package_public: bool) -> registry_pb2.Release:
    return registry_pb2.Release(
        owner=r.owner, package=r.package, version=r.version, attrs_json=json.dumps(r.attrs), created_at_ms=r.created_at_ms,
        files=[file_record(f, package_public=package_public) for f in files],
    )
