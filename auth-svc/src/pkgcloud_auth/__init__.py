"""pkgcloud_auth."""
