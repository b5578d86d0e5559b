import pytest
from pkgcloud_registry import names
from pkgcloud_servicekit.errors import Invalid


@pytest.mark.parametrize("name", ["numpy", "a", "py-rattler", "zope.interface", "_x" [1:], "A1_b-c.d"])
def test_good_package_names(name):
    assert names.validate_package(name) == name


@pytest.mark.parametrize(
    "name,fragment",
    [
        ("", "empty"), ("x" * 129, "too long"), ("a/b", "'/'"), ("..", "'..'"), (".", "'.'"), ("a\\b", "backslash"),
        ("a\nb", "control"), ("-x", "start with"), ("a b", "may only contain"), ("ä", "may only contain"),
    ],
)
def test_bad_package_names(name, fragment):
    with pytest.raises(Invalid) as e:
        names.validate_package(name)
    assert fragment in e.value.message and "package name" in e.value.message


@pytest.mark.parametrize("version", ["1.0", "2024.1.post1+local", "1!2.0", "0.1-rc"])
def test_good_versions(version):
    assert names.validate_version(version) == version


@pytest.mark.parametrize("version", ["", "1/0", "..", ".", "v" * 65, "1\x00", "1\\0", " 1.0"])
def test_bad_versions(version):
    with pytest.raises(Invalid, match="version"):
        names.validate_version(version)


@pytest.mark.parametrize("basename", ["hello.txt", "noarch/x-1-0.tar.bz2", "linux-64/y-1-0.conda", "a" * 255])
def test_good_basenames(basename):
    assert names.validate_basename(basename) == basename


@pytest.mark.parametrize(
    "basename", ["", "/etc/passwd", "a//b", "a/", "../x", "a/../b", "./x", "a/./b", "a\\b", "a\x7fb", "a" * 256]
)
def test_bad_basenames(basename):
    with pytest.raises(Invalid, match="basename"):
        names.validate_basename(basename)


@pytest.mark.parametrize("label", ["main", "dev", "rc/1.0", "a_b-c.d", "L" * 128])
def test_good_labels(label):
    assert names.validate_label(label) == label


@pytest.mark.parametrize("label", ["", "1abc", "-dev", "a b", "a\\b", "é", "L" * 129, "a\tb"])
def test_bad_labels(label):
    with pytest.raises(Invalid, match="label"):
        names.validate_label(label)


def test_labels_default_to_main_and_dedupe():
    assert names.validate_labels([]) == ["main"]
    assert names.validate_labels(["dev", "main", "dev"]) == ["dev", "main"]


@pytest.mark.parametrize("owner", ["", "a/b", "..", "a b", "x" * 129])
def test_bad_owners(owner):
    with pytest.raises(Invalid, match="owner"):
        names.validate_owner(owner)
