"""Private packages and their authorized users (issue 5).

The registry only records who is on a package's list and whether it is public; deciding
who may read what is the gateway's policy module (it combines this with auth-svc's groups).
A visibility change is announced (package.privacy_changed, with the package's files) in
the same atomic write as the change, so every index moves the package between its public
and private views.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pkgcloud_protos.v1 import events_pb2
from pkgcloud_servicekit import audit
from pkgcloud_servicekit.errors import Invalid, NotFound
from pkgcloud_servicekit.events import new_event

from . import names
from .convert import file_record
from .store import PackageRecord, RegistryStore, StoredFile

SEARCH_LIMIT = 100
SEARCH_LIMIT_MAX = 500


@dataclass(frozen=True)
class ReadAccess:
    """What one caller may read of one owner, as the gateway's policy resolved it and sent it
    along (the gateway's policy.ReadAccess): every package, or the public ones plus the
    private ones named (lowercase)."""

    everything: bool = False
    packages: frozenset[str] = frozenset()

    def may_read(self, package: PackageRecord) -> bool:
        return package.public or self.everything or package.name.lower() in self.packages


def _login(login: str) -> str:
    # auth-svc stores logins lowercase; the list holds them the same way
    login = (login or "").strip().lower()
    try:
        names.validate_owner(login)
    except Invalid:
        raise Invalid(f"invalid user name {login!r}") from None
    return login


class PackageAccessManager:
    def __init__(self, store: RegistryStore, notify: Callable[[], None], now_ms: Callable[[], int]):
        self.store = store
        self._notify = notify
        self._now_ms = now_ms

    async def set_public(self, owner: str, name: str, public: bool) -> PackageRecord:
        names.validate_owner(owner)
        names.validate_package(name)

        def event(pkg: PackageRecord, files: list[StoredFile]) -> events_pb2.Event:
            changed = events_pb2.PackagePrivacyChanged(
                package=pkg.name, public=pkg.public, files=[file_record(f, package_public=pkg.public) for f in files],
            )
            return new_event(pkg.owner, package_privacy_changed=changed)

        before = await self.store.get_package(owner, name)
        entries = [audit.entry(owner, "package.public" if public else "package.private", f"{owner}/{name}")]
        pkg = await self.store.set_package_public(owner, name, public, self._now_ms(), event, audit_entries=entries)
        if pkg is None:
            raise NotFound("Package not found")
        if before is not None and before.public != pkg.public:
            self._notify()
        return pkg

    async def collaborators(self, owner: str, name: str) -> list[str]:
        names.validate_owner(owner)
        names.validate_package(name)
        logins = await self.store.list_collaborators(owner, name)
        if logins is None:
            raise NotFound("Package not found")
        return logins

    async def add_collaborator(self, owner: str, name: str, login: str) -> list[str]:
        names.validate_owner(owner)
        names.validate_package(name)
        who = _login(login)
        entries = [audit.entry(owner, "collaborator.add", f"{owner}/{name}/collaborators/{who}")]
        logins = await self.store.add_collaborator(owner, name, who, audit_entries=entries)
        if logins is None:
            raise NotFound("Package not found")
        return logins

    async def remove_collaborator(self, owner: str, name: str, login: str) -> list[str]:
        names.validate_owner(owner)
        names.validate_package(name)
        who = _login(login)
        entries = [audit.entry(owner, "collaborator.remove", f"{owner}/{name}/collaborators/{who}")]
        logins = await self.store.remove_collaborator(owner, name, who, audit_entries=entries)
        if logins is None:
            raise NotFound("Package not found")
        return logins

    async def collaborations(self, login: str, owner: str) -> list[str]:
        login = (login or "").strip().lower()
        if not login or not owner:
            return []
        return await self.store.collaborations(login, owner)

    async def search(self, name: str, package_type: str = "", platform: str = "", limit: int = 0, *,
                     newest_first: bool = False, public_only: bool = False) -> list[tuple[PackageRecord, list[str], list[StoredFile]]]:
        """Packages whose name contains `name`, with their versions (clients print the
        latest) and files; narrowed by package type and conda platform (subdir) when given."""
        limit = min(limit or SEARCH_LIMIT, SEARCH_LIMIT_MAX)
        out = []
        found = await self.store.search_packages((name or "").strip(), limit, newest_first=newest_first, public_only=public_only)
        for pkg in found:
            if package_type and package_type not in pkg.package_types:
                continue
            files = await self.store.list_files(pkg.owner, pkg.name)
            if platform and not any(f.type == "conda" and f.subdir == platform for f in files):
                continue
            versions = [r.version for r in await self.store.list_releases(pkg.owner, pkg.name)]
            out.append((pkg, versions, files))
        return out
