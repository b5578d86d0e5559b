"""pkgcloud_index."""
