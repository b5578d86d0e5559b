"""twine's upload and pip's file route over the fake registry: one EnsureRelease per upload
(the project matched by normalized name), one OpenDownload per file, counted only when
bytes are sent."""

from __future__ import annotations

import hashlib

import aiohttp
import pytest
from gateway_fakes import basic

SDIST = b"an sdist's bytes\n"


@pytest.fixture
def twine(alice):
    return basic("alice", "alice-pw")  # a password holds every scope (the fake's tokens only "api")


def _form(name: str, version: str, filename: str, data: bytes) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for key, value in ((":action", "file_upload"), ("protocol_version", "1"), ("name", name), ("version", version),
                       ("filetype", "sdist"), ("sha256_digest", hashlib.sha256(data).hexdigest())):
        form.add_field(key, value)
    form.add_field("content", data, filename=filename, content_type="application/octet-stream")
    return form


async def test_upload_is_one_find_or_create_matching_normalized_names(client, fake_registry, twine):
    r = await client.post("/pypi/alice/", data=_form("Tiny_Yank", "1.0", "tiny_yank-1.0.tar.gz", SDIST), headers=twine)
    assert r.status == 200, await r.text()
    assert fake_registry.ensure_calls == [("Tiny_Yank", "Tiny_Yank", False)]
    # another spelling of the project: the registry names the existing package, the gateway
    # checks that one and asks again; the file lands in the one package
    fake_registry.ensure_calls.clear()
    r = await client.post("/pypi/alice/", data=_form("tiny-yank", "2.0", "tiny_yank-2.0.tar.gz", SDIST + b"2"), headers=twine)
    assert r.status == 200, await r.text()
    assert fake_registry.ensure_calls == [("tiny-yank", "tiny-yank", False), ("tiny-yank", "Tiny_Yank", False)]
    assert sorted(fake_registry.packages) == [("alice", "Tiny_Yank")]
    assert sorted(k[2:] for k in fake_registry.files) == [("1.0", "tiny_yank-1.0.tar.gz"), ("2.0", "tiny_yank-2.0.tar.gz")]
    # the same bytes again: answered from EnsureRelease's file, nothing staged
    staged = len(fake_registry.staged)
    r = await client.post("/pypi/alice/", data=_form("Tiny_Yank", "1.0", "tiny_yank-1.0.tar.gz", SDIST), headers=twine)
    assert r.status == 200 and "identical" in await r.text() and len(fake_registry.staged) == staged


async def test_file_route_counts_only_bytes_sent(client, fake_registry, twine, alice):
    r = await client.post("/pypi/alice/", data=_form("tiny", "1.0", "tiny-1.0.tar.gz", SDIST), headers=twine)
    assert r.status == 200, await r.text()
    key = ("alice", "tiny", "1.0", "tiny-1.0.tar.gz")
    fake_registry.files[key].type = "pypi"  # the fake's commit keeps the staged type; make it a distribution
    url = "/pypi/alice/files/tiny/1.0/tiny-1.0.tar.gz"
    r = await client.get(url)
    assert r.status == 200 and await r.read() == SDIST and fake_registry.files[key].download_count == 1
    assert (await client.head(url)).status == 200
    again = await client.get(url, headers={"If-None-Match": r.headers["ETag"]})
    assert again.status == 304 and fake_registry.files[key].download_count == 1
    # another label, or a private package for anonymous: the missing file's answer
    missing = await client.get("/pypi/alice/files/tiny/1.0/nothing-1.0.tar.gz")
    assert missing.status == 404
    assert (await client.get("/pypi/alice/label/dev/files/tiny/1.0/tiny-1.0.tar.gz")).status == 404
    fake_registry.packages[("alice", "tiny")].public = False
    hidden = await client.get(url)
    assert hidden.status == 404 and await hidden.read() == await missing.read()
    assert (await client.get(url, headers=alice)).status == 404  # a token without pypi:download reads as anonymous
    assert (await client.get(url, headers=twine)).status == 200 and fake_registry.files[key].download_count == 2
