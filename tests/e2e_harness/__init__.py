"""Start pkgcloud topologies and drive the real clients against them, for tests and bench/."""
