from pkgcloud_protos.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Permission(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PERMISSION_NONE: _ClassVar[Permission]
    PERMISSION_READ: _ClassVar[Permission]
    PERMISSION_WRITE: _ClassVar[Permission]
    PERMISSION_ADMIN: _ClassVar[Permission]
PERMISSION_NONE: Permission
PERMISSION_READ: Permission
PERMISSION_WRITE: Permission
PERMISSION_ADMIN: Permission

class User(_message.Message):
    __slots__ = ("login", "email", "name", "user_type", "created_at_ms", "disabled", "description")
    LOGIN_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    USER_TYPE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    DISABLED_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    login: str
    email: str
    name: str
    user_type: str
    created_at_ms: int
    disabled: bool
    description: str
    def __init__(self, login: _Optional[str] = ..., email: _Optional[str] = ..., name: _Optional[str] = ..., user_type: _Optional[str] = ..., created_at_ms: _Optional[int] = ..., disabled: _Optional[bool] = ..., description: _Optional[str] = ...) -> None: ...

class CreateUserRequest(_message.Message):
    __slots__ = ("login", "email", "password", "name")
    LOGIN_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    login: str
    email: str
    password: str
    name: str
    def __init__(self, login: _Optional[str] = ..., email: _Optional[str] = ..., password: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class GetUserRequest(_message.Message):
    __slots__ = ("login",)
    LOGIN_FIELD_NUMBER: _ClassVar[int]
    login: str
    def __init__(self, login: _Optional[str] = ...) -> None: ...

class CheckPasswordRequest(_message.Message):
    __slots__ = ("login", "password", "remote_addr")
    LOGIN_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    REMOTE_ADDR_FIELD_NUMBER: _ClassVar[int]
    login: str
    password: str
    remote_addr: str
    def __init__(self, login: _Optional[str] = ..., password: _Optional[str] = ..., remote_addr: _Optional[str] = ...) -> None: ...

class TokenInfo(_message.Message):
    __slots__ = ("id", "login", "name", "scopes", "created_at_ms", "expires_at_ms", "hostname", "remote_addr", "last_used_ms")
    ID_FIELD_NUMBER: _ClassVar[int]
    LOGIN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MS_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    REMOTE_ADDR_FIELD_NUMBER: _ClassVar[int]
    LAST_USED_MS_FIELD_NUMBER: _ClassVar[int]
    id: str
    login: str
    name: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    created_at_ms: int
    expires_at_ms: int
    hostname: str
    remote_addr: str
    last_used_ms: int
    def __init__(self, id: _Optional[str] = ..., login: _Optional[str] = ..., name: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., created_at_ms: _Optional[int] = ..., expires_at_ms: _Optional[int] = ..., hostname: _Optional[str] = ..., remote_addr: _Optional[str] = ..., last_used_ms: _Optional[int] = ...) -> None: ...

class CreateTokenRequest(_message.Message):
    __slots__ = ("login", "name", "scopes", "max_age_s", "hostname", "remote_addr")
    LOGIN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    MAX_AGE_S_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    REMOTE_ADDR_FIELD_NUMBER: _ClassVar[int]
    login: str
    name: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    max_age_s: int
    hostname: str
    remote_addr: str
    def __init__(self, login: _Optional[str] = ..., name: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., max_age_s: _Optional[int] = ..., hostname: _Optional[str] = ..., remote_addr: _Optional[str] = ...) -> None: ...

class CreateTokenResponse(_message.Message):
    __slots__ = ("token", "info")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    token: str
    info: TokenInfo
    def __init__(self, token: _Optional[str] = ..., info: _Optional[_Union[TokenInfo, _Mapping]] = ...) -> None: ...

class ResolveTokenRequest(_message.Message):
    __slots__ = ("token",)
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    token: str
    def __init__(self, token: _Optional[str] = ...) -> None: ...

class Principal(_message.Message):
    __slots__ = ("login", "user_type", "token_id", "scopes", "expires_at_ms", "token_name")
    LOGIN_FIELD_NUMBER: _ClassVar[int]
    USER_TYPE_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_NAME_FIELD_NUMBER: _ClassVar[int]
    login: str
    user_type: str
    token_id: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    expires_at_ms: int
    token_name: str
    def __init__(self, login: _Optional[str] = ..., user_type: _Optional[str] = ..., token_id: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., expires_at_ms: _Optional[int] = ..., token_name: _Optional[str] = ...) -> None: ...

class ListTokensRequest(_message.Message):
    __slots__ = ("login",)
    LOGIN_FIELD_NUMBER: _ClassVar[int]
    login: str
    def __init__(self, login: _Optional[str] = ...) -> None: ...

class ListTokensResponse(_message.Message):
    __slots__ = ("tokens",)
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedCompositeFieldContainer[TokenInfo]
    def __init__(self, tokens: _Optional[_Iterable[_Union[TokenInfo, _Mapping]]] = ...) -> None: ...

class RevokeTokenRequest(_message.Message):
    __slots__ = ("login", "token", "token_id", "name")
    LOGIN_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    login: str
    token: str
    token_id: str
    name: str
    def __init__(self, login: _Optional[str] = ..., token: _Optional[str] = ..., token_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class RevokeTokenResponse(_message.Message):
    __slots__ = ("revoked",)
    REVOKED_FIELD_NUMBER: _ClassVar[int]
    revoked: int
    def __init__(self, revoked: _Optional[int] = ...) -> None: ...

class ListScopesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Scope(_message.Message):
    __slots__ = ("name", "description")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class ListScopesResponse(_message.Message):
    __slots__ = ("scopes",)
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    scopes: _containers.RepeatedCompositeFieldContainer[Scope]
    def __init__(self, scopes: _Optional[_Iterable[_Union[Scope, _Mapping]]] = ...) -> None: ...

class ChangePasswordRequest(_message.Message):
    __slots__ = ("login", "old_password", "new_password", "remote_addr")
    LOGIN_FIELD_NUMBER: _ClassVar[int]
    OLD_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    NEW_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    REMOTE_ADDR_FIELD_NUMBER: _ClassVar[int]
    login: str
    old_password: str
    new_password: str
    remote_addr: str
    def __init__(self, login: _Optional[str] = ..., old_password: _Optional[str] = ..., new_password: _Optional[str] = ..., remote_addr: _Optional[str] = ...) -> None: ...

class CreateOrganizationRequest(_message.Message):
    __slots__ = ("login", "creator", "name", "description", "email")
    LOGIN_FIELD_NUMBER: _ClassVar[int]
    CREATOR_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    login: str
    creator: str
    name: str
    description: str
    email: str
    def __init__(self, login: _Optional[str] = ..., creator: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., email: _Optional[str] = ...) -> None: ...

class ListOrganizationsRequest(_message.Message):
    __slots__ = ("login",)
    LOGIN_FIELD_NUMBER: _ClassVar[int]
    login: str
    def __init__(self, login: _Optional[str] = ...) -> None: ...

class ListOrganizationsResponse(_message.Message):
    __slots__ = ("orgs",)
    ORGS_FIELD_NUMBER: _ClassVar[int]
    orgs: _containers.RepeatedCompositeFieldContainer[User]
    def __init__(self, orgs: _Optional[_Iterable[_Union[User, _Mapping]]] = ...) -> None: ...

class Group(_message.Message):
    __slots__ = ("org", "name", "permission", "members", "packages", "created_at_ms")
    ORG_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PERMISSION_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    PACKAGES_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    org: str
    name: str
    permission: Permission
    members: _containers.RepeatedScalarFieldContainer[str]
    packages: _containers.RepeatedScalarFieldContainer[str]
    created_at_ms: int
    def __init__(self, org: _Optional[str] = ..., name: _Optional[str] = ..., permission: _Optional[_Union[Permission, str]] = ..., members: _Optional[_Iterable[str]] = ..., packages: _Optional[_Iterable[str]] = ..., created_at_ms: _Optional[int] = ...) -> None: ...

class GroupRef(_message.Message):
    __slots__ = ("org", "name")
    ORG_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    org: str
    name: str
    def __init__(self, org: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ListGroupsRequest(_message.Message):
    __slots__ = ("org", "member")
    ORG_FIELD_NUMBER: _ClassVar[int]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    org: str
    member: str
    def __init__(self, org: _Optional[str] = ..., member: _Optional[str] = ...) -> None: ...

class ListGroupsResponse(_message.Message):
    __slots__ = ("groups",)
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedCompositeFieldContainer[Group]
    def __init__(self, groups: _Optional[_Iterable[_Union[Group, _Mapping]]] = ...) -> None: ...

class PutGroupRequest(_message.Message):
    __slots__ = ("ref", "permission")
    REF_FIELD_NUMBER: _ClassVar[int]
    PERMISSION_FIELD_NUMBER: _ClassVar[int]
    ref: GroupRef
    permission: Permission
    def __init__(self, ref: _Optional[_Union[GroupRef, _Mapping]] = ..., permission: _Optional[_Union[Permission, str]] = ...) -> None: ...

class GroupMemberRequest(_message.Message):
    __slots__ = ("ref", "login")
    REF_FIELD_NUMBER: _ClassVar[int]
    LOGIN_FIELD_NUMBER: _ClassVar[int]
    ref: GroupRef
    login: str
    def __init__(self, ref: _Optional[_Union[GroupRef, _Mapping]] = ..., login: _Optional[str] = ...) -> None: ...

class GroupPackageRequest(_message.Message):
    __slots__ = ("ref", "package")
    REF_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_FIELD_NUMBER: _ClassVar[int]
    ref: GroupRef
    package: str
    def __init__(self, ref: _Optional[_Union[GroupRef, _Mapping]] = ..., package: _Optional[str] = ...) -> None: ...

class GetPermissionRequest(_message.Message):
    __slots__ = ("login", "owner", "package")
    LOGIN_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_FIELD_NUMBER: _ClassVar[int]
    login: str
    owner: str
    package: str
    def __init__(self, login: _Optional[str] = ..., owner: _Optional[str] = ..., package: _Optional[str] = ...) -> None: ...

class GetPermissionResponse(_message.Message):
    __slots__ = ("permission",)
    PERMISSION_FIELD_NUMBER: _ClassVar[int]
    permission: Permission
    def __init__(self, permission: _Optional[_Union[Permission, str]] = ...) -> None: ...
