"""Cross-service suites: the real clients against real topologies."""

from __future__ import annotations

import pytest
from e2e_harness.topology import START


@pytest.fixture(scope="class")
def topo(request, tmp_path_factory):
    """The topology named by the test class's `topology` attribute, started once per class."""
    name = request.cls.topology
    t = START[name](tmp_path_factory.mktemp(f"pkgcloud-{name}"))
    yield t
    t.stop()
