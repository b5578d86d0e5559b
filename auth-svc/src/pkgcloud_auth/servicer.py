"""pkgcloud.v1.AuthService over gRPC: translate and delegate to AuthCore.

Domain errors propagate; servicekit's server interceptor turns them into status codes.
"""

from __future__ import annotations

from pkgcloud_protos.v1 import auth_pb2, auth_pb2_grpc
from pkgcloud_servicekit import audit

from . import converters
from .core import AuthCore


class AuthServiceServicer(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, core: AuthCore):
        self.core = core

    async def CreateUser(self, request, context):
        user = await self.core.create_user(request.login, request.email, request.password, request.name)
        return converters.user_to_pb(user)

    async def GetUser(self, request, context):
        return converters.user_to_pb(await self.core.get_user(request.login))

    async def CheckPassword(self, request, context):
        user = await self.core.check_password(request.login, request.password, request.remote_addr)
        return converters.user_to_pb(user)

    async def CreateToken(self, request, context):
        token, record = await self.core.create_token(
            request.login, request.name, list(request.scopes), request.max_age_s,
            request.hostname, request.remote_addr,
        )
        return auth_pb2.CreateTokenResponse(token=token, info=converters.token_to_pb(record))

    async def ResolveToken(self, request, context):
        return converters.principal_to_pb(await self.core.resolve_token(request.token))

    async def ListTokens(self, request, context):
        records = await self.core.list_tokens(request.login)
        return auth_pb2.ListTokensResponse(tokens=[converters.token_to_pb(t) for t in records])

    async def RevokeToken(self, request, context):
        which = request.WhichOneof("selector")
        value = getattr(request, which) if which else ""
        revoked = await self.core.revoke_token(request.login, **({which: value} if which else {}))
        return auth_pb2.RevokeTokenResponse(revoked=revoked)

    async def ListScopes(self, request, context):
        return auth_pb2.ListScopesResponse(
            scopes=[auth_pb2.Scope(name=n, description=d) for n, d in self.core.list_scopes()]
        )

    async def ChangePassword(self, request, context):
        user = await self.core.change_password(request.login, request.old_password, request.new_password, request.remote_addr)
        return converters.user_to_pb(user)

    async def CreateOrganization(self, request, context):
        org = await self.core.create_org(request.login, request.creator, request.name, request.description, request.email)
        return converters.user_to_pb(org)

    async def ListOrganizations(self, request, context):
        orgs = await self.core.list_orgs(request.login)
        return auth_pb2.ListOrganizationsResponse(orgs=[converters.user_to_pb(o) for o in orgs])

    async def ListGroups(self, request, context):
        groups = await self.core.list_groups(request.org, request.member)
        return auth_pb2.ListGroupsResponse(groups=[converters.group_to_pb(g) for g in groups])

    async def GetGroup(self, request, context):
        return converters.group_to_pb(await self.core.get_group(request.org, request.name))

    async def PutGroup(self, request, context):
        group = await self.core.put_group(request.ref.org, request.ref.name, converters.permission_from_pb(request.permission))
        return converters.group_to_pb(group)

    async def AddGroupMember(self, request, context):
        return converters.group_to_pb(await self.core.set_member(request.ref.org, request.ref.name, request.login, True))

    async def RemoveGroupMember(self, request, context):
        return converters.group_to_pb(await self.core.set_member(request.ref.org, request.ref.name, request.login, False))

    async def AddGroupPackage(self, request, context):
        return converters.group_to_pb(await self.core.set_package(request.ref.org, request.ref.name, request.package, True))

    async def RemoveGroupPackage(self, request, context):
        return converters.group_to_pb(await self.core.set_package(request.ref.org, request.ref.name, request.package, False))

    async def GetPermission(self, request, context):
        permission = await self.core.permission(request.login, request.owner, request.package)
        return auth_pb2.GetPermissionResponse(permission=converters.permission_to_pb(permission))

    async def ListAudit(self, request, context):
        return audit.list_response(await self.core.list_audit(audit.query_from_pb(request)))
