from pkgcloud_protos.v1 import common_pb2 as _common_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class RenderStatusRequest(_message.Message):
    __slots__ = ("owner",)
    OWNER_FIELD_NUMBER: _ClassVar[int]
    owner: str
    def __init__(self, owner: _Optional[str] = ...) -> None: ...

class RenderNotebookRequest(_message.Message):
    __slots__ = ("sha256", "blob_key")
    SHA256_FIELD_NUMBER: _ClassVar[int]
    BLOB_KEY_FIELD_NUMBER: _ClassVar[int]
    sha256: str
    blob_key: str
    def __init__(self, sha256: _Optional[str] = ..., blob_key: _Optional[str] = ...) -> None: ...

class RenderedNotebook(_message.Message):
    __slots__ = ("status", "html_key", "error", "limit", "render_ms")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    HTML_KEY_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    RENDER_MS_FIELD_NUMBER: _ClassVar[int]
    status: str
    html_key: str
    error: str
    limit: str
    render_ms: int
    def __init__(self, status: _Optional[str] = ..., html_key: _Optional[str] = ..., error: _Optional[str] = ..., limit: _Optional[str] = ..., render_ms: _Optional[int] = ...) -> None: ...
