"""The web UI's package descriptions are cleaned like notebooks; browsers are told apart from
clients by what they accept."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import make_mocked_request
from pkgcloud_gateway.web_catalog import render_markdown, render_text, wants_html

HOSTILE = """# Title

<script>alert(1)</script><img src=x onerror=alert(2)>

[js](javascript:alert(3)) [data](data:text/html,<script>alert(4)</script>) [ok](https://example.invalid/)

![pixel](https://example.invalid/p.png "t")

<iframe src="https://example.invalid"></iframe><style>body{display:none}</style>
"""


def test_markdown_is_rendered_and_nothing_active_survives():
    out = str(render_markdown(HOSTILE))
    assert "<h1>Title</h1>" in out and '<a href="https://example.invalid/" rel="noopener noreferrer nofollow">ok</a>' in out
    assert '<img src="https://example.invalid/p.png" alt="pixel" title="t">' in out
    lowered = out.lower()
    for bad in ("<script", "onerror", "javascript:", "data:text", "<iframe", "<style"):
        assert bad not in lowered, (bad, out)


def test_rst_and_plain_text_are_shown_as_written():
    out = str(render_text("Title\n=====\n\n<b>x</b>", "text/x-rst"))
    assert out == "<pre>Title\n=====\n\n&lt;b&gt;x&lt;/b&gt;</pre>"


@pytest.mark.parametrize("accept,html", [
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),  # Chromium, Firefox
    ("*/*", False),  # conda, rattler, requests
    ("", False),
    ("application/json", False),
    ("application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01", False),
    ("text/html;q=0", False),
], ids=["browser", "any", "none", "json", "pip", "refused"])
def test_wants_html(accept, html):
    assert wants_html(make_mocked_request("GET", "/conda/alice", headers={"Accept": accept})) is html
