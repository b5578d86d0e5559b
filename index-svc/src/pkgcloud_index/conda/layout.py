"""Where the published documents live in the blob store. The gateway reads the same keys."""

from __future__ import annotations

from pkgcloud_servicekit.indexes import PUBLISHED_VIEWS

PREFIX = "indexes/conda"
VIEWS = tuple(v.value for v in PUBLISHED_VIEWS)


def label_prefix(owner: str, view: str, label: str) -> str:
    return f"{PREFIX}/{owner}/{view}/label/{label}"


def document_key(owner: str, view: str, label: str, path: str) -> str:
    """path: '<subdir>/<file>' or a channel-root file such as 'channeldata.json'."""
    return f"{label_prefix(owner, view, label)}/{path}"


def manifest_key(owner: str, view: str) -> str:
    """What was last published for (owner, view): {label: {subdir: repodata sha256}}."""
    return f"{PREFIX}/{owner}/{view}/manifest.json"


def state_key(owner: str) -> str:
    """How many of the owner's events the published documents reflect (crash recovery)."""
    return f"{PREFIX}/{owner}/state.json"
