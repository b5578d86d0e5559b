"""Bad input through the gateway, against the all-in-one and the split topology."""

import pytest
from e2e_harness.bad_input_cases import BadInputCases


class TestBadInputAllInOne(BadInputCases):
    topology = "all"


@pytest.mark.split
@pytest.mark.rabbitmq
class TestBadInputSplit(BadInputCases):
    topology = "split"
