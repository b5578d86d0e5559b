"""The blob layout of published documents and their framing (servicekit.published): the keys
are pinned, since documents already in a bucket must still be found after an upgrade."""

from __future__ import annotations

import pytest
from pkgcloud_servicekit import published


def test_keys_are_where_documents_were_always_published():
    assert published.conda_document_key("alice", "public", "dev", "noarch/repodata.json") == \
        "indexes/conda/alice/public/label/dev/noarch/repodata.json"
    assert published.conda_document_key("alice", "private", "main", "channeldata.json") == \
        "indexes/conda/alice/private/label/main/channeldata.json"
    assert published.conda_manifest_key("alice", "public") == "indexes/conda/alice/public/manifest.json"
    assert published.conda_state_key("alice") == "indexes/conda/alice/state.json"
    assert published.conda_owner_prefix("alice") == "indexes/conda/alice/"
    assert published.pypi_page_key("alice", "public", "main", "json") == "indexes/pypi/alice/public/main/simple/index.json"
    assert published.pypi_page_key("alice", "private", "dev", "html", "my-pkg") == \
        "indexes/pypi/alice/private/dev/simple/my-pkg/index.html"
    assert published.pypi_state_key("alice") == "indexes/pypi/alice/state.json"
    assert published.pypi_owner_prefix("alice") == "indexes/pypi/alice/"
    assert published.rendered_html_key("v1", "ab" * 32) == f"rendered/v1/{'ab' * 32}.html"
    assert published.rendered_failed_key("v1", "ab" * 32) == f"rendered/v1/{'ab' * 32}.failed.json"
    assert published.rendered_image_key("cd" * 32 + ".png") == f"rendered/images/{'cd' * 32}.png"
    assert published.VIEWS == ("public", "private")


@pytest.mark.parametrize("body", [b'{"packages":{}}', b"\x28\xb5\x2f\xfd\x00\n\x01", b"<!DOCTYPE html>\n<html>", b""])
def test_framing_round_trip(body):
    blob = published.stored_document('"abc"', body)
    assert blob.startswith(b'"abc"\n')
    assert published.parse_stored_document(blob) == ('"abc"', body)
    assert published.document_body(blob) == body


@pytest.mark.parametrize("legacy", [b'{"packages":{}}', b"\x28\xb5\x2f\xfd\x00\n\x01"], ids=["json", "zstd"])
def test_documents_published_before_the_framing_have_no_etag(legacy):
    assert published.parse_stored_document(legacy) == (None, legacy)
    assert published.document_body(legacy) == legacy


def test_only_a_quoted_etag_frames_a_document():
    with pytest.raises(ValueError):
        published.stored_document("abc", b"{}")
    with pytest.raises(ValueError):
        published.stored_document('"a\nb"', b"{}")
    assert published.etag_of_digest("0123456789abcdef" * 4) == '"0123456789abcdef0123456789abcdef"'
