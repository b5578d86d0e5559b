"""Token scopes as anaconda-client users spell them, and the rule for what a scope grants.

Shared: auth-svc validates and lists them, the gateway enforces them on every request
(without calling out), so both read this one table.

The names are anaconda.org's (`anaconda auth --list-scopes`), so `anaconda auth --create
--scopes 'repos conda:download'` means here what it means there. Scopes form a tree: a
token holding a scope holds everything below it (`all` > `api` > `api:write` > `api:read`;
`all` > `repos` > `conda` > `conda:download`; ...).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

# name -> description, in the order `anaconda auth -x` lists them.
SCOPES: dict[str, str] = {
    "all": "Allow all operations",
    "api": "Allow all operations on the API (api:read, api:write, api:modify-group)",
    "api:read": "Allow reading through the API: user, packages, releases, files, labels, tokens",
    "api:write": "Allow changes through the API: upload, remove, copy, move, labels (implies api:read)",
    "api:modify-group": "Allow changing organization groups and their members",
    "repos": "Allow access to all package repositories (conda and PyPI: download and upload)",
    "repo": "Same as repos (the spelling older anaconda-client help texts use)",
    "conda": "Allow all operations on conda repositories",
    "conda:download": "Allow downloading private packages from conda channels",
    "pypi": "Allow all operations on PyPI indexes",
    "pypi:download": "Allow downloading private packages from PyPI indexes",
    "pypi:upload": "Allow uploading to PyPI indexes (twine)",
}

# What each scope directly contains; `implied` closes this transitively.
_CHILDREN: dict[str, tuple[str, ...]] = {
    "all": ("api", "repos"),
    "api": ("api:read", "api:write", "api:modify-group"),
    # Uploading through the API reads the package first, so write without read is useless.
    "api:write": ("api:read",),
    "repos": ("conda", "pypi"),
    "repo": ("repos",),
    "conda": ("conda:download",),
    "pypi": ("pypi:download", "pypi:upload"),
}

# What a token created without scopes (anaconda-client's login sends `"scopes": null`) holds.
DEFAULT_SCOPES: tuple[str, ...] = ("all",)


def unknown_scopes(scopes: Iterable[str]) -> list[str]:
    """The names among `scopes` that are not known scopes, in order, without duplicates."""
    out: list[str] = []
    for s in scopes:
        if s not in SCOPES and s not in out:
            out.append(s)
    return out


@cache
def implied(scope: str) -> frozenset[str]:
    """The scope itself and every scope below it."""
    seen = {scope}
    stack = [scope]
    while stack:
        for child in _CHILDREN.get(stack.pop(), ()):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return frozenset(seen)


def grants(token_scopes: Iterable[str], needed: str) -> bool:
    """Whether a token holding `token_scopes` may do what needs scope `needed`.

    `needed` must be a known scope: a typo at a call site would otherwise deny silently.
    Unknown names among `token_scopes` (from an older or newer version) grant nothing.
    """
    if needed not in SCOPES:
        raise ValueError(f"unknown scope {needed!r}")
    return any(needed in implied(s) for s in token_scopes if s in SCOPES)


KNOWN = frozenset(SCOPES)
