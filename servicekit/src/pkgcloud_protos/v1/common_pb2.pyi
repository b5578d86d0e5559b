from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ConsumerOwnerStatus(_message.Message):
    __slots__ = ("owner", "last_event_id", "last_event_type", "applied_at_ms", "events_applied")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    LAST_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    APPLIED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_APPLIED_FIELD_NUMBER: _ClassVar[int]
    owner: str
    last_event_id: str
    last_event_type: str
    applied_at_ms: int
    events_applied: int
    def __init__(self, owner: _Optional[str] = ..., last_event_id: _Optional[str] = ..., last_event_type: _Optional[str] = ..., applied_at_ms: _Optional[int] = ..., events_applied: _Optional[int] = ...) -> None: ...

class ConsumerStatus(_message.Message):
    __slots__ = ("owners", "total_applied")
    OWNERS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_APPLIED_FIELD_NUMBER: _ClassVar[int]
    owners: _containers.RepeatedCompositeFieldContainer[ConsumerOwnerStatus]
    total_applied: int
    def __init__(self, owners: _Optional[_Iterable[_Union[ConsumerOwnerStatus, _Mapping]]] = ..., total_applied: _Optional[int] = ...) -> None: ...

class FileRef(_message.Message):
    __slots__ = ("owner", "package", "version", "basename")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    BASENAME_FIELD_NUMBER: _ClassVar[int]
    owner: str
    package: str
    version: str
    basename: str
    def __init__(self, owner: _Optional[str] = ..., package: _Optional[str] = ..., version: _Optional[str] = ..., basename: _Optional[str] = ...) -> None: ...

class FileRecord(_message.Message):
    __slots__ = ("owner", "package", "version", "basename", "type", "subdir", "labels", "size", "sha256", "md5", "blob_key", "attrs_json", "upload_time_ms", "package_public", "description", "dependencies_json", "download_count", "blake2_256", "yanked", "yanked_reason")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    BASENAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SUBDIR_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    MD5_FIELD_NUMBER: _ClassVar[int]
    BLOB_KEY_FIELD_NUMBER: _ClassVar[int]
    ATTRS_JSON_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_PUBLIC_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    DEPENDENCIES_JSON_FIELD_NUMBER: _ClassVar[int]
    DOWNLOAD_COUNT_FIELD_NUMBER: _ClassVar[int]
    BLAKE2_256_FIELD_NUMBER: _ClassVar[int]
    YANKED_FIELD_NUMBER: _ClassVar[int]
    YANKED_REASON_FIELD_NUMBER: _ClassVar[int]
    owner: str
    package: str
    version: str
    basename: str
    type: str
    subdir: str
    labels: _containers.RepeatedScalarFieldContainer[str]
    size: int
    sha256: str
    md5: str
    blob_key: str
    attrs_json: str
    upload_time_ms: int
    package_public: bool
    description: str
    dependencies_json: str
    download_count: int
    blake2_256: str
    yanked: bool
    yanked_reason: str
    def __init__(self, owner: _Optional[str] = ..., package: _Optional[str] = ..., version: _Optional[str] = ..., basename: _Optional[str] = ..., type: _Optional[str] = ..., subdir: _Optional[str] = ..., labels: _Optional[_Iterable[str]] = ..., size: _Optional[int] = ..., sha256: _Optional[str] = ..., md5: _Optional[str] = ..., blob_key: _Optional[str] = ..., attrs_json: _Optional[str] = ..., upload_time_ms: _Optional[int] = ..., package_public: _Optional[bool] = ..., description: _Optional[str] = ..., dependencies_json: _Optional[str] = ..., download_count: _Optional[int] = ..., blake2_256: _Optional[str] = ..., yanked: _Optional[bool] = ..., yanked_reason: _Optional[str] = ...) -> None: ...

class AuditPosition(_message.Message):
    __slots__ = ("at_ms", "id")
    AT_MS_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    at_ms: int
    id: int
    def __init__(self, at_ms: _Optional[int] = ..., id: _Optional[int] = ...) -> None: ...

class AuditEntry(_message.Message):
    __slots__ = ("id", "owner", "at_ms", "actor", "token", "action", "target", "request_id", "client")
    ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    AT_MS_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    id: int
    owner: str
    at_ms: int
    actor: str
    token: str
    action: str
    target: str
    request_id: str
    client: str
    def __init__(self, id: _Optional[int] = ..., owner: _Optional[str] = ..., at_ms: _Optional[int] = ..., actor: _Optional[str] = ..., token: _Optional[str] = ..., action: _Optional[str] = ..., target: _Optional[str] = ..., request_id: _Optional[str] = ..., client: _Optional[str] = ...) -> None: ...

class ListAuditRequest(_message.Message):
    __slots__ = ("owner", "before", "limit", "action", "actor")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    owner: str
    before: AuditPosition
    limit: int
    action: str
    actor: str
    def __init__(self, owner: _Optional[str] = ..., before: _Optional[_Union[AuditPosition, _Mapping]] = ..., limit: _Optional[int] = ..., action: _Optional[str] = ..., actor: _Optional[str] = ...) -> None: ...

class ListAuditResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[AuditEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[AuditEntry, _Mapping]]] = ...) -> None: ...
