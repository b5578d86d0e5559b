"""The seed's walkthrough with every pinned anaconda-client generation (issue 13)."""

from e2e_harness.seed_walkthrough import SeedWalkthrough


class TestSeedWalkthroughClient122(SeedWalkthrough):
    client = "1.2.2"


class TestSeedWalkthroughClient1130(SeedWalkthrough):
    client = "1.13.0"


class TestSeedWalkthroughClient1160(SeedWalkthrough):
    client = "1.16.0"
