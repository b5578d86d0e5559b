"""The gateway enforces token scopes with its own table (no call per request); it must say
exactly what auth-svc's scopes.grants says, for every pair of known scopes."""

import pytest

from pkgcloud_auth import scopes as auth_scopes
from pkgcloud_gateway import scopes
from pkgcloud_gateway.credentials import Principal
from pkgcloud_gateway.policy import ReadAccess, token_grants


def test_same_names_as_auth_svc():
    assert scopes.KNOWN == set(auth_scopes.SCOPES)


@pytest.mark.parametrize("held", sorted(auth_scopes.SCOPES) + ["unknown-scope"])
def test_same_answers_as_auth_svc(held):
    for needed in auth_scopes.SCOPES:
        assert scopes.grants([held], needed) == auth_scopes.grants([held], needed), (held, needed)


def test_token_scopes_on_reads():
    tok = Principal(login="carl", scopes=("api:read",))
    assert token_grants(tok, "api:read") and not token_grants(tok, "conda:download")
    assert token_grants(Principal(login="carl", scopes=()), "conda:download")  # no scopes = all
    assert token_grants(Principal(login="carl", method="password"), "pypi:upload")


def test_read_access_views():
    assert ReadAccess().view == "public" and ReadAccess(everything=True).view == "private"
    partial = ReadAccess(packages=frozenset({"sec"}))
    assert partial.view == "partial" and partial.may_read("SEC", False) and not partial.may_read("other", False)
    assert partial.may_read("other", True)
