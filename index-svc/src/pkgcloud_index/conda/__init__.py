"""Conda channel indexes: per owner, view (public/private), label and subdir, the documents a
conda client fetches, written to the blob store under indexes/conda/ (the layout: pkgcloud_servicekit.published)."""
