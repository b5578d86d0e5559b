"""PyPI simple pages (PEP 503/691/700/714): rendered on events, stored in the blob store
with their ETag, served by the gateway as they are."""

from .layout import page_key, parse_stored_page
from .publisher import PypiIndexPublisher

__all__ = ["PypiIndexPublisher", "page_key", "parse_stored_page"]
