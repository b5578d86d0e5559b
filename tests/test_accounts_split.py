"""Accounts, tokens and organizations against the split topology (RabbitMQ carries token.revoked)."""

import pytest
from e2e_harness.account_flows import AccountFlows

pytestmark = [pytest.mark.split, pytest.mark.rabbitmq]


class TestAccountsSplit(AccountFlows):
    topology = "split"
