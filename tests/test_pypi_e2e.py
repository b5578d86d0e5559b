"""PyPI indexes with the real clients (anaconda-client 1.16.0, twine 7.0.0, pip 26.3),
against `pkgcloud all` and the split topology."""

from e2e_harness.pypi_flows import PypiFlows


class TestPypiAllInOne(PypiFlows):
    topology = "all"


class TestPypiSplit(PypiFlows):
    topology = "split"
