"""The README's configuration reference, the Settings class and the code agree."""

from __future__ import annotations

import re
from pathlib import Path

from pkgcloud_servicekit.settings import env_var_names

REPO = Path(__file__).resolve().parents[1]
VAR = re.compile(r"PKGCLOUD_[A-Z0-9_]+")
# Variables the tests read for themselves, not settings of the services.
TEST_ONLY = {"PKGCLOUD_MONGO_URL_TEST", "PKGCLOUD_TEST_RABBITMQ_URL"}


def _readme_table_vars() -> set[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Configuration reference", 1)[1].split("\n## ", 1)[0]
    return {m.group(1) for m in re.finditer(r"^\| `(PKGCLOUD_[A-Z0-9_]+)` \|", section, re.M)}


def test_every_setting_is_in_the_readme_table():
    assert set(env_var_names()) == _readme_table_vars()


def test_every_variable_the_readme_names_exists():
    named = set(VAR.findall((REPO / "README.md").read_text()))
    assert named - set(env_var_names()) == set()


def test_code_reads_no_undocumented_variable():
    known = set(env_var_names()) | TEST_ONLY
    unknown = {}
    for path in REPO.glob("*/src/**/*.py"):
        if "pkgcloud_protos" in path.parts:
            continue
        for var in VAR.findall(path.read_text()):
            if var not in known:
                unknown.setdefault(var, []).append(str(path.relative_to(REPO)))
    assert unknown == {}


def _readme_table_defaults() -> dict[str, str]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Configuration reference", 1)[1].split("\n## ", 1)[0]
    return {m.group(1): m.group(2) for m in re.finditer(r"^\| `(PKGCLOUD_[A-Z0-9_]+)` \| *`?([^`|]*?)`? *\|", section, re.M)}


def _shown(default: object) -> str:
    if default is None:
        return ""
    if isinstance(default, Path) and not default.is_absolute():
        return f"./{default}"
    return str(default)


def test_every_default_in_the_readme_table_is_the_settings_default():
    from pkgcloud_servicekit.settings import Settings

    readme = _readme_table_defaults()
    expected = {f"PKGCLOUD_{name.upper()}": _shown(field.default) for name, field in Settings.model_fields.items()}
    assert {k: readme.get(k) for k in expected} == expected
