"""The gateway's modules import each other without cycles (issue 11: a thin edge). Imports
inside functions count too (a lazy import is a cycle in hiding); `if TYPE_CHECKING:` blocks
do not (they never run)."""

from __future__ import annotations

import ast
from pathlib import Path

import pkgcloud_gateway

PACKAGE = Path(pkgcloud_gateway.__file__).parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for n in ast.walk(node)}
    out = set()
    for node in ast.walk(tree):
        if id(node) in skipped or not isinstance(node, ast.ImportFrom):
            continue
        if node.level == 1 and node.module:
            out.add(node.module.split(".")[0])
        elif node.level == 1:
            out |= {alias.name for alias in node.names}
        elif node.module and node.module.startswith("pkgcloud_gateway."):
            out.add(node.module.split(".")[1])
    return out


def _graph() -> dict[str, set[str]]:
    modules = {p.stem: p for p in PACKAGE.glob("*.py")}
    return {name: {m for m in _imports(path) if m in modules and m != name} for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_the_graph_is_read():
    graph = _graph()
    assert {"access", "routing", "jsonapi"} <= graph["api"] and "api" in graph["app"]


def test_no_import_cycles_between_gateway_modules():
    cycles = _cycles(_graph())
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_checker_sees_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
