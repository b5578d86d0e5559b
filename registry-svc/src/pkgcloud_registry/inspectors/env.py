"""The environment inspector: an environment file must be a conda `environment.yml`.

Checked: YAML that is a mapping; `name` (a string); `channels` (a list of strings);
`dependencies` (a list of match-spec strings and at most one `{pip: [strings]}` mapping).
`prefix` is dropped from what is recorded: it is the uploader's local path, of no use to
anyone else. The file's bytes are served unchanged.
"""

from __future__ import annotations

from typing import Any

import yaml
from pkgcloud_servicekit.blobstore import BlobStore
from pkgcloud_servicekit.errors import Invalid, TooLarge

from . import Inspection, UploadContext

MAX_ENV_BYTES = 1024 * 1024
_EXTENSIONS = (".yml", ".yaml")


def _strings(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise Invalid(f"{what} must be a list of non-empty strings")
    return list(value)


def read_environment(raw: bytes, basename: str) -> dict[str, Any]:
    """The parsed environment (name, channels, dependencies[, variables]); Invalid otherwise."""
    if not basename.endswith(_EXTENSIONS):
        raise Invalid(f"an environment file's name ends in .yml or .yaml, got {basename!r}")
    try:
        doc = yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise Invalid(f"{basename} is not an environment file: it is not UTF-8 text") from None
    except yaml.YAMLError as e:
        raise Invalid(f"{basename} is not valid YAML: {str(e).splitlines()[0][:200]}") from None
    if not isinstance(doc, dict):
        raise Invalid(f"{basename} is not an environment file: the YAML document is not a mapping")
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip():
        raise Invalid(f"{basename} has no 'name': an environment file names its environment")
    out: dict[str, Any] = {"name": name, "channels": _strings(doc.get("channels", []) or [], f"{basename}: 'channels'")}
    deps = doc.get("dependencies")
    if not isinstance(deps, list) or not deps:
        raise Invalid(f"{basename} has no 'dependencies': list the packages of the environment")
    checked: list[Any] = []
    pip_seen = False
    for dep in deps:
        if isinstance(dep, str) and dep.strip():
            checked.append(dep)
        elif isinstance(dep, dict) and list(dep) == ["pip"] and not pip_seen:
            pip_seen = True
            checked.append({"pip": _strings(dep["pip"], f"{basename}: the 'pip' dependencies")})
        else:
            raise Invalid(f"{basename}: each dependency is a package spec string or one {{pip: [...]}} list, got {dep!r}")
    out["dependencies"] = checked
    variables = doc.get("variables")
    if variables is not None:
        if not isinstance(variables, dict) or not all(isinstance(k, str) for k in variables):
            raise Invalid(f"{basename}: 'variables' must be a mapping of names to values")
        out["variables"] = {k: str(v) for k, v in variables.items()}
    return out


class EnvInspector:
    async def inspect(self, blobs: BlobStore, key: str, ctx: UploadContext) -> Inspection:
        if ctx.size > MAX_ENV_BYTES:
            raise TooLarge(f"{ctx.basename} is {ctx.size} bytes; environment files may be at most {MAX_ENV_BYTES} bytes")
        env = read_environment(await blobs.read_bytes(key), ctx.basename)
        return Inspection(attrs={**ctx.client_attrs, **env})


INSPECTOR = EnvInspector()
