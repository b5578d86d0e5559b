"""pkgcloud_registry."""
