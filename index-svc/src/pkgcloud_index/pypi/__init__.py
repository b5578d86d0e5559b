"""PyPI simple pages (PEP 503/691/700/714): rendered on events, stored in the blob store
with their ETag (the layout and framing: pkgcloud_servicekit.published), served by the
gateway as they are."""

from .publisher import PypiIndexPublisher

__all__ = ["PypiIndexPublisher"]
