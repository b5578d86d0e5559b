"""Accounts, tokens and organizations with anaconda-client 1.16.0 against `pkgcloud all`."""

from e2e_harness.account_flows import AccountFlows


class TestAccountsAllInOne(AccountFlows):
    topology = "all"
