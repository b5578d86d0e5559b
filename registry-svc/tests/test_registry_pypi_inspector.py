"""The PyPI inspector on hand-made wheels and sdists: good ones, and the bad-input corpus.

The corpus's archives carry the time they were built, so each case has a fixed id (ids made
from the bytes would differ between two collections and between two xdist workers) and is
built when it runs."""

from __future__ import annotations

import io
import tarfile
import zipfile

import pytest
from pkgcloud_registry.inspectors import UploadContext, inspector_for
from pkgcloud_registry.inspectors.pypi import MAX_METADATA_BYTES, inspect_bytes, name_clash
from pkgcloud_servicekit.errors import Invalid


def meta(name="demo-pkg", version="1.0", extra=""):
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: a demo\nRequires-Python: >=3.9\n{extra}".encode()


def wheel(filename="demo_pkg-1.0-py3-none-any.whl", metadata=None, members=None, dist_info="demo_pkg-1.0.dist-info"):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{dist_info}/METADATA", metadata if metadata is not None else meta())
        zf.writestr(f"{dist_info}/WHEEL", "Wheel-Version: 1.0\n")
        for k, v in (members or {}).items():
            zf.writestr(k, v)
    return buf.getvalue()


def sdist(top="demo_pkg-1.0", pkg_info=None, members=None, links=None):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in {f"{top}/PKG-INFO": pkg_info if pkg_info is not None else meta(), **(members or {})}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tf.addfile(info)
    return buf.getvalue()


def ctx(basename, package="demo-pkg", version="1.0"):
    return UploadContext("o", package, version, basename, "pypi", {}, 0, "0" * 64)


def test_registered():
    assert inspector_for("pypi") is not None


def test_wheel_metadata_and_sidecar():
    data = meta()
    got = inspect_bytes(wheel(), ctx("demo_pkg-1.0-py3-none-any.whl", package="Demo_Pkg"))
    assert got.sidecars == {"metadata": data}
    assert got.attrs["requires_python"] == ">=3.9" and got.attrs["summary"] == "a demo"
    assert got.attrs["packagetype"] == "bdist_wheel" and len(got.attrs["core_metadata_sha256"]) == 64


def test_sdist_metadata():
    got = inspect_bytes(sdist(), ctx("demo_pkg-1.0.tar.gz"))
    assert got.attrs["packagetype"] == "sdist" and got.sidecars == {}


@pytest.mark.parametrize(
    "basename,build,needle",
    [
        pytest.param("demo_pkg-1.0-py3-none-any.whl", lambda: wheel(metadata=meta(name="other")), "names project", id="wheel-other-name"),
        pytest.param("demo_pkg-1.0-py3-none-any.whl", lambda: wheel(metadata=meta(version="2.0")), "has version", id="wheel-other-version"),
        pytest.param("demo_pkg-1.0-py3-none-any.whl", lambda: wheel(metadata=meta(version="1.0-not-pep440!")), "PEP 440", id="wheel-bad-version"),
        pytest.param("demo_pkg-1.0-py3-none-any.whl", lambda: wheel(members={"../evil": b"x"}), "path traversal", id="wheel-traversal"),
        pytest.param("demo_pkg-1.0-py3-none-any.whl", lambda: wheel(members={"/etc/passwd": b"x"}), "absolute", id="wheel-absolute"),
        pytest.param("demo_pkg-1.0-py3-none-any.whl", lambda: wheel(metadata=meta(extra="\n" + "x" * (MAX_METADATA_BYTES + 1))), "limit", id="wheel-metadata-too-big"),
        pytest.param("demo_pkg-1.0-py3-none-any.whl", lambda: wheel(members={"bomb": b"\0" * (80 * 1024 * 1024)}), "zip bomb", id="wheel-zip-bomb"),
        pytest.param("demo_pkg-1.0-py3-none-any.whl", lambda: b"not a zip", "not a valid zip", id="wheel-not-a-zip"),
        pytest.param("demo_pkg-1.0-py3-none-any.whl", lambda: wheel(members={"other-1.dist-info/METADATA": b""}), "exactly one", id="wheel-two-dist-infos"),
        pytest.param("demo_pkg-1.0.tar.gz", lambda: sdist(members={"demo_pkg-1.0/../../x": b"x"}), "path traversal", id="sdist-traversal"),
        pytest.param("demo_pkg-1.0.tar.gz", lambda: sdist(links={"demo_pkg-1.0/l": "../../etc/passwd"}), "path traversal", id="sdist-symlink-out"),
        pytest.param("demo_pkg-1.0.tar.gz", lambda: sdist(pkg_info=meta(name="evil")), "names project", id="sdist-other-name"),
        pytest.param("demo_pkg-1.0.tar.gz", lambda: sdist(members={"second/x": b"x"}), "single top-level", id="sdist-two-tops"),
        pytest.param("demo-pkg.exe", lambda: b"", "neither a wheel", id="unknown-type"),
    ],
)
def test_refused(basename, build, needle):
    # built when the case runs, not at collection (the zip bomb alone is 80 MiB)
    data = build()
    with pytest.raises(Invalid) as e:
        inspect_bytes(data, ctx(basename))
    assert needle in e.value.message


def test_package_must_match():
    with pytest.raises(Invalid, match="not of package"):
        inspect_bytes(wheel(), ctx("demo_pkg-1.0-py3-none-any.whl", package="something-else"))


def test_name_clash():
    assert name_clash("My_Pkg", ["my-pkg", "other"]) == "my-pkg"
    assert name_clash("my-pkg", ["my-pkg"]) is None
