"""The scope rule and the token format, as pure functions."""

from __future__ import annotations

import math

import pytest
from pkgcloud_auth import tokens
from pkgcloud_servicekit import scopes


@pytest.mark.parametrize("held, needed, ok", [
    (["all"], "api:write", True),
    (["all"], "pypi:upload", True),
    (["api"], "api:read", True),
    (["api"], "api:modify-group", True),
    (["api"], "conda:download", False),
    (["api:write"], "api:read", True),
    (["api:read"], "api:write", False),
    (["repos"], "conda:download", True),
    (["repos"], "pypi:upload", True),
    (["repos"], "api:read", False),
    (["repo"], "conda:download", True),
    (["conda"], "conda:download", True),
    (["conda:download"], "conda", False),
    (["conda:download"], "pypi:download", False),
    (["pypi"], "pypi:upload", True),
    (["pypi:download"], "pypi:upload", False),
    (["repos", "conda:download"], "conda:download", True),
    ([], "api:read", False),
    (["from-a-newer-version"], "api:read", False),
])
def test_grants(held, needed, ok):
    assert scopes.grants(held, needed) is ok


def test_grants_refuses_an_unknown_needed_scope():
    with pytest.raises(ValueError):
        scopes.grants(["all"], "api:raed")


def test_every_known_scope_has_a_description_and_all_covers_everything():
    for name, desc in scopes.SCOPES.items():
        assert desc
        assert scopes.grants(["all"], name) or name == "repo"  # an alias sits beside, not below
    assert scopes.unknown_scopes(["api", "x", "x", "y"]) == ["x", "y"]


def test_token_has_256_bits_in_a_url_path_safe_alphabet():
    t = tokens.new_token()
    assert len(t) * math.log2(62) >= 256
    assert t.isalnum() and t.isascii()
    assert tokens.looks_like_token(t)
    assert not tokens.looks_like_token(t[:20])
    assert not tokens.looks_like_token(t[:-1] + "-")


def test_hash_is_sha256_hex_and_compared_in_constant_time():
    d = tokens.token_sha256("abc")
    assert d == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert tokens.same_digest(d, d) and not tokens.same_digest(d, "0" * 64)
