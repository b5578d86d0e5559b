"""The label API (conda_labels.py) as anaconda-client calls it: statuses and bodies, owner
only, registry errors mapped to their HTTP statuses."""

from __future__ import annotations

import pytest
from gateway_fakes import FakeRegistry
from pkgcloud_protos.v1 import common_pb2, registry_pb2
from pkgcloud_servicekit import errors


class LabelRegistry(FakeRegistry):
    """FakeRegistry plus the label RPCs, with the registry's rules (a locked label refuses
    changes, an unknown one is NotFound)."""

    def __init__(self, blobs):
        super().__init__(blobs)
        self.locked: set[tuple[str, str]] = set()

    def _labels(self, owner):
        out: dict[str, int] = {}
        for (o, *_), f in self.files.items():
            if o == owner:
                for label in f.labels:
                    out[label] = out.get(label, 0) + 1
        return out

    def _info(self, owner, label):
        counts = self._labels(owner)
        if label not in counts and (owner, label) not in self.locked:
            raise errors.NotFound(f"label {label} of {owner} does not exist")
        return registry_pb2.LabelInfo(name=label, is_locked=(owner, label) in self.locked, file_count=counts.get(label, 0))

    def _matching(self, owner, label, package="", version="", basename=""):
        return [f for (o, p, v, b), f in sorted(self.files.items())
                if o == owner and label in f.labels and package in ("", p) and version in ("", v) and basename in ("", b)]

    def _check_unlocked(self, owner, label):
        if (owner, label) in self.locked:
            raise errors.Forbidden(f"label {label!r} of {owner} is locked: unlock it first")

    async def ListLabels(self, request, context):
        return registry_pb2.LabelList(labels=[self._info(request.owner, name) for name in sorted(self._labels(request.owner))])

    async def GetLabel(self, request, context):
        return registry_pb2.LabelFiles(label=self._info(request.owner, request.label), files=self._matching(request.owner, request.label))

    async def CopyLabel(self, request, context):
        self._info(request.owner, request.from_label)
        self._check_unlocked(request.owner, request.to_label)
        changed = self._matching(request.owner, request.from_label)
        for f in changed:
            if request.to_label not in f.labels:
                f.labels.append(request.to_label)
        return registry_pb2.LabelChange(files=changed)

    async def SetLabelLock(self, request, context):
        self._info(request.owner, request.label)
        (self.locked.add if request.locked else self.locked.discard)((request.owner, request.label))
        return self._info(request.owner, request.label)

    async def RemoveLabel(self, request, context):
        self._info(request.owner, request.label)
        self._check_unlocked(request.owner, request.label)
        changed = self._matching(request.owner, request.label, request.package, request.version, request.basename)
        for f in changed:
            f.labels.remove(request.label)
        return registry_pb2.LabelChange(files=changed)

    async def AddLabel(self, request, context):
        self._check_unlocked(request.owner, request.label)
        changed = [f for (o, p, v, b), f in sorted(self.files.items()) if o == request.owner and request.package in ("", p)
                   and request.version in ("", v) and request.basename in ("", b)]
        for f in changed:
            if request.label not in f.labels:
                f.labels.append(request.label)
        return registry_pb2.LabelChange(files=changed)

    async def CopyFiles(self, request, context):
        self._check_unlocked(request.to_owner or request.owner, request.to_label)
        changed = self._matching(request.owner, request.from_label, request.package, request.version, request.basename)
        for f in changed:
            if request.to_label not in f.labels:
                f.labels.append(request.to_label)
        return registry_pb2.LabelChange(files=changed)


@pytest.fixture
def fake_registry(blobs):
    reg = LabelRegistry(blobs)
    for version, labels in (("1.0", ["main"]), ("2.0", ["test"])):
        basename = f"noarch/mylib-{version}-0.conda"
        reg.packages[("alice", "mylib")] = registry_pb2.Package(owner="alice", name="mylib", public=True)
        reg.files[("alice", "mylib", version, basename)] = common_pb2.FileRecord(
            owner="alice", package="mylib", version=version, basename=basename, type="conda", labels=labels, sha256="0" * 64)
    return reg


