"""RegistryService over gRPC: protobuf in, RegistryCore, protobuf out."""

from __future__ import annotations

from pkgcloud_protos.v1 import common_pb2, registry_pb2, registry_pb2_grpc
from pkgcloud_servicekit import audit

from .convert import file_record, package_message, release_message
from .core import PackageDetail, RegistryCore, ReleaseDetail
from .owner_copy import copy_to_owner
from .privacy import ReadAccess
from .store import StoredFile

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

    async def OpenDownload(self, request, context):
        access = ReadAccess(request.access.everything, frozenset(p.lower() for p in request.access.packages))
        v = await self.core.open_download(
            *_ref(request.ref), access, label=request.label, file_type=request.type, count=request.count,
            cached_sha256=frozenset(request.cached_sha256),
        )
        return registry_pb2.Download(file=file_record(v.file, package_public=v.package_public))

    # --- PyPI (issue 4) ------------------------------------------------------------
    async def EnsureRelease(self, request, context):
        r = request
        e = await self.core.ensure_release(
            r.owner, r.name, r.version, checked_package=r.checked_package, lookup_only=r.lookup_only, public=r.public,
            summary=r.summary, package_types=list(r.package_types), release_attrs_json=r.release_attrs_json, basename=r.basename,
        )
        out = registry_pb2.EnsureReleaseResponse(
            package=e.package, checked=e.checked, package_created=e.package_created, release_created=e.release_created,
        )
        if e.file is not None:
            out.file.CopyFrom(file_record(e.file.file, package_public=e.file.package_public))
        return out

    async def SetReleaseYanked(self, request, context):
        r = request
        package, views = await self.core.set_release_yanked(r.owner, r.project, r.version, list(r.basenames), r.yanked, r.reason)
        return registry_pb2.SetReleaseYankedResponse(
            package=package, files=[file_record(v.file, package_public=v.package_public) for v in views],
        )

    # --- conda labels (issue 3) -----------------------------------------------------
    async def ListLabels(self, request, context):
        labels = await self.core.labels.list(request.owner)
        return registry_pb2.LabelList(labels=[_label(i) for i in labels])

    async def GetLabel(self, request, context):
        info, files = await self.core.labels.show(request.owner, request.label)
        publics = await self._publics(request.owner, files)
        return registry_pb2.LabelFiles(label=_label(info), files=[file_record(f, package_public=publics[f.package]) for f in files])

    async def _publics(self, owner, files):
        out = {}
        for f in files:
            if f.package not in out:
                pkg = await self.core.store.get_package(owner, f.package)
                out[f.package] = pkg.public if pkg else False
        return out

    async def CopyLabel(self, request, context):
        return _changed(await self.core.labels.copy_label(request.owner, request.from_label, request.to_label))

    async def SetLabelLock(self, request, context):
        return _label(await self.core.labels.set_locked(request.owner, request.label, request.locked))

    async def RemoveLabel(self, request, context):
        r = request
        return _changed(await self.core.labels.remove(r.owner, r.label, r.package, r.version, r.basename))

    async def AddLabel(self, request, context):
        r = request
        return _changed(await self.core.labels.add(r.owner, r.label, r.package, r.version, r.basename))

    async def CopyFiles(self, request, context):
        r = request
        if r.to_owner and r.to_owner != r.owner:
            return _changed(await copy_to_owner(self.core, r.owner, r.package, r.version, r.basename, r.from_label, r.to_label,
                                                r.to_owner, r.mode))
        return _changed(await self.core.labels.copy_files(
            r.owner, r.package, r.version, r.basename, r.from_label, r.to_label, to_owner=r.to_owner, mode=r.mode,
        ))

    async def ListOwnerFiles(self, request, context):
        files = await self.core.store.list_owner_files(request.owner, request.type)
        publics = await self._publics(request.owner, files)
        for f in files:
            yield file_record(f, package_public=publics[f.package])

    async def BulkImportFiles(self, request, context):
        files = [
            StoredFile(
                owner=r.owner, package=r.package, version=r.version, basename=r.basename, type=r.type, subdir=r.subdir,
                labels=tuple(r.labels) or ("main",), size=r.size, sha256=r.sha256, md5=r.md5, blake2_256=r.blake2_256,
                blob_key=r.blob_key, attrs_json=r.attrs_json or "{}", upload_time_ms=r.upload_time_ms,
            )
            for r in request.files
        ]
        return registry_pb2.BulkImportResponse(imported=await self.core.bulk_import(files, public=request.public))

    # --- private packages and authorized users (issue 5) ----------------------------
    async def SetPackagePublic(self, request, context):
        await self.core.access.set_public(request.owner, request.name, request.public)
        return _pkg(await self.core.get_package(request.owner, request.name))

    async def ListCollaborators(self, request, context):
        return registry_pb2.CollaboratorList(logins=await self.core.access.collaborators(request.owner, request.name))

    async def AddCollaborator(self, request, context):
        p = request.package
        return registry_pb2.CollaboratorList(logins=await self.core.access.add_collaborator(p.owner, p.name, request.login))

    async def RemoveCollaborator(self, request, context):
        p = request.package
        return registry_pb2.CollaboratorList(logins=await self.core.access.remove_collaborator(p.owner, p.name, request.login))

    async def ListCollaborations(self, request, context):
        return registry_pb2.CollaborationsResponse(packages=await self.core.access.collaborations(request.login, request.owner))

    async def SearchPackages(self, request, context):
        found = await self.core.access.search(request.name, request.package_type, request.platform, request.limit,
                                              newest_first=request.newest_first, public_only=request.public_only)
        return registry_pb2.ListPackagesResponse(packages=[package_message(p, versions, files) for p, versions, files in found])

    # --- audit trail (issue 11) -----------------------------------------------------
    async def ListAudit(self, request, context):
        return audit.list_response(await self.core.list_audit(audit.query_from_pb(request)))


def _label(i) -> registry_pb2.LabelInfo:
    return registry_pb2.LabelInfo(name=i.name, is_locked=i.is_locked, file_count=i.file_count)


def _changed(changes) -> registry_pb2.LabelChange:
    return registry_pb2.LabelChange(files=[file_record(c.file, package_public=c.package_public) for c in changes])
