"""anaconda-client 1.16.0 against the split topology: five processes, RabbitMQ, S3."""

import pytest
from e2e_harness.anaconda_flows import AnacondaClientFlows

pytestmark = [pytest.mark.split, pytest.mark.rabbitmq]


class TestSplit(AnacondaClientFlows):
    topology = "split"