async def test_list_and_show(client, alice):
    r = await client.get("/api/channels/alice", headers=alice)
    assert r.status == 200
    assert await r.json() == {"main": {"is_locked": False, "num_files": 1}, "test": {"is_locked": False, "num_files": 1}}
    r = await client.get("/api/channels/alice/test", headers=alice)
    assert r.status == 200
    body = await r.json()
    assert body["name"] == "test" and body["num_files"] == 1 and [f["basename"] for f in body["files"]] == ["noarch/mylib-2.0-0.conda"]
    r = await client.get("/api/channels/alice/nope", headers=alice)
    assert r.status == 404 and (await r.json())["error"]


async def test_only_the_owner(client, alice, bob):
    for method, path in (("GET", "/api/channels/alice"), ("GET", "/api/channels/alice/main"), ("POST", "/api/channels/alice/main/lock"),
                         ("POST", "/api/channels/alice/test/copy/main"), ("DELETE", "/api/channels/alice/test")):
        anonymous = await client.request(method, path)
        assert anonymous.status == 401 and (await anonymous.json())["error"], (method, path)
        other = await client.request(method, path, headers=bob)
        assert other.status == 403 and (await other.json())["error"], (method, path)


async def test_copy_label(client, alice, fake_registry):
    r = await client.post("/api/channels/alice/test/copy/main", headers=alice)
    assert r.status == 201 and await r.json() == [{"basename": "noarch/mylib-2.0-0.conda"}]
    assert "main" in fake_registry.files[("alice", "mylib", "2.0", "noarch/mylib-2.0-0.conda")].labels
    r = await client.post("/api/channels/alice/nope/copy/main", headers=alice)
    assert r.status == 404


async def test_lock_unlock_and_a_locked_label_refuses_changes(client, alice):
    r = await client.post("/api/channels/alice/main/lock", headers=alice)
    assert r.status == 201 and await r.json() == {"name": "main", "is_locked": True}
    assert (await (await client.get("/api/channels/alice", headers=alice)).json())["main"]["is_locked"] is True
    r = await client.post("/api/channels/alice/test/copy/main", headers=alice)
    assert r.status == 403 and "locked" in (await r.json())["error"]
    r = await client.delete("/api/channels/alice/main", headers=alice)
    assert r.status == 403
    r = await client.delete("/api/channels/alice/main/lock", headers=alice)
    assert r.status == 201 and await r.json() == {"name": "main", "is_locked": False}
    assert (await client.post("/api/channels/alice/nope/lock", headers=alice)).status == 404


async def test_remove_and_add_label(client, alice, fake_registry):
    # anaconda move: the label comes off the release's files in one label, onto another
    r = await client.delete("/api/channels/alice/test", headers=alice, json={"package": "mylib", "version": "2.0"})
    assert r.status == 201 and await r.json() == [{"basename": "noarch/mylib-2.0-0.conda"}]
    r = await client.post("/api/channels/alice/old", headers=alice, json={"package": "mylib", "version": "2.0"})
    assert r.status == 201 and await r.json() == [{"basename": "noarch/mylib-2.0-0.conda"}]
    assert list(fake_registry.files[("alice", "mylib", "2.0", "noarch/mylib-2.0-0.conda")].labels) == ["old"]
    r = await client.delete("/api/channels/alice/test", data=b"{not json", headers={**alice, "Content-Type": "application/json"})
    assert r.status == 400 and (await r.json())["error"]


async def test_copy_package_between_labels(client, alice, fake_registry):
    r = await client.post("/api/copy/package/alice/mylib/1.0/", headers=alice, json={"from_channel": "main", "to_channel": "dev"})
    assert r.status == 200 and await r.json() == [{"basename": "noarch/mylib-1.0-0.conda"}]
    assert "dev" in fake_registry.files[("alice", "mylib", "1.0", "noarch/mylib-1.0-0.conda")].labels
    # nothing matched: a 404 with the JSON error the client prints
    r = await client.post("/api/copy/package/alice/mylib/9.9/", headers=alice, json={"from_channel": "main", "to_channel": "dev"})
    assert r.status == 404 and (await r.json())["error"]
    # into another account needs write access there
    r = await client.post("/api/copy/package/alice/mylib/1.0/", headers=alice, json={"to_owner": "bob", "to_channel": "main"})
    assert r.status == 403
