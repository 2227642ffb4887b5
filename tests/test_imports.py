"""The package's import graph: no cycles, and the floors of DESIGN.md.

Read from the source with ``ast`` (nothing is imported): every ``import`` and
``from ... import`` of ``agser/**/*.py``, at module level or inside a function,
is an edge from the importing module to the module it names. ``from
agser.x import y`` names ``agser.x.y`` when that is a module, else
``agser.x``. A package's ``__init__`` is the module ``agser.x``; importing
``agser.x.y`` is not counted as importing ``agser.x`` (Python runs the
package's ``__init__`` first, but that is no dependency of the importer on it).
"""

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "agser"
#: Entry points: they parse, call and show; they may import the run layer.
ENTRY_POINTS = ("agser.cli", "agser.book", "agser.__main__")
RUN_LAYER = "agser.run"


def _module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(module, node):
    """Absolute module name of an ImportFrom's base (relative imports resolved)."""
    if not node.level:
        return node.module
    base = module.split(".")
    is_package = MODULES[module].name == "__init__.py"
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def _in_package(name):
    """The longest prefix of ``name`` that is a module of the package (None outside it)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in MODULES:
            return candidate
        parts.pop()
    return None


@functools.lru_cache(maxsize=1)
def import_graph():
    """``{module: {imported module: first line number}}`` over the package's own modules."""
    graph = {}
    for module, path in MODULES.items():
        edges = graph.setdefault(module, {})
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, node)
                if base is None:
                    continue
                # "from agser.x import y": the module agser.x.y where there is one
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                           for alias in node.names]
            for target in targets:
                name = _in_package(target)
                if name is not None and name != module:
                    edges.setdefault(name, node.lineno)
    return graph


def _cycles(graph):
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _a_cycle(graph, component):
    """One cycle through the component, as 'a (line) -> b (line) -> ... -> a'."""
    comp = set(component)
    start = component[0]
    path, seen = [start], {start}
    while True:
        nxt = sorted(w for w in graph[path[-1]] if w in comp)
        back = [w for w in nxt if w == start]
        step = back[0] if back and len(path) > 1 else next((w for w in nxt if w not in seen), start)
        path.append(step)
        if step == start:
            break
        seen.add(step)
    return " -> ".join(f"{a} (line {graph[a][b]})" for a, b in zip(path, path[1:])) + f" -> {start}"


def test_the_graph_sees_real_imports():
    """The reader finds module-level and function-level imports (else the tests below are empty)."""
    graph = import_graph()
    assert len(MODULES) > 30
    assert "agser.run.schema" in graph["agser.run.run"]  # module level, absolute
    assert "agser.run.extraction" in graph["agser.run.run"]  # inside a method
    assert "agser.errors" in graph["agser.store"]
    cli = graph["agser.cli.cluster"]
    assert "agser.run" in cli or "agser.run.run" in cli


def test_no_two_modules_import_each_other():
    graph = import_graph()
    cycles = _cycles(graph)
    assert cycles == [], "import cycles:\n" + "\n".join(
        f"  {', '.join(c)}\n    e.g. {_a_cycle(graph, c)}" for c in cycles)


def _is_within(module, prefix):
    return module == prefix or module.startswith(prefix + ".")


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not _is_within(m, RUN_LAYER)
                                          and not any(_is_within(m, e) for e in ENTRY_POINTS)))
def test_stages_do_not_import_the_run_layer(module):
    """Only the entry points (cli, book) and the run layer itself know params.yaml, the work
    folder and the store of a run: a stage must not reach up into agser.run."""
    up = {t: line for t, line in import_graph()[module].items() if _is_within(t, RUN_LAYER)}
    assert up == {}, f"{module} imports the run layer: " + ", ".join(
        f"{t} (line {line} of {MODULES[module].relative_to(PACKAGE.parent)})" for t, line in up.items())


def test_the_run_layer_does_not_import_the_entry_points():
    graph = import_graph()
    up = {(m, t): line for m in graph if _is_within(m, RUN_LAYER) for t, line in graph[m].items()
          if any(_is_within(t, e) for e in ENTRY_POINTS)}
    assert up == {}, f"the run layer imports entry points: {up}"
