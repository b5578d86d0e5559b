"""RegistryService over gRPC: protobuf in, RegistryCore, protobuf out."""

from __future__ import annotations

from pkgcloud_protos.v1 import common_pb2, registry_pb2, registry_pb2_grpc

from .convert import file_record, package_message, release_message
from .core import PackageDetail, RegistryCore, ReleaseDetail

SERVICE_NAME = registry_pb2.DESCRIPTOR.services_by_name["RegistryService"].full_name


def _pkg(d: PackageDetail) -> registry_pb2.Package:
    return package_message(d.package, d.versions, d.files)


def _rel(d: ReleaseDetail) -> registry_pb2.Release:
    return release_message(d.release, d.files, package_public=d.package_public)


def _ref(r: common_pb2.FileRef) -> tuple[str, str, str, str]:
    return r.owner, r.package, r.version, r.basename


class RegistryServicer(registry_pb2_grpc.RegistryServiceServicer):
    def __init__(self, core: RegistryCore):
        self.core = core

    async def GetPackage(self, request, context):
        return _pkg(await self.core.get_package(request.owner, request.name))

    async def ListPackages(self, request, context):
        return registry_pb2.ListPackagesResponse(packages=[_pkg(d) for d in await self.core.list_packages(request.owner)])

    async def CreatePackage(self, request, context):
        return _pkg(await self.core.create_package(
            request.owner, request.name, public=request.public, summary=request.summary,
            package_types=list(request.package_types), public_attrs_json=request.public_attrs_json,
        ))

    async def UpdatePackage(self, request, context):
        return _pkg(await self.core.update_package(request.owner, request.name, request.public_attrs_json))

    async def DeletePackage(self, request, context):
        return registry_pb2.DeleteResponse(files_removed=await self.core.delete_package(request.owner, request.name))

    async def GetRelease(self, request, context):
        return _rel(await self.core.get_release(request.owner, request.package, request.version))

    async def CreateRelease(self, request, context):
        r = request.ref
        return _rel(await self.core.create_release(r.owner, r.package, r.version, request.attrs_json))

    async def UpdateRelease(self, request, context):
        r = request.ref
        return _rel(await self.core.update_release(r.owner, r.package, r.version, request.attrs_json))

    async def DeleteRelease(self, request, context):
        return registry_pb2.DeleteResponse(files_removed=await self.core.delete_release(request.owner, request.package, request.version))

    async def GetFile(self, request, context):
        v = await self.core.get_file(*_ref(request))
        return file_record(v.file, package_public=v.package_public)

    async def DeleteFile(self, request, context):
        v = await self.core.delete_file(*_ref(request))
        return file_record(v.file, package_public=v.package_public)

    async def StageUpload(self, request, context):
        res = await self.core.stage(
            *_ref(request.ref), distribution_type=request.distribution_type, sha256=request.sha256,
            description=request.description, attrs_json=request.attrs_json, dependencies_json=request.dependencies_json,
            labels=list(request.labels), form_post_url=request.form_post_url,
        )
        return registry_pb2.StageUploadResponse(
            dist_id=res.dist_id, post_url=res.post_url,
            form_data=[registry_pb2.FormField(name=k, value=v) for k, v in res.form_data],
        )

    async def GrantFormUpload(self, request, context):
        g = await self.core.grant_form_upload(request.key)
        return registry_pb2.FormUploadGrant(blob_key=g.blob_key, max_size=g.max_size)

    async def CommitUpload(self, request, context):
        v = await self.core.commit(*_ref(request.ref), request.dist_id)
        return file_record(v.file, package_public=v.package_public)

    async def GetDownload(self, request, context):
        v = await self.core.download(*_ref(request))
        return registry_pb2.Download(file=file_record(v.file, package_public=v.package_public))
