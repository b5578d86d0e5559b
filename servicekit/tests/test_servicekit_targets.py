"""targets.start_order: dependencies first, only among the wanted targets; cycles and unknown
names are refused with a message naming them."""

from __future__ import annotations

import pytest
from pkgcloud_servicekit.targets import Target, start_order


async def _start(runtime):  # never called: start_order only reads names and dependencies
    raise AssertionError


def targets(**deps: tuple[str, ...]) -> dict[str, Target]:
    return {name: Target(name=name, start=_start, depends=d) for name, d in deps.items()}


ALL = targets(auth=(), registry=("auth",), index=("registry",), render=("registry",), gateway=("auth", "registry", "index", "render"))


def test_dependencies_start_first():
    order = start_order(ALL, ["gateway", "render", "index", "registry", "auth"])
    assert order.index("auth") < order.index("registry") < order.index("index") < order.index("gateway")
    assert order.index("registry") < order.index("render") < order.index("gateway")
    assert sorted(order) == sorted(ALL)


def test_order_is_deterministic_depth_first():
    # dependencies in their declared order, then the requested targets in request order
    assert start_order(ALL, ["auth", "registry", "index", "render", "gateway"]) == ["auth", "registry", "index", "render", "gateway"]
    assert start_order(ALL, ["gateway", "render", "index", "registry", "auth"]) == ["auth", "registry", "index", "render", "gateway"]
    assert start_order(ALL, ["render", "index", "registry", "auth"]) == ["auth", "registry", "render", "index"]


def test_single_target_does_not_pull_in_its_dependencies():
    # `pkgcloud serve --target index`: its peers run elsewhere and are reached over gRPC
    assert start_order(ALL, ["index"]) == ["index"]
    assert start_order(ALL, ["index", "auth"]) == ["index", "auth"]


def test_each_target_once():
    assert start_order(ALL, ["registry", "registry", "auth"]) == ["auth", "registry"]


def test_a_cycle_is_refused():
    cyclic = targets(a=("b",), b=("c",), c=("a",))
    with pytest.raises(RuntimeError, match="dependency cycle: a -> b -> c -> a"):
        start_order(cyclic, ["a", "b", "c"])


def test_an_unknown_target_is_refused():
    with pytest.raises(RuntimeError, match=r"unknown target 'nope'; known: auth, gateway, index, registry, render"):
        start_order(ALL, ["auth", "nope"])
