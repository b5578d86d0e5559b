"""pkgcloud_servicekit."""
