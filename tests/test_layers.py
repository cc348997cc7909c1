"""Imports go one way, in the layer order of veil.util.layers (stated there once, as data).

The walker reads every .py file under the folders pyproject.toml maps onto veil.* (so a new
mapping is walked, and must be placed in the order), and every import in it: module level
and inside functions (lazy), relative ones resolved, `import a.b.c` as a.b.c. An import
`from p import x` is an edge to p.x when that is a module, else to p itself.

- No module imports a higher layer or a peer unit (all offenders in one message).
- The graph of all those imports among veil modules has no cycle. Function-level imports are
  edges too, so with no cycle here no lazy import can exist only to break a loop.
- The walker finds the tree (> 100 modules, some lazy imports) and reads a known snippet
  right, so neither check can pass by finding nothing.
"""
from __future__ import annotations

import ast
import tomllib
from functools import cache
from pathlib import Path
from typing import NamedTuple

import networkx as nx
import pytest

from veil.util.layers import LAYERS, SUBLAYERS

ROOT = Path(__file__).resolve().parents[1]
SETUP = tomllib.loads((ROOT / "pyproject.toml").read_text())


class Import(NamedTuple):
    source: str
    target: str
    line: int
    lazy: bool


@cache
def modules() -> dict[str, Path]:
    """Dotted name -> file, for every .py under the folders mapped onto veil.*."""
    out: dict[str, Path] = {}
    for package, folder in SETUP["tool"]["setuptools"]["package-dir"].items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            name = ".".join((package, *(parts[:-1] if parts[-1] == "__init__" else parts)))
            assert name not in out, f"{name} is both {out[name]} and {path}"
            out[name] = path
    return out


def imports_of(name: str, source: str, is_package: bool, known) -> list[Import]:
    """Every veil import in `source` (module `name`), with its line and whether it is lazy."""
    package = name if is_package else name.rpartition(".")[0]
    out: list[Import] = []

    def visit(node: ast.AST, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                targets = [a.name for a in child.names]
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    up = package.split(".")[:len(package.split(".")) - (child.level - 1)]
                    base = ".".join(up + [base] if base else up)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                           for a in child.names]
            else:
                targets = []
            out.extend(Import(name, t, child.lineno, lazy) for t in targets
                       if t == "veil" or t.startswith("veil."))
            visit(child, lazy or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                    ast.Lambda)))
    visit(ast.parse(source), False)
    return out


@cache
def all_imports() -> list[Import]:
    mods = modules()
    return [i for name, path in mods.items()
            for i in imports_of(name, path.read_text(), path.name == "__init__.py", mods)]


def placement(module: str, order=LAYERS) -> tuple[tuple[int, str], ...] | None:
    """(layer index, unit) at each level of SUBLAYERS nesting; None if no unit matches."""
    hits = [(len(unit), i, unit) for i, layer in enumerate(order) for unit in layer
            if module == unit or module.startswith(unit + ".")]
    if not hits:
        return None
    _, i, unit = max(hits)
    inner = SUBLAYERS.get(unit)
    if inner is None or inner is order:
        return ((i, unit),)
    rest = placement(module, inner)
    return None if rest is None else ((i, unit), *rest)


def broken_rule(source: str, target: str) -> str | None:
    for (i, u), (j, v) in zip(placement(source) or (), placement(target) or ()):
        if u != v:
            return None if j < i else f"{u} imports {'peer' if j == i else 'higher'} {v}"
    return None


def where(imp: Import) -> str:
    lazy = " (lazy)" if imp.lazy else ""
    return f"{modules()[imp.source].relative_to(ROOT)}:{imp.line}{lazy} -> {imp.target}"


def test_every_folder_is_mapped_and_placed():
    mapped = SETUP["tool"]["setuptools"]["package-dir"]
    units = {unit for layer in LAYERS for unit in layer}
    assert set(mapped) == units, "pyproject package-dir and veil.util.layers.LAYERS differ"
    tests = SETUP["tool"]["pytest"]["ini_options"]["testpaths"]
    skip = {ROOT / f for f in [*mapped.values(), *tests]}
    unmapped = [p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent not in skip]
    assert not unmapped, f"package folders not in pyproject package-dir: {unmapped}"
    unplaced = [m for m in modules() if placement(m) is None]
    assert not unplaced, f"modules in no unit of veil.util.layers: {unplaced}"


def test_no_module_imports_a_higher_layer():
    bad = [f"{where(i)}: {why}" for i in all_imports() if (why := broken_rule(i.source, i.target))]
    if bad:
        pytest.fail(f"{len(bad)} imports against veil.util.layers:\n" + "\n".join(bad))


def test_no_import_cycles():
    graph = nx.DiGraph()
    for imp in all_imports():
        if imp.source != imp.target and not graph.has_edge(imp.source, imp.target):
            graph.add_edge(imp.source, imp.target, imp=imp)
    found = []
    for scc in sorted(map(sorted, nx.strongly_connected_components(graph))):
        if len(scc) > 1:
            cycle = nx.find_cycle(graph.subgraph(scc))
            found.append(f"{len(scc)} modules {scc}, e.g.\n" + "\n".join(
                f"    {where(graph.edges[e]['imp'])}" for e in cycle))
    if found:
        pytest.fail(f"{len(found)} import cycles (lazy imports included):\n" + "\n".join(found))


def test_walker_finds_the_tree_and_reads_imports_right():
    mods, imports = modules(), all_imports()
    assert len(mods) > 100
    assert {"veil.cli", "veil.util.atomic", "veil.backends.yao.backend"} <= set(mods)
    assert any(i.lazy for i in imports) and any(not i.lazy for i in imports)
    snippet = ("import veil.a.b\nfrom . import m, f\nfrom ..c import g\n"
               "class K:\n    from veil import x\n    def run(self):\n        from .m import y\n")
    got = imports_of("veil.p.q", snippet, False, {"veil.p.m"})
    assert [tuple(i)[1:] for i in got] == [
        ("veil.a.b", 1, False), ("veil.p.m", 2, False), ("veil.p", 2, False),
        ("veil.c", 3, False), ("veil", 5, False), ("veil.p.m", 7, True)]
