"""In-test gRPC servicers for the few auth-svc and registry-svc RPCs the gateway calls.

They are unit-test fakes (the real services are tested on their own and together with the
gateway in tests/); they raise the same domain errors the real cores raise, through the
real servicekit gRPC plumbing, so the gateway sees real status codes over a real channel.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid

from pkgcloud_protos.v1 import auth_pb2, auth_pb2_grpc, common_pb2, registry_pb2, registry_pb2_grpc
from pkgcloud_servicekit import errors
from pkgcloud_servicekit.blobstore import BlobNotFound, BlobStore, content_key
from pkgcloud_servicekit.indexes import normalize_project

BASE_DOMAIN = "pkgs.test"


def _now() -> int:
    return int(time.time() * 1000)


class FakeAuth(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self):
        self.users: dict[str, tuple[auth_pb2.User, str]] = {}
        self.tokens: dict[str, auth_pb2.TokenInfo] = {}  # sha256 -> info
        self.resolve_calls = 0
        self.permission_asks: list[tuple[str, str, str]] = []  # (login, owner, package)

    def add_user(self, login: str, password: str) -> auth_pb2.User:
        user = auth_pb2.User(login=login, email=f"{login}@example.com", name=login.title(), user_type="user", created_at_ms=_now())
        self.users[login] = (user, password)
        return user

    def add_token(self, login: str, name: str = "t", expires_at_ms: int = 0) -> str:
        token = secrets.token_urlsafe(24)
        self.tokens[hashlib.sha256(token.encode()).hexdigest()] = auth_pb2.TokenInfo(
            id=uuid.uuid4().hex, login=login, name=name, created_at_ms=_now(), expires_at_ms=expires_at_ms, scopes=["api"],
        )
        return token

    async def CreateUser(self, request, context):
        if not request.login.isidentifier():
            raise errors.Invalid("login must be letters, digits and underscores")
        if request.login in self.users:
            raise errors.Conflict(f"user {request.login} already exists")
        user = self.add_user(request.login, request.password)
        user.email = request.email
        return user

    async def GetUser(self, request, context):
        if request.login not in self.users:
            raise errors.NotFound(f"no user {request.login}")
        return self.users[request.login][0]

    async def CheckPassword(self, request, context):
        found = self.users.get(request.login)
        if found is None or found[1] != request.password:
            raise errors.Unauthenticated("invalid login or password")
        return found[0]

    async def CreateToken(self, request, context):
        token = self.add_token(request.login, request.name)
        info = self.tokens[hashlib.sha256(token.encode()).hexdigest()]
        info.hostname = request.hostname
        info.scopes[:] = list(request.scopes)
        return auth_pb2.CreateTokenResponse(token=token, info=info)

    async def ResolveToken(self, request, context):
        self.resolve_calls += 1
        info = self.tokens.get(hashlib.sha256(request.token.encode()).hexdigest())
        if info is None or (info.expires_at_ms and info.expires_at_ms < _now()):
            raise errors.Unauthenticated("invalid or expired token")
        return auth_pb2.Principal(login=info.login, user_type="user", token_id=info.id, scopes=info.scopes, token_name=info.name, expires_at_ms=info.expires_at_ms)

    async def ListTokens(self, request, context):
        return auth_pb2.ListTokensResponse(tokens=[t for t in self.tokens.values() if t.login == request.login])

    async def RevokeToken(self, request, context):
        which = request.WhichOneof("selector")
        doomed = [
            h for h, t in self.tokens.items()
            if t.login == request.login and (
                (which == "token" and h == hashlib.sha256(request.token.encode()).hexdigest())
                or (which == "name" and t.name == request.name)
                or (which == "token_id" and t.id == request.token_id)
            )
        ]
        for h in doomed:
            del self.tokens[h]
        return auth_pb2.RevokeTokenResponse(revoked=len(doomed))

    async def ListScopes(self, request, context):
        return auth_pb2.ListScopesResponse(scopes=[auth_pb2.Scope(name="api", description="all of the API")])

    async def ListOrganizations(self, request, context):
        return auth_pb2.ListOrganizationsResponse()

    async def GetPermission(self, request, context):
        self.permission_asks.append((request.login, request.owner, request.package))
        # No organizations here (the gateway answers an account's own packages itself);
        # the org rules are tested against the real auth-svc in test_gateway_accounts.py.
        return auth_pb2.GetPermissionResponse(permission=auth_pb2.PERMISSION_NONE)

    async def ListGroups(self, request, context):
        raise errors.NotFound(f"no organization {request.org!r}")  # no organizations here


class FakeRegistry(registry_pb2_grpc.RegistryServiceServicer):
    def __init__(self, blobs: BlobStore, *, max_size: int = 10 * 1024**2):
        self.blobs = blobs
        self.max_size = max_size
        self.packages: dict[tuple[str, str], registry_pb2.Package] = {}
        self.releases: dict[tuple[str, str, str], registry_pb2.Release] = {}
        self.files: dict[tuple[str, str, str, str], common_pb2.FileRecord] = {}
        self.staged: dict[str, dict] = {}  # dist_id -> stage
        self.keys: dict[str, str] = {}  # form key -> dist_id
        self.ensure_calls: list[tuple[str, str, bool]] = []  # EnsureRelease: (name, checked_package, lookup_only)

    def _package(self, owner: str, name: str) -> registry_pb2.Package:
        p = self.packages.get((owner, name))
        if p is None:
            raise errors.NotFound(f"package {owner}/{name} does not exist")
        out = registry_pb2.Package()
        out.CopyFrom(p)
        files = sorted((f for k, f in self.files.items() if k[:2] == (owner, name)), key=lambda f: f.upload_time_ms)
        out.files.extend(files)
        out.versions.extend(sorted({v for (o, n, v) in self.releases if (o, n) == (owner, name)}))
        for f in out.files:
            f.package_public = p.public
        return out

    async def GetPackage(self, request, context):
        return self._package(request.owner, request.name)

    async def ListCollaborations(self, request, context):
        return registry_pb2.CollaborationsResponse()  # authorized users: tested end to end

    async def ListPackages(self, request, context):
        return registry_pb2.ListPackagesResponse(packages=[self._package(o, n) for (o, n) in sorted(self.packages) if o == request.owner])

    async def CreatePackage(self, request, context):
        if not request.name or "/" in request.name or len(request.name) > 100:
            raise errors.Invalid(f"invalid package name {request.name!r}")
        if (request.owner, request.name) in self.packages:
            raise errors.Conflict(f"package {request.owner}/{request.name} already exists")
        self.packages[(request.owner, request.name)] = registry_pb2.Package(
            owner=request.owner, name=request.name, public=request.public, summary=request.summary,
            package_types=request.package_types, public_attrs_json=request.public_attrs_json, created_at_ms=_now(), modified_at_ms=_now(),
        )
        return self._package(request.owner, request.name)

    async def UpdatePackage(self, request, context):
        self._package(request.owner, request.name)
        self.packages[(request.owner, request.name)].public_attrs_json = request.public_attrs_json
        return self._package(request.owner, request.name)

    async def DeletePackage(self, request, context):
        self._package(request.owner, request.name)
        del self.packages[(request.owner, request.name)]
        gone = [k for k in self.files if k[:2] == (request.owner, request.name)]
        for k in gone:
            del self.files[k]
        for k in [k for k in self.releases if k[:2] == (request.owner, request.name)]:
            del self.releases[k]
        return registry_pb2.DeleteResponse(files_removed=len(gone))

    def _release(self, ref) -> registry_pb2.Release:
        r = self.releases.get((ref.owner, ref.package, ref.version))
        if r is None:
            raise errors.NotFound(f"release {ref.owner}/{ref.package}/{ref.version} does not exist")
        out = registry_pb2.Release()
        out.CopyFrom(r)
        out.files.extend(f for k, f in self.files.items() if k[:3] == (ref.owner, ref.package, ref.version))
        return out

    async def GetRelease(self, request, context):
        return self._release(request)

    async def CreateRelease(self, request, context):
        ref = request.ref
        self._package(ref.owner, ref.package)
        if len(ref.version) > 100:
            raise errors.Invalid("version too long")
        if (ref.owner, ref.package, ref.version) in self.releases:
            raise errors.Conflict("release exists")
        self.releases[(ref.owner, ref.package, ref.version)] = registry_pb2.Release(
            owner=ref.owner, package=ref.package, version=ref.version, attrs_json=request.attrs_json, created_at_ms=_now())
        return self._release(ref)

    async def UpdateRelease(self, request, context):
        self._release(request.ref)
        self.releases[(request.ref.owner, request.ref.package, request.ref.version)].attrs_json = request.attrs_json
        return self._release(request.ref)

    async def DeleteRelease(self, request, context):
        self._release(request)
        del self.releases[(request.owner, request.package, request.version)]
        gone = [k for k in self.files if k[:3] == (request.owner, request.package, request.version)]
        for k in gone:
            del self.files[k]
        return registry_pb2.DeleteResponse(files_removed=len(gone))

    def _file(self, ref) -> common_pb2.FileRecord:
        f = self.files.get((ref.owner, ref.package, ref.version, ref.basename))
        if f is None:
            raise errors.NotFound("no such file")
        out = common_pb2.FileRecord()
        out.CopyFrom(f)
        out.package_public = self.packages[(ref.owner, ref.package)].public
        return out

    async def GetFile(self, request, context):
        return self._file(request)

    async def DeleteFile(self, request, context):
        f = self._file(request)
        del self.files[(request.owner, request.package, request.version, request.basename)]
        return f

    async def StageUpload(self, request, context):
        ref = request.ref
        self._release(common_pb2.FileRef(owner=ref.owner, package=ref.package, version=ref.version))
        if ref.basename.startswith("/") or ".." in ref.basename.split("/"):
            raise errors.Invalid(f"invalid basename {ref.basename!r}")
        dist_id, key = uuid.uuid4().hex, f"uploads/{uuid.uuid4().hex}"
        self.staged[dist_id] = {"request": request, "key": key}
        self.keys[key] = dist_id
        return registry_pb2.StageUploadResponse(
            dist_id=dist_id, post_url=request.form_post_url,
            form_data=[registry_pb2.FormField(name="key", value=key), registry_pb2.FormField(name="success_action_status", value="201")],
        )

    async def GrantFormUpload(self, request, context):
        if request.key not in self.keys:
            raise errors.NotFound("no such upload")
        return registry_pb2.FormUploadGrant(blob_key=request.key, max_size=self.max_size)

    async def CommitUpload(self, request, context):
        st = self.staged.get(request.dist_id)
        if st is None:
            raise errors.NotFound("no such staged upload")
        try:
            data = await self.blobs.read_bytes(st["key"])
        except BlobNotFound:
            raise errors.Invalid("nothing was uploaded for this distribution") from None
        req = st["request"]
        sha = hashlib.sha256(data).hexdigest()
        if sha != req.sha256:
            raise errors.Invalid("sha256 checksum mismatch")
        await self.blobs.put_bytes(content_key(sha), data)
        await self.blobs.delete(st["key"])
        ref = req.ref
        rec = common_pb2.FileRecord(
            owner=ref.owner, package=ref.package, version=ref.version, basename=ref.basename, type=req.distribution_type or "file",
            labels=list(req.labels) or ["main"], size=len(data), sha256=sha, md5=hashlib.md5(data).hexdigest(),
            blob_key=content_key(sha), attrs_json=req.attrs_json, upload_time_ms=_now(), description=req.description,
        )
        self.files[(ref.owner, ref.package, ref.version, ref.basename)] = rec
        p = self.packages[(ref.owner, ref.package)]
        if rec.type not in p.package_types:
            p.package_types.append(rec.type)
        return self._file(ref)

    async def EnsureRelease(self, request, context):
        r = request
        self.ensure_calls.append((r.name, r.checked_package, r.lookup_only))
        key = normalize_project(r.name)
        found = next((n for (o, n) in sorted(self.packages) if o == r.owner and normalize_project(n) == key), "")
        checked = r.checked_package or r.name
        out = registry_pb2.EnsureReleaseResponse(package=found, checked=found == checked)
        if r.lookup_only or (found and found != checked):
            return out
        if not found:
            await self.CreatePackage(registry_pb2.CreatePackageRequest(
                owner=r.owner, name=checked, public=r.public, summary=r.summary, package_types=r.package_types), context)
            out.package, out.checked, out.package_created = checked, True, True
        if (r.owner, checked, r.version) not in self.releases:
            await self.CreateRelease(registry_pb2.CreateReleaseRequest(
                ref=registry_pb2.ReleaseRef(owner=r.owner, package=checked, version=r.version), attrs_json=r.release_attrs_json), context)
            out.release_created = True
        if r.basename and (r.owner, checked, r.version, r.basename) in self.files:
            out.file.CopyFrom(self._file(common_pb2.FileRef(owner=r.owner, package=checked, version=r.version, basename=r.basename)))
        return out

    async def OpenDownload(self, request, context):
        ref, access = request.ref, request.access
        key = (ref.owner, ref.package, ref.version, ref.basename)
        f = self.files.get(key)
        pkg = self.packages.get(key[:2])
        readable = pkg is not None and (pkg.public or access.everything or pkg.name.lower() in access.packages)
        if (f is None or not readable or (request.label and request.label not in f.labels)
                or (request.type and f.type != request.type)):
            raise errors.NotFound("File not found")  # one answer, as the real registry's
        if request.count and f.sha256 not in request.cached_sha256:
            f.download_count += 1
        return registry_pb2.Download(file=self._file(ref))


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}
