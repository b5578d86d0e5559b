"""Conda channels with labels, served to py-rattler, against every topology."""

import pytest
from e2e_harness.conda_flows import CondaChannelFlows


class TestCondaAllInOne(CondaChannelFlows):
    topology = "all"


@pytest.mark.split
@pytest.mark.rabbitmq
class TestCondaSplit(CondaChannelFlows):
    topology = "split"
