"""The PyPI inspector on hand-made wheels and sdists: good ones, and the bad-input corpus."""

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
    "basename,data,needle",
    [
        ("demo_pkg-1.0-py3-none-any.whl", wheel(metadata=meta(name="other")), "names project"),
        ("demo_pkg-1.0-py3-none-any.whl", wheel(metadata=meta(version="2.0")), "has version"),
        ("demo_pkg-1.0-py3-none-any.whl", wheel(metadata=meta(version="1.0-not-pep440!")), "PEP 440"),
        ("demo_pkg-1.0-py3-none-any.whl", wheel(members={"../evil": b"x"}), "path traversal"),
        ("demo_pkg-1.0-py3-none-any.whl", wheel(members={"/etc/passwd": b"x"}), "absolute"),
        ("demo_pkg-1.0-py3-none-any.whl", wheel(metadata=meta(extra="\n" + "x" * (MAX_METADATA_BYTES + 1))), "limit"),
        ("demo_pkg-1.0-py3-none-any.whl", wheel(members={"bomb": b"\0" * (80 * 1024 * 1024)}), "zip bomb"),
        ("demo_pkg-1.0-py3-none-any.whl", b"not a zip", "not a valid zip"),
        ("demo_pkg-1.0-py3-none-any.whl", wheel(members={"other-1.dist-info/METADATA": b""}), "exactly one"),
        ("demo_pkg-1.0.tar.gz", sdist(members={"demo_pkg-1.0/../../x": b"x"}), "path traversal"),
        ("demo_pkg-1.0.tar.gz", sdist(links={"demo_pkg-1.0/l": "../../etc/passwd"}), "path traversal"),
        ("demo_pkg-1.0.tar.gz", sdist(pkg_info=meta(name="evil")), "names project"),
        ("demo_pkg-1.0.tar.gz", sdist(members={"second/x": b"x"}), "single top-level"),
        ("demo-pkg.exe", b"", "neither a wheel"),
    ],
)
def test_refused(basename, data, needle):
    with pytest.raises(Invalid) as e:
        inspect_bytes(data, ctx(basename))
    assert needle in e.value.message


def test_package_must_match():
    with pytest.raises(Invalid, match="not of package"):
        inspect_bytes(wheel(), ctx("demo_pkg-1.0-py3-none-any.whl", package="something-else"))


def test_name_clash():
    assert name_clash("My_Pkg", ["my-pkg", "other"]) == "my-pkg"
    assert name_clash("my-pkg", ["my-pkg"]) is None
