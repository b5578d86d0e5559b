"""DocumentCache: the gateway's one cache of published documents (conda index documents and
shards, PyPI simple pages, rendered notebooks) and of what it builds from them (partial
views, gzip forms, notebook pages).

A document is a body and its ETag. The publisher stored the ETag in front of the body
(servicekit.published), so a read costs no hashing; a conda document published before that
framing is hashed once here, as the gateway always did, with the same ETag. When a document's
blob is read again (blob_freshness, under the policy of its kind) and its ETag did not
change, the kept Document stays, with its Last-Modified and its derived forms.

Bounded by entries and by bytes (bodies and derived forms), least recently used out first.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field

from pkgcloud_servicekit.blobstore import BlobNotFound
from pkgcloud_servicekit.published import etag_of_digest, parse_stored_document

from .blob_freshness import Validity

ENTRIES = 4096
MAX_BYTES = 1024 * 1024 * 1024
#: bodies larger than this are hashed in a worker thread (hashlib releases the GIL): a big
#: repodata.json would otherwise hold the event loop for tens of milliseconds
_THREAD_HASH_BYTES = 1024 * 1024


@dataclass(frozen=True)
class CachePolicy:
    """How a kind of document is kept (blob_freshness.Validity)."""

    ttl_s: float  # with a store that has change tags
    untagged_ttl_s: float  # without
    remember_missing: bool = False  # keep "not there" too (a 404 storm stays cheap)
    immutable: bool = False  # content-addressed: never read again while kept
    hash_unframed: bool = True  # give an unframed blob the ETag of its sha256 (False: the route makes its own)


@dataclass
class Document:
    body: bytes
    etag: str
    #: when this process first read this version (what Last-Modified says, for routes that send it)
    last_modified: float = 0.0
    #: forms made from the body once per version (a gzip form, a notebook page per image base)
    forms: dict[Hashable, Document] = field(default_factory=dict)
    #: headers that belong to a form (a notebook page's Content-Security-Policy)
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.body) + sum(f.size for f in self.forms.values())


@dataclass
class _Entry:
    doc: Document | None  # None: the blob was missing
    valid: Validity


async def sha256_etag(body: bytes) -> str:
    """The ETag of an unframed document: what index-svc now stores in front of it."""
    if len(body) > _THREAD_HASH_BYTES:
        return etag_of_digest(await asyncio.to_thread(lambda: hashlib.sha256(body).hexdigest()))
    return etag_of_digest(hashlib.sha256(body).hexdigest())


class DocumentCache:
    def __init__(self, entries: int = ENTRIES, max_bytes: int = MAX_BYTES):
        self.entries = entries
        self.max_bytes = max_bytes
        self._kept: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._kept)

    def clear(self) -> None:
        self._kept.clear()
        self._bytes = 0

    async def get(self, blobs, key: str, policy: CachePolicy) -> Document | None:
        """The published document at `key` (None: there is none), read again from the blob
        store only when the policy says the kept one may be stale."""
        now = time.monotonic()
        entry = self._kept.get(key)
        tag = None
        if entry is not None:
            if policy.immutable and entry.doc is not None:
                self._kept.move_to_end(key)
                return entry.doc
            fresh, tag = entry.valid.fresh(blobs, key, now, ttl_s=policy.ttl_s, untagged_ttl_s=policy.untagged_ttl_s)
            if fresh:
                self._kept.move_to_end(key)
                return entry.doc
        elif not policy.immutable:
            tag = blobs.change_tag(key)  # before the read: a write in between means one more read
        try:
            blob = await blobs.read_bytes(key)
        except BlobNotFound:
            self._drop(key)
            if policy.remember_missing:
                self._keep(key, _Entry(None, Validity.read(tag, now)))
            return None
        etag, body = parse_stored_document(blob)
        if etag is None:
            etag = await sha256_etag(body) if policy.hash_unframed else ""
        old = entry.doc if entry is not None else None
        if old is not None and old.etag == etag and (etag or old.body == body):
            doc = old  # the same version: keep its Last-Modified and its forms
        else:
            doc = Document(body, etag, float(int(time.time())))
        self._drop(key)
        self._keep(key, _Entry(doc, Validity.read(tag, now)))
        return doc

    async def form(self, key: Hashable, doc: Document, name: Hashable, make: Callable[[Document], Awaitable[Document]]) -> Document:
        """A form of `doc` (the document kept at `key`), made once per version of it."""
        made = doc.forms.get(name)
        if made is None:
            made = await make(doc)
            doc.forms[name] = made
            entry = self._kept.get(key)
            if entry is not None and entry.doc is doc:
                self._bytes += made.size
                self._evict()
        return made

    def built(self, key: tuple) -> Document | None:
        """A document the gateway built (from published ones whose ETags are in `key`)."""
        entry = self._kept.get(key)
        if entry is None:
            return None
        self._kept.move_to_end(key)
        return entry.doc

    def keep_built(self, key: tuple, doc: Document) -> Document:
        self._drop(key)
        self._keep(key, _Entry(doc, Validity()))
        return doc

    def _drop(self, key: Hashable) -> None:
        entry = self._kept.pop(key, None)
        if entry is not None and entry.doc is not None:
            self._bytes -= entry.doc.size

    def _keep(self, key: Hashable, entry: _Entry) -> None:
        size = entry.doc.size if entry.doc is not None else 0
        if size > self.max_bytes:
            return  # served, not kept
        self._kept[key] = entry
        self._bytes += size
        self._evict()

    def _evict(self) -> None:
        while self._kept and (len(self._kept) > self.entries or self._bytes > self.max_bytes):
            _, entry = self._kept.popitem(last=False)
            if entry.doc is not None:
                self._bytes -= entry.doc.size
