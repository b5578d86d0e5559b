"""pkgcloud_gateway."""
