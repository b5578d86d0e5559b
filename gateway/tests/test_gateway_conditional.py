"""The one conditional-request answer (conditional.py) every document and file route uses."""

from __future__ import annotations

from aiohttp.test_utils import make_mocked_request
from pkgcloud_gateway.conditional import document_response, etag_matches, http_date, not_modified, not_modified_response

ETAG = '"abc123"'
MODIFIED = 1_700_000_000.0


def request(method: str = "GET", **headers: str):
    return make_mocked_request(method, "/doc", headers=headers)


def test_if_none_match_takes_a_list_weak_tags_and_star():
    assert etag_matches(ETAG, [ETAG])
    assert etag_matches(f'"other", {ETAG}', [ETAG])
    assert etag_matches(f'"other",{ETAG} , "third"', [ETAG])
    assert etag_matches(f"W/{ETAG}", [ETAG])  # weak comparison (RFC 9110 13.1.2)
    assert etag_matches(ETAG, [f"W/{ETAG}"])
    assert etag_matches("*", [ETAG]) and etag_matches(" * ", [ETAG])
    assert not etag_matches('"abc"', [ETAG])
    assert not etag_matches('"abc123-gz"', [ETAG])
    assert not etag_matches("", [ETAG])
    assert not etag_matches("abc123", [ETAG])  # unquoted: another tag
    assert etag_matches('"v1-gz"', ['"v1"', '"v1-gz"'])  # any representation's validator


def test_if_modified_since():
    assert not_modified(request(**{"If-Modified-Since": http_date(MODIFIED)}), ETAG, MODIFIED)
    assert not_modified(request(**{"If-Modified-Since": http_date(MODIFIED + 60)}), ETAG, MODIFIED)
    assert not not_modified(request(**{"If-Modified-Since": http_date(MODIFIED - 1)}), ETAG, MODIFIED)
    assert not not_modified(request(**{"If-Modified-Since": "not a date"}), ETAG, MODIFIED)
    assert not not_modified(request(**{"If-Modified-Since": http_date(MODIFIED)}), ETAG)  # no Last-Modified known
    assert not not_modified(request("POST", **{"If-Modified-Since": http_date(MODIFIED)}), ETAG, MODIFIED)


def test_if_none_match_wins_over_if_modified_since():
    since = http_date(MODIFIED)
    assert not not_modified(request(**{"If-None-Match": '"stale"', "If-Modified-Since": since}), ETAG, MODIFIED)
    assert not_modified(request(**{"If-None-Match": ETAG, "If-Modified-Since": http_date(0)}), ETAG, MODIFIED)
    assert not not_modified(request(), ETAG, MODIFIED)


def test_a_304_keeps_validators_and_caching_headers_but_no_body():
    headers = {"ETag": ETAG, "Last-Modified": http_date(MODIFIED), "Cache-Control": "public, max-age=0, must-revalidate",
               "Vary": "Accept, Accept-Encoding", "Content-Security-Policy": "default-src 'none'",
               "Content-Type": "application/json", "Content-Encoding": "gzip", "Content-Disposition": "attachment",
               "Accept-Ranges": "none"}
    r = not_modified_response(headers)
    assert r.status == 304 and r.body is None
    assert dict(r.headers) == {k: headers[k] for k in ("ETag", "Last-Modified", "Cache-Control", "Vary", "Content-Security-Policy")}


def test_document_response():
    headers = {"ETag": ETAG, "Content-Type": "application/json"}
    fresh = document_response(request(), b"{}", headers)
    assert fresh.status == 200 and fresh.body == b"{}" and fresh.headers["ETag"] == ETAG
    held = document_response(request(**{"If-None-Match": f'W/"x", W/{ETAG}'}), b"{}", headers)
    assert held.status == 304 and held.body is None and "Content-Type" not in held.headers
    # other validators may count as current (a page's plain and gzip forms)
    assert document_response(request(**{"If-None-Match": '"x"'}), b"{}", headers, etags=['"x"']).status == 304
