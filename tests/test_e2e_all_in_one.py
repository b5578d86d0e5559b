"""anaconda-client 1.16.0 against `pkgcloud all`."""

from e2e_harness.anaconda_flows import AnacondaClientFlows


class TestAllInOne(AnacondaClientFlows):
    topology = "all"
