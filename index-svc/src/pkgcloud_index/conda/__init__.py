"""Conda channel indexes: per owner, view (public/private), label and subdir, the documents a
conda client fetches, written to the blob store under indexes/conda/ (see layout.py)."""
