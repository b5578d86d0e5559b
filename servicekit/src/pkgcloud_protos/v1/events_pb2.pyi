from pkgcloud_protos.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Event(_message.Message):
    __slots__ = ("id", "type", "owner", "occurred_at_ms", "request_id", "file_committed", "file_removed", "file_labels_changed", "package_privacy_changed", "package_removed", "token_revoked", "membership_changed", "file_yank_changed")
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_COMMITTED_FIELD_NUMBER: _ClassVar[int]
    FILE_REMOVED_FIELD_NUMBER: _ClassVar[int]
    FILE_LABELS_CHANGED_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_PRIVACY_CHANGED_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_REMOVED_FIELD_NUMBER: _ClassVar[int]
    TOKEN_REVOKED_FIELD_NUMBER: _ClassVar[int]
    MEMBERSHIP_CHANGED_FIELD_NUMBER: _ClassVar[int]
    FILE_YANK_CHANGED_FIELD_NUMBER: _ClassVar[int]
    id: str
    type: str
    owner: str
    occurred_at_ms: int
    request_id: str
    file_committed: FileCommitted
    file_removed: FileRemoved
    file_labels_changed: FileLabelsChanged
    package_privacy_changed: PackagePrivacyChanged
    package_removed: PackageRemoved
    token_revoked: TokenRevoked
    membership_changed: MembershipChanged
    file_yank_changed: FileYankChanged
    def __init__(self, id: _Optional[str] = ..., type: _Optional[str] = ..., owner: _Optional[str] = ..., occurred_at_ms: _Optional[int] = ..., request_id: _Optional[str] = ..., file_committed: _Optional[_Union[FileCommitted, _Mapping]] = ..., file_removed: _Optional[_Union[FileRemoved, _Mapping]] = ..., file_labels_changed: _Optional[_Union[FileLabelsChanged, _Mapping]] = ..., package_privacy_changed: _Optional[_Union[PackagePrivacyChanged, _Mapping]] = ..., package_removed: _Optional[_Union[PackageRemoved, _Mapping]] = ..., token_revoked: _Optional[_Union[TokenRevoked, _Mapping]] = ..., membership_changed: _Optional[_Union[MembershipChanged, _Mapping]] = ..., file_yank_changed: _Optional[_Union[FileYankChanged, _Mapping]] = ...) -> None: ...

class FileCommitted(_message.Message):
    __slots__ = ("file", "replaced")
    FILE_FIELD_NUMBER: _ClassVar[int]
    REPLACED_FIELD_NUMBER: _ClassVar[int]
    file: _common_pb2.FileRecord
    replaced: bool
    def __init__(self, file: _Optional[_Union[_common_pb2.FileRecord, _Mapping]] = ..., replaced: _Optional[bool] = ...) -> None: ...

class FileRemoved(_message.Message):
    __slots__ = ("file",)
    FILE_FIELD_NUMBER: _ClassVar[int]
    file: _common_pb2.FileRecord
    def __init__(self, file: _Optional[_Union[_common_pb2.FileRecord, _Mapping]] = ...) -> None: ...

class FileLabelsChanged(_message.Message):
    __slots__ = ("file", "previous_labels")
    FILE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_LABELS_FIELD_NUMBER: _ClassVar[int]
    file: _common_pb2.FileRecord
    previous_labels: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, file: _Optional[_Union[_common_pb2.FileRecord, _Mapping]] = ..., previous_labels: _Optional[_Iterable[str]] = ...) -> None: ...

class PackagePrivacyChanged(_message.Message):
    __slots__ = ("package", "public", "files")
    PACKAGE_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    package: str
    public: bool
    files: _containers.RepeatedCompositeFieldContainer[_common_pb2.FileRecord]
    def __init__(self, package: _Optional[str] = ..., public: _Optional[bool] = ..., files: _Optional[_Iterable[_Union[_common_pb2.FileRecord, _Mapping]]] = ...) -> None: ...

class PackageRemoved(_message.Message):
    __slots__ = ("package", "files")
    PACKAGE_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    package: str
    files: _containers.RepeatedCompositeFieldContainer[_common_pb2.FileRecord]
    def __init__(self, package: _Optional[str] = ..., files: _Optional[_Iterable[_Union[_common_pb2.FileRecord, _Mapping]]] = ...) -> None: ...

class TokenRevoked(_message.Message):
    __slots__ = ("token_sha256", "login")
    TOKEN_SHA256_FIELD_NUMBER: _ClassVar[int]
    LOGIN_FIELD_NUMBER: _ClassVar[int]
    token_sha256: str
    login: str
    def __init__(self, token_sha256: _Optional[str] = ..., login: _Optional[str] = ...) -> None: ...

class MembershipChanged(_message.Message):
    __slots__ = ("org", "login")
    ORG_FIELD_NUMBER: _ClassVar[int]
    LOGIN_FIELD_NUMBER: _ClassVar[int]
    org: str
    login: str
    def __init__(self, org: _Optional[str] = ..., login: _Optional[str] = ...) -> None: ...

class FileYankChanged(_message.Message):
    __slots__ = ("file",)
    FILE_FIELD_NUMBER: _ClassVar[int]
    file: _common_pb2.FileRecord
    def __init__(self, file: _Optional[_Union[_common_pb2.FileRecord, _Mapping]] = ...) -> None: ...
