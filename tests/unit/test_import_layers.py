"""The import layers of ``services/`` and ``schemas/`` (issue 13, decision record 0028).

Every ``import`` and ``from … import`` is read with ``ast`` (inside functions and under
``TYPE_CHECKING`` too: a lazy import is still a dependency). Two graphs are checked:

- packages (``services.intake``, ``services.casework``, ``services.calendar``, ``schemas`` …,
  and the top-level modules ``services.bootstrap``, ``services.cli``, ``services.migrate``):
  no cycle at all;
- the same packages in ``LAYERS``: none imports a package of a higher layer;
- modules: no cycle except the ones listed in ``KNOWN_MODULE_CYCLES``, each naming the
  issue item that removes it. A new cycle fails, and so does a listed one that grew, shrank
  or went away (then delete it from the list).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOPS = ("services", "schemas")

# Module cycles tolerated for a while, each with the item that removes it. None today: issue
# 13 items 1 and 6 removed the last ones (pages ↔ more_pages, the demo's).
KNOWN_MODULE_CYCLES: frozenset[frozenset[str]] = frozenset()

# The import layers, lowest first (decision record 0028): a package may import its own layer's
# packages' modules only if that makes no cycle, and any package of a lower layer.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"schemas", "services"}),  # services: its __init__, which imports nothing
    frozenset({"services.calendar"}),  # the working-day calendar and the time limits
    frozenset({"services.common"}),
    frozenset({"services.accounts"}),
    frozenset({"services.intake", "services.casework"}),
    frozenset({"services.projections"}),
    frozenset({"services.web", "services.migrate"}),
    frozenset({"services.bootstrap"}),  # the composition root
    frozenset({"services.demo"}),
    frozenset({"services.cli"}),
)


def _modules() -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package's __init__)."""
    found: dict[str, tuple[Path, bool]] = {}
    for top in TOPS:
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            found[".".join(parts)] = (path, is_package)
    return found


def _imported_names(tree: ast.AST, package: str) -> Iterable[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            # ``from a import b`` imports module ``a.b`` when there is one, else a name in ``a``.
            yield from (f"{base}.{alias.name}" for alias in node.names)


def module_graph() -> dict[str, set[str]]:
    """Each module of services/ and schemas/ -> the modules of services/ and schemas/ it imports."""
    modules = _modules()

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, (path, is_package) in modules.items():
        package = name if is_package else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = {resolve(t) for t in _imported_names(tree, package)}
        graph[name] = {t for t in targets if t is not None and t != name}
    return graph


def package_of(module: str) -> str:
    """``services.casework.domain`` -> ``services.casework``; ``schemas.views`` -> ``schemas``;
    a module directly under services/ (``services.cli``) is its own node."""
    parts = module.split(".")
    if parts[0] == "services":
        return ".".join(parts[:2])
    return parts[0]


def package_graph(modules: Mapping[str, set[str]]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {package_of(m): set() for m in modules}
    for module, targets in modules.items():
        for target in targets:
            if package_of(target) != package_of(module):
                graph[package_of(module)].add(package_of(target))
    return graph


def cycles(graph: Mapping[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components with more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def _describe(component: frozenset[str], graph: Mapping[str, set[str]]) -> str:
    edges = [f"{a} -> {b}" for a in sorted(component) for b in sorted(graph[a] & component)]
    return "{" + ", ".join(sorted(component)) + "}: " + "; ".join(edges)


def test_the_cycle_finder_finds_cycles_and_only_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}, "f": set()}
    assert cycles(graph) == [frozenset({"a", "b", "c"})]


def test_the_graph_sees_imports_inside_functions() -> None:
    graph = module_graph()
    # services/cli/admin.py imports the calendar inside a command function only.
    assert "services.calendar.deadlines" in graph["services.cli.admin"]
    assert {"services.calendar", "services.casework", "services.common", "schemas"} <= set(
        package_graph(graph)
    )


def test_no_package_imports_itself_through_another() -> None:
    graph = package_graph(module_graph())
    found = [_describe(c, graph) for c in cycles(graph)]
    assert not found, "package import cycles (decision record 0028):\n" + "\n".join(found)


def test_module_cycles_are_only_the_known_ones() -> None:
    graph = module_graph()
    found = set(cycles(graph))
    new = [_describe(c, graph) for c in found - KNOWN_MODULE_CYCLES]
    assert not new, "new module import cycles:\n" + "\n".join(new)
    gone = [", ".join(sorted(c)) for c in KNOWN_MODULE_CYCLES - found]
    assert not gone, "no longer cycles; delete from KNOWN_MODULE_CYCLES: " + "; ".join(gone)


def test_each_package_imports_only_its_own_layer_and_below() -> None:
    graph = package_graph(module_graph())
    layer = {package: n for n, members in enumerate(LAYERS) for package in members}
    unplaced = sorted(set(graph) - set(layer))
    assert not unplaced, f"put these packages in LAYERS: {unplaced}"
    upward = [
        f"{a} (layer {layer[a]}) -> {b} (layer {layer[b]})"
        for a in sorted(graph)
        for b in sorted(graph[a])
        if layer[b] > layer[a]
    ]
    assert not upward, "imports up the layers (decision record 0028):\n" + "\n".join(upward)


def test_the_calendar_is_below_every_service() -> None:
    graph = package_graph(module_graph())
    assert graph["services.calendar"] <= {"schemas"}, graph["services.calendar"]
    for user in ("services.intake", "services.casework", "services.projections", "services.common"):
        assert "services.calendar" in graph[user], user


def test_the_pages_desks_import_only_the_shell() -> None:
    """Decision record 0030: a desk of services/web/desks/ imports the shell and the shared
    helpers, never another desk or the assembly (services/web/pages.py); the shell imports
    no desk."""
    graph = module_graph()
    desks = {m for m in graph if m.startswith("services.web.desks.")}
    assert len(desks) >= 8, sorted(desks)
    above = desks | {"services.web.pages"}
    crossing = [f"{m} -> {t}" for m in sorted(desks) for t in sorted(graph[m] & above)]
    shell = {m for m in graph if m == "services.web.shell" or m.startswith("services.web.shell.")}
    crossing += [f"{m} -> {t}" for m in sorted(shell) for t in sorted(graph[m] & above)]
    assert not crossing, "the pages' desks import each other:\n" + "\n".join(crossing)
