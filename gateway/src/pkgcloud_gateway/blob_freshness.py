"""When a blob kept in the gateway's memory (an index document, a simple page) must be read
again: one rule for every such cache.

With a store that has change tags (the filesystem, `BlobStore.change_tag`), an entry is
revalidated by its tag, so a rewritten index is served as soon as index-svc renamed it into
place; the tag is looked at most every TAG_RECHECK_S (a stat per request is a visible share
of answering from memory), and the entry is read again after `ttl_s` anyway, which bounds the
one case a tag can miss: a freed inode reused by a same-size write within one tick of the
file timestamp clock. Stores without tags (MinIO: a HEAD is a round trip) are read again
after `untagged_ttl_s`.
"""

from __future__ import annotations

from dataclasses import dataclass

#: how often an entry's change tag is looked at (bounds how late a rewritten blob is served)
TAG_RECHECK_S = 0.01


@dataclass
class Validity:
    tag: str | None = None  # the blob's change tag when it was read (None: missing, or no tags)
    read_at: float = 0.0
    checked_at: float = 0.0  # when the tag was last compared

    @classmethod
    def read(cls, tag: str | None, now: float) -> Validity:
        """For an entry read at `now`; `tag` taken before the read, so a write in between
        means one more read, never a stale hit."""
        return cls(tag, now, now)

    def fresh(self, blobs, key: str, now: float, *, ttl_s: float, untagged_ttl_s: float) -> tuple[bool, str | None]:
        """(whether the kept entry may be served, the blob's tag now: keep it if you read again)."""
        age = now - self.read_at
        if self.tag is not None and now - self.checked_at < TAG_RECHECK_S and age < ttl_s:
            return True, self.tag
        tag = blobs.change_tag(key)
        self.checked_at = now
        if tag is not None:
            return tag == self.tag and age < ttl_s, tag
        return self.tag is None and age < untagged_ttl_s, None
