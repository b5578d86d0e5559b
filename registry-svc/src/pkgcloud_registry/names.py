"""Validation of the names that become URL paths, blob keys and index entries.

Everything here is refused before it reaches a store, so a hostile name can never turn into
a path outside its owner's space (`..`, a leading `/`, a backslash) or a log/HTTP header
injection (control characters).
"""

from __future__ import annotations

import re

from pkgcloud_servicekit.errors import Invalid

OWNER_MAX = 128
PACKAGE_MAX = 128
VERSION_MAX = 64
BASENAME_MAX = 255
LABEL_MAX = 128

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PACKAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# CEP 26: labels become channel path segments (`<owner>/label/<label>`), '/' allowed inside.
_LABEL = re.compile(r"^[a-zA-Z][0-9a-zA-Z_\-./]*$")


def _common(field: str, value: str, limit: int) -> None:
    if not isinstance(value, str) or value == "":
        raise Invalid(f"{field} must not be empty")
    if len(value) > limit:
        raise Invalid(f"{field} is too long ({len(value)} characters, at most {limit})")
    if _CONTROL.search(value):
        raise Invalid(f"{field} must not contain control characters")
    if "\\" in value:
        raise Invalid(f"{field} must not contain a backslash")


def _single_segment(field: str, value: str, limit: int) -> None:
    _common(field, value, limit)
    if "/" in value:
        raise Invalid(f"{field} must not contain '/': {value!r}")
    if value in (".", ".."):
        raise Invalid(f"{field} must not be {value!r}")


def validate_owner(owner: str) -> str:
    _single_segment("owner", owner, OWNER_MAX)
    if not _PACKAGE.match(owner):
        raise Invalid(f"owner {owner!r} may only contain letters, digits, '.', '_' and '-', and must start with a letter or digit")
    return owner


def validate_package(name: str) -> str:
    _single_segment("package name", name, PACKAGE_MAX)
    if not _PACKAGE.match(name):
        raise Invalid(f"package name {name!r} may only contain letters, digits, '.', '_' and '-', and must start with a letter or digit")
    return name


def validate_version(version: str) -> str:
    _single_segment("version", version, VERSION_MAX)
    if version != version.strip():
        raise Invalid(f"version {version!r} must not start or end with whitespace")
    return version


def validate_basename(basename: str) -> str:
    _common("basename", basename, BASENAME_MAX)
    if basename.startswith("/"):
        raise Invalid(f"basename {basename!r} must not start with '/'")
    for segment in basename.split("/"):
        if segment == "":
            raise Invalid(f"basename {basename!r} must not contain empty path segments")
        if segment in (".", ".."):
            raise Invalid(f"basename {basename!r} must not contain '.' or '..' path segments")
    return basename


def validate_label(label: str) -> str:
    _common("label", label, LABEL_MAX)
    if not _LABEL.match(label):
        raise Invalid(f"label {label!r} is not valid: it must start with a letter and contain only letters, digits, '_', '-', '.' and '/'")
    return label


def validate_labels(labels: list[str] | tuple[str, ...]) -> list[str]:
    """Valid labels, duplicates dropped, order kept; none means ["main"]."""
    out: list[str] = []
    for label in labels:
        validate_label(label)
        if label not in out:
            out.append(label)
    return out or ["main"]


def validate_file_ref(owner: str, package: str, version: str, basename: str) -> None:
    validate_owner(owner)
    validate_package(package)
    validate_version(version)
    validate_basename(basename)
