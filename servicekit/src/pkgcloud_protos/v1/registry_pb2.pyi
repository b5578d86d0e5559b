from pkgcloud_protos.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PackageRef(_message.Message):
    __slots__ = ("owner", "name")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    owner: str
    name: str
    def __init__(self, owner: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ReleaseRef(_message.Message):
    __slots__ = ("owner", "package", "version")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    owner: str
    package: str
    version: str
    def __init__(self, owner: _Optional[str] = ..., package: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class Package(_message.Message):
    __slots__ = ("owner", "name", "summary", "public", "package_types", "created_at_ms", "modified_at_ms", "public_attrs_json", "versions", "files", "license")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_TYPES_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    MODIFIED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_ATTRS_JSON_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    LICENSE_FIELD_NUMBER: _ClassVar[int]
    owner: str
    name: str
    summary: str
    public: bool
    package_types: _containers.RepeatedScalarFieldContainer[str]
    created_at_ms: int
    modified_at_ms: int
    public_attrs_json: str
    versions: _containers.RepeatedScalarFieldContainer[str]
    files: _containers.RepeatedCompositeFieldContainer[_common_pb2.FileRecord]
    license: str
    def __init__(self, owner: _Optional[str] = ..., name: _Optional[str] = ..., summary: _Optional[str] = ..., public: _Optional[bool] = ..., package_types: _Optional[_Iterable[str]] = ..., created_at_ms: _Optional[int] = ..., modified_at_ms: _Optional[int] = ..., public_attrs_json: _Optional[str] = ..., versions: _Optional[_Iterable[str]] = ..., files: _Optional[_Iterable[_Union[_common_pb2.FileRecord, _Mapping]]] = ..., license: _Optional[str] = ...) -> None: ...

class ListPackagesRequest(_message.Message):
    __slots__ = ("owner",)
    OWNER_FIELD_NUMBER: _ClassVar[int]
    owner: str
    def __init__(self, owner: _Optional[str] = ...) -> None: ...

class ListPackagesResponse(_message.Message):
    __slots__ = ("packages",)
    PACKAGES_FIELD_NUMBER: _ClassVar[int]
    packages: _containers.RepeatedCompositeFieldContainer[Package]
    def __init__(self, packages: _Optional[_Iterable[_Union[Package, _Mapping]]] = ...) -> None: ...

class CreatePackageRequest(_message.Message):
    __slots__ = ("owner", "name", "public", "summary", "package_types", "public_attrs_json")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_TYPES_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_ATTRS_JSON_FIELD_NUMBER: _ClassVar[int]
    owner: str
    name: str
    public: bool
    summary: str
    package_types: _containers.RepeatedScalarFieldContainer[str]
    public_attrs_json: str
    def __init__(self, owner: _Optional[str] = ..., name: _Optional[str] = ..., public: _Optional[bool] = ..., summary: _Optional[str] = ..., package_types: _Optional[_Iterable[str]] = ..., public_attrs_json: _Optional[str] = ...) -> None: ...

class UpdatePackageRequest(_message.Message):
    __slots__ = ("owner", "name", "public_attrs_json")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_ATTRS_JSON_FIELD_NUMBER: _ClassVar[int]
    owner: str
    name: str
    public_attrs_json: str
    def __init__(self, owner: _Optional[str] = ..., name: _Optional[str] = ..., public_attrs_json: _Optional[str] = ...) -> None: ...

class Release(_message.Message):
    __slots__ = ("owner", "package", "version", "attrs_json", "created_at_ms", "files")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ATTRS_JSON_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    owner: str
    package: str
    version: str
    attrs_json: str
    created_at_ms: int
    files: _containers.RepeatedCompositeFieldContainer[_common_pb2.FileRecord]
    def __init__(self, owner: _Optional[str] = ..., package: _Optional[str] = ..., version: _Optional[str] = ..., attrs_json: _Optional[str] = ..., created_at_ms: _Optional[int] = ..., files: _Optional[_Iterable[_Union[_common_pb2.FileRecord, _Mapping]]] = ...) -> None: ...

class CreateReleaseRequest(_message.Message):
    __slots__ = ("ref", "attrs_json")
    REF_FIELD_NUMBER: _ClassVar[int]
    ATTRS_JSON_FIELD_NUMBER: _ClassVar[int]
    ref: ReleaseRef
    attrs_json: str
    def __init__(self, ref: _Optional[_Union[ReleaseRef, _Mapping]] = ..., attrs_json: _Optional[str] = ...) -> None: ...

class UpdateReleaseRequest(_message.Message):
    __slots__ = ("ref", "attrs_json")
    REF_FIELD_NUMBER: _ClassVar[int]
    ATTRS_JSON_FIELD_NUMBER: _ClassVar[int]
    ref: ReleaseRef
    attrs_json: str
    def __init__(self, ref: _Optional[_Union[ReleaseRef, _Mapping]] = ..., attrs_json: _Optional[str] = ...) -> None: ...

class DeleteResponse(_message.Message):
    __slots__ = ("files_removed",)
    FILES_REMOVED_FIELD_NUMBER: _ClassVar[int]
    files_removed: int
    def __init__(self, files_removed: _Optional[int] = ...) -> None: ...

class StageUploadRequest(_message.Message):
    __slots__ = ("ref", "distribution_type", "description", "attrs_json", "dependencies_json", "labels", "sha256", "form_post_url")
    REF_FIELD_NUMBER: _ClassVar[int]
    DISTRIBUTION_TYPE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ATTRS_JSON_FIELD_NUMBER: _ClassVar[int]
    DEPENDENCIES_JSON_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    FORM_POST_URL_FIELD_NUMBER: _ClassVar[int]
    ref: _common_pb2.FileRef
    distribution_type: str
    description: str
    attrs_json: str
    dependencies_json: str
    labels: _containers.RepeatedScalarFieldContainer[str]
    sha256: str
    form_post_url: str
    def __init__(self, ref: _Optional[_Union[_common_pb2.FileRef, _Mapping]] = ..., distribution_type: _Optional[str] = ..., description: _Optional[str] = ..., attrs_json: _Optional[str] = ..., dependencies_json: _Optional[str] = ..., labels: _Optional[_Iterable[str]] = ..., sha256: _Optional[str] = ..., form_post_url: _Optional[str] = ...) -> None: ...

class FormField(_message.Message):
    __slots__ = ("name", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: str
    def __init__(self, name: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class StageUploadResponse(_message.Message):
    __slots__ = ("dist_id", "post_url", "form_data")
    DIST_ID_FIELD_NUMBER: _ClassVar[int]
    POST_URL_FIELD_NUMBER: _ClassVar[int]
    FORM_DATA_FIELD_NUMBER: _ClassVar[int]
    dist_id: str
    post_url: str
    form_data: _containers.RepeatedCompositeFieldContainer[FormField]
    def __init__(self, dist_id: _Optional[str] = ..., post_url: _Optional[str] = ..., form_data: _Optional[_Iterable[_Union[FormField, _Mapping]]] = ...) -> None: ...

class GrantFormUploadRequest(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: str
    def __init__(self, key: _Optional[str] = ...) -> None: ...

class FormUploadGrant(_message.Message):
    __slots__ = ("blob_key", "max_size")
    BLOB_KEY_FIELD_NUMBER: _ClassVar[int]
    MAX_SIZE_FIELD_NUMBER: _ClassVar[int]
    blob_key: str
    max_size: int
    def __init__(self, blob_key: _Optional[str] = ..., max_size: _Optional[int] = ...) -> None: ...

class CommitUploadRequest(_message.Message):
    __slots__ = ("ref", "dist_id")
    REF_FIELD_NUMBER: _ClassVar[int]
    DIST_ID_FIELD_NUMBER: _ClassVar[int]
    ref: _common_pb2.FileRef
    dist_id: str
    def __init__(self, ref: _Optional[_Union[_common_pb2.FileRef, _Mapping]] = ..., dist_id: _Optional[str] = ...) -> None: ...

class Download(_message.Message):
    __slots__ = ("file",)
    FILE_FIELD_NUMBER: _ClassVar[int]
    file: _common_pb2.FileRecord
    def __init__(self, file: _Optional[_Union[_common_pb2.FileRecord, _Mapping]] = ...) -> None: ...

class ReadAccess(_message.Message):
    __slots__ = ("everything", "packages")
    EVERYTHING_FIELD_NUMBER: _ClassVar[int]
    PACKAGES_FIELD_NUMBER: _ClassVar[int]
    everything: bool
    packages: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, everything: _Optional[bool] = ..., packages: _Optional[_Iterable[str]] = ...) -> None: ...

class DownloadRequest(_message.Message):
    __slots__ = ("ref", "access", "label", "type", "count", "cached_sha256")
    REF_FIELD_NUMBER: _ClassVar[int]
    ACCESS_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    CACHED_SHA256_FIELD_NUMBER: _ClassVar[int]
    ref: _common_pb2.FileRef
    access: ReadAccess
    label: str
    type: str
    count: bool
    cached_sha256: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ref: _Optional[_Union[_common_pb2.FileRef, _Mapping]] = ..., access: _Optional[_Union[ReadAccess, _Mapping]] = ..., label: _Optional[str] = ..., type: _Optional[str] = ..., count: _Optional[bool] = ..., cached_sha256: _Optional[_Iterable[str]] = ...) -> None: ...

class LabelOwnerRef(_message.Message):
    __slots__ = ("owner", "type")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    owner: str
    type: str
    def __init__(self, owner: _Optional[str] = ..., type: _Optional[str] = ...) -> None: ...

class LabelRef(_message.Message):
    __slots__ = ("owner", "label")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    owner: str
    label: str
    def __init__(self, owner: _Optional[str] = ..., label: _Optional[str] = ...) -> None: ...

class LabelInfo(_message.Message):
    __slots__ = ("name", "is_locked", "file_count")
    NAME_FIELD_NUMBER: _ClassVar[int]
    IS_LOCKED_FIELD_NUMBER: _ClassVar[int]
    FILE_COUNT_FIELD_NUMBER: _ClassVar[int]
    name: str
    is_locked: bool
    file_count: int
    def __init__(self, name: _Optional[str] = ..., is_locked: _Optional[bool] = ..., file_count: _Optional[int] = ...) -> None: ...

class LabelList(_message.Message):
    __slots__ = ("labels",)
    LABELS_FIELD_NUMBER: _ClassVar[int]
    labels: _containers.RepeatedCompositeFieldContainer[LabelInfo]
    def __init__(self, labels: _Optional[_Iterable[_Union[LabelInfo, _Mapping]]] = ...) -> None: ...

class LabelFiles(_message.Message):
    __slots__ = ("label", "files")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    label: LabelInfo
    files: _containers.RepeatedCompositeFieldContainer[_common_pb2.FileRecord]
    def __init__(self, label: _Optional[_Union[LabelInfo, _Mapping]] = ..., files: _Optional[_Iterable[_Union[_common_pb2.FileRecord, _Mapping]]] = ...) -> None: ...

class CopyLabelRequest(_message.Message):
    __slots__ = ("owner", "from_label", "to_label")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    FROM_LABEL_FIELD_NUMBER: _ClassVar[int]
    TO_LABEL_FIELD_NUMBER: _ClassVar[int]
    owner: str
    from_label: str
    to_label: str
    def __init__(self, owner: _Optional[str] = ..., from_label: _Optional[str] = ..., to_label: _Optional[str] = ...) -> None: ...

class SetLabelLockRequest(_message.Message):
    __slots__ = ("owner", "label", "locked")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    LOCKED_FIELD_NUMBER: _ClassVar[int]
    owner: str
    label: str
    locked: bool
    def __init__(self, owner: _Optional[str] = ..., label: _Optional[str] = ..., locked: _Optional[bool] = ...) -> None: ...

class LabelSpec(_message.Message):
    __slots__ = ("owner", "label", "package", "version", "basename")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    BASENAME_FIELD_NUMBER: _ClassVar[int]
    owner: str
    label: str
    package: str
    version: str
    basename: str
    def __init__(self, owner: _Optional[str] = ..., label: _Optional[str] = ..., package: _Optional[str] = ..., version: _Optional[str] = ..., basename: _Optional[str] = ...) -> None: ...

class CopyFilesRequest(_message.Message):
    __slots__ = ("owner", "package", "version", "basename", "from_label", "to_label", "to_owner", "mode")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    BASENAME_FIELD_NUMBER: _ClassVar[int]
    FROM_LABEL_FIELD_NUMBER: _ClassVar[int]
    TO_LABEL_FIELD_NUMBER: _ClassVar[int]
    TO_OWNER_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    owner: str
    package: str
    version: str
    basename: str
    from_label: str
    to_label: str
    to_owner: str
    mode: str
    def __init__(self, owner: _Optional[str] = ..., package: _Optional[str] = ..., version: _Optional[str] = ..., basename: _Optional[str] = ..., from_label: _Optional[str] = ..., to_label: _Optional[str] = ..., to_owner: _Optional[str] = ..., mode: _Optional[str] = ...) -> None: ...

class LabelChange(_message.Message):
    __slots__ = ("files",)
    FILES_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedCompositeFieldContainer[_common_pb2.FileRecord]
    def __init__(self, files: _Optional[_Iterable[_Union[_common_pb2.FileRecord, _Mapping]]] = ...) -> None: ...

class BulkImportRequest(_message.Message):
    __slots__ = ("files", "public")
    FILES_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedCompositeFieldContainer[_common_pb2.FileRecord]
    public: bool
    def __init__(self, files: _Optional[_Iterable[_Union[_common_pb2.FileRecord, _Mapping]]] = ..., public: _Optional[bool] = ...) -> None: ...

class BulkImportResponse(_message.Message):
    __slots__ = ("imported",)
    IMPORTED_FIELD_NUMBER: _ClassVar[int]
    imported: int
    def __init__(self, imported: _Optional[int] = ...) -> None: ...

class EnsureReleaseRequest(_message.Message):
    __slots__ = ("owner", "name", "version", "checked_package", "lookup_only", "public", "summary", "package_types", "release_attrs_json", "basename")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CHECKED_PACKAGE_FIELD_NUMBER: _ClassVar[int]
    LOOKUP_ONLY_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_TYPES_FIELD_NUMBER: _ClassVar[int]
    RELEASE_ATTRS_JSON_FIELD_NUMBER: _ClassVar[int]
    BASENAME_FIELD_NUMBER: _ClassVar[int]
    owner: str
    name: str
    version: str
    checked_package: str
    lookup_only: bool
    public: bool
    summary: str
    package_types: _containers.RepeatedScalarFieldContainer[str]
    release_attrs_json: str
    basename: str
    def __init__(self, owner: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[str] = ..., checked_package: _Optional[str] = ..., lookup_only: _Optional[bool] = ..., public: _Optional[bool] = ..., summary: _Optional[str] = ..., package_types: _Optional[_Iterable[str]] = ..., release_attrs_json: _Optional[str] = ..., basename: _Optional[str] = ...) -> None: ...

class EnsureReleaseResponse(_message.Message):
    __slots__ = ("package", "checked", "package_created", "release_created", "file")
    PACKAGE_FIELD_NUMBER: _ClassVar[int]
    CHECKED_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_CREATED_FIELD_NUMBER: _ClassVar[int]
    RELEASE_CREATED_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    package: str
    checked: bool
    package_created: bool
    release_created: bool
    file: _common_pb2.FileRecord
    def __init__(self, package: _Optional[str] = ..., checked: _Optional[bool] = ..., package_created: _Optional[bool] = ..., release_created: _Optional[bool] = ..., file: _Optional[_Union[_common_pb2.FileRecord, _Mapping]] = ...) -> None: ...

class SetReleaseYankedRequest(_message.Message):
    __slots__ = ("owner", "project", "version", "basenames", "yanked", "reason")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    BASENAMES_FIELD_NUMBER: _ClassVar[int]
    YANKED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    owner: str
    project: str
    version: str
    basenames: _containers.RepeatedScalarFieldContainer[str]
    yanked: bool
    reason: str
    def __init__(self, owner: _Optional[str] = ..., project: _Optional[str] = ..., version: _Optional[str] = ..., basenames: _Optional[_Iterable[str]] = ..., yanked: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class SetReleaseYankedResponse(_message.Message):
    __slots__ = ("package", "files")
    PACKAGE_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    package: str
    files: _containers.RepeatedCompositeFieldContainer[_common_pb2.FileRecord]
    def __init__(self, package: _Optional[str] = ..., files: _Optional[_Iterable[_Union[_common_pb2.FileRecord, _Mapping]]] = ...) -> None: ...

class SetPackagePublicRequest(_message.Message):
    __slots__ = ("owner", "name", "public")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_FIELD_NUMBER: _ClassVar[int]
    owner: str
    name: str
    public: bool
    def __init__(self, owner: _Optional[str] = ..., name: _Optional[str] = ..., public: _Optional[bool] = ...) -> None: ...

class CollaboratorRequest(_message.Message):
    __slots__ = ("package", "login")
    PACKAGE_FIELD_NUMBER: _ClassVar[int]
    LOGIN_FIELD_NUMBER: _ClassVar[int]
    package: PackageRef
    login: str
    def __init__(self, package: _Optional[_Union[PackageRef, _Mapping]] = ..., login: _Optional[str] = ...) -> None: ...

class CollaboratorList(_message.Message):
    __slots__ = ("logins",)
    LOGINS_FIELD_NUMBER: _ClassVar[int]
    logins: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, logins: _Optional[_Iterable[str]] = ...) -> None: ...

class CollaborationsRequest(_message.Message):
    __slots__ = ("login", "owner")
    LOGIN_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    login: str
    owner: str
    def __init__(self, login: _Optional[str] = ..., owner: _Optional[str] = ...) -> None: ...

class CollaborationsResponse(_message.Message):
    __slots__ = ("packages",)
    PACKAGES_FIELD_NUMBER: _ClassVar[int]
    packages: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, packages: _Optional[_Iterable[str]] = ...) -> None: ...

class SearchPackagesRequest(_message.Message):
    __slots__ = ("name", "package_type", "platform", "limit", "newest_first", "public_only")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_TYPE_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    NEWEST_FIRST_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_ONLY_FIELD_NUMBER: _ClassVar[int]
    name: str
    package_type: str
    platform: str
    limit: int
    newest_first: bool
    public_only: bool
    def __init__(self, name: _Optional[str] = ..., package_type: _Optional[str] = ..., platform: _Optional[str] = ..., limit: _Optional[int] = ..., newest_first: _Optional[bool] = ..., public_only: _Optional[bool] = ...) -> None: ...
