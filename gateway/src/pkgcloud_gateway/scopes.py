"""Token scopes as the gateway enforces them: the same names and implications as auth-svc's
scopes module (a test compares the two on every pair), held here because the gateway asks
on every request and must not call out for it."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

KNOWN = frozenset({
    "all", "api", "api:read", "api:write", "api:modify-group", "repos", "repo",
    "conda", "conda:download", "pypi", "pypi:download", "pypi:upload",
})

# what each scope directly contains
_CHILDREN: dict[str, tuple[str, ...]] = {
    "all": ("api", "repos"),
    "api": ("api:read", "api:write", "api:modify-group"),
    "api:write": ("api:read",),
    "repos": ("conda", "pypi"),
    "repo": ("repos",),
    "conda": ("conda:download",),
    "pypi": ("pypi:download", "pypi:upload"),
}


@lru_cache(maxsize=None)
def implied(scope: str) -> frozenset[str]:
    seen = {scope}
    stack = [scope]
    while stack:
        for child in _CHILDREN.get(stack.pop(), ()):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return frozenset(seen)


def grants(token_scopes: Iterable[str], needed: str) -> bool:
    """Whether a token holding `token_scopes` may do what needs `needed`; unknown names
    grant nothing, and `needed` must be known (a typo must not deny silently)."""
    if needed not in KNOWN:
        raise ValueError(f"unknown scope {needed!r}")
    return any(needed in implied(s) for s in token_scopes if s in KNOWN)
