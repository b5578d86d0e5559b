"""pkgcloud_render."""
