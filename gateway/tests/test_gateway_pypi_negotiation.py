"""PEP 691 content negotiation of the simple pages."""

import pytest
from pkgcloud_gateway.pypi import HTML_TYPE, JSON_TYPE, negotiate, normalize

PIP = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"


@pytest.mark.parametrize(
    "accept,fmt,expected",
    [
        (PIP, "", ("json", JSON_TYPE)),
        ("", "", ("html", "text/html")),
        ("*/*", "", ("html", "text/html")),
        ("text/html", "", ("html", "text/html")),
        ("application/vnd.pypi.simple.latest+html", "", ("html", HTML_TYPE)),
        ("application/vnd.pypi.simple.v1+html, application/vnd.pypi.simple.v1+json;q=0.5", "", ("html", HTML_TYPE)),
        ("application/json", "", None),
        ("text/html", JSON_TYPE, ("json", JSON_TYPE)),
    ],
)
def test_negotiate(accept, fmt, expected):
    assert negotiate(accept, fmt) == expected


def test_normalize():
    assert normalize("My__Pkg.Name") == "my-pkg-name"
