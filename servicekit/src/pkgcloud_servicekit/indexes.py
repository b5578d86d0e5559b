"""Contracts of the published indexes that index-svc writes and the gateway serves: the
views of an owner's index, and PEP 503 project names. Defined once, here."""

from __future__ import annotations

import enum
import re


class IndexView(enum.StrEnum):
    """Which packages of an owner an index shows. index-svc publishes PUBLIC and PRIVATE;
    the gateway builds PARTIAL per request (public plus the private ones a caller may read)."""

    PUBLIC = "public"
    PRIVATE = "private"
    PARTIAL = "partial"


#: the views index-svc writes to the blob store (in this order)
PUBLISHED_VIEWS: tuple[IndexView, ...] = (IndexView.PUBLIC, IndexView.PRIVATE)

_PEP503 = re.compile(r"[-_.]+")


def normalize_project(name: str) -> str:
    """PEP 503 normalized project name (packaging.utils.canonicalize_name without validation)."""
    return _PEP503.sub("-", name).lower()
