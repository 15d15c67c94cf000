"""The import layering of thx/: every import points down a layer, except a short commented allowlist.

The layers, bottom to top, are documented in docs/architecture.md.  This test parses every
``import`` in ``thx/`` (module level and inside functions) with ``ast``, gives each module its
layer, and fails on an import that climbs, on an import cycle outside the one tolerated inside
``thx/tensor/``, and on a JAX import below ``thx/lowering/``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "thx"

# (module prefix, layer); the longest matching prefix wins.
LAYERS: list[tuple[str, int]] = [
    ("thx.config", 0),
    ("thx.graph", 1),
    ("thx.gradient", 2),
    ("thx.gradient_subgraph", 2),
    ("thx.tensor", 3),
    ("thx.scalar", 3),
    ("thx.scan", 4),
    ("thx.ifelse", 4),
    ("thx.scan_module", 4),
    ("thx.sandbox", 4),
    ("thx.op_from_graph", 4),
    ("thx.updates", 4),
    ("thx.sparse", 4),  # theano.sparse: SciPy matrices, ops run on the host between segments
    ("thx.rewriting", 5),
    ("thx.lowering", 6),
    ("thx.compile", 7),
    ("thx.printing", 8),
    ("thx.check", 8),
    ("thx.alias", 8),
    ("thx.d3viz", 8),
    ("thx.misc", 8),  # theano.misc.pkl_utils: zip files of a pickle and its arrays  # theano.d3viz: the HTML viewer and DOT text of thx.printing
    ("thx.__main__", 8),  # the CLI
    ("thx", 8),  # thx/__init__.py: the public top level
]

# The only imports allowed to climb: (importer, imported), each needed by design.
ALLOWED_UPWARD: set[tuple[str, str]] = {
    # Variable.eval() compiles and runs its graph: the graph layer's one call into compile.
    ("thx.graph.basic", "thx.compile.function"),
    # jacobian/hessian loop over the cost's entries with scan (a layer above gradient's core).
    ("thx.gradient", "thx.scan"),
}

LOWEST_JAX_LAYER = 6  # thx.lowering


def layer_of(module: str) -> int:
    best = None
    for prefix, layer in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, layer)
    assert best is not None, f"module {module} has no layer in LAYERS"
    return best[1]


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(module: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_pkg:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _existing(name: str, modules: set[str]) -> str:
    """The longest prefix of a dotted name that is a thx module (``thx.tensor.exp`` -> ``thx.tensor``)."""
    parts = name.split(".")
    while parts:
        cand = ".".join(parts)
        if cand in modules:
            return cand
        parts.pop()
    return name


def _lazy_target(call: ast.Call) -> str | None:
    """The module named by ``import_module("thx...")`` / ``_LazyModule("thx...")``, else None."""
    f = call.func
    name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
    if name in ("import_module", "_LazyModule", "__import__") and call.args:
        arg = call.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value.startswith("thx"):
            return arg.value
    return None


def collect() -> dict[str, list[tuple[str, int, bool]]]:
    """module -> [(imported thx module or external top name, line, at module level)]."""
    files = sorted(ROOT.rglob("*.py"))
    modules = {module_name(f) for f in files}
    out: dict[str, list[tuple[str, int, bool]]] = {}
    for f in files:
        mod = module_name(f)
        is_pkg = f.name == "__init__.py"
        tree = ast.parse(f.read_text(), str(f))
        top_level = {id(n) for n in tree.body}
        # imports under `if TYPE_CHECKING:` do not run
        type_only: set[int] = set()
        for n in ast.walk(tree):
            if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test):
                for m in ast.walk(n):
                    type_only.add(id(m))
        edges = []
        for n in ast.walk(tree):
            if id(n) in type_only:
                continue
            names: list[str] = []
            if isinstance(n, ast.Call) and _lazy_target(n):
                # importlib.import_module("thx.x") and var.py's _LazyModule("thx.x") import too
                names = [_lazy_target(n)]
            elif isinstance(n, ast.Import):
                names = [a.name for a in n.names]
            elif isinstance(n, ast.ImportFrom):
                base = _resolve(mod, is_pkg, n)
                if base.startswith("thx"):
                    # `from thx.tensor import basic` imports the submodule thx.tensor.basic
                    names = [
                        f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in n.names
                    ]
                else:
                    names = [base]
            else:
                continue
            for name in names:
                target = _existing(name, modules) if name.startswith("thx") else name
                edges.append((target, n.lineno, id(n) in top_level))
        out[mod] = edges
    return out


IMPORTS = collect()


def test_every_module_has_a_layer():
    for mod in IMPORTS:
        layer_of(mod)


def test_no_upward_imports():
    bad = []
    used = set()
    for mod, edges in IMPORTS.items():
        for target, line, _ in edges:
            if not target.startswith("thx") or target == mod:
                continue
            if layer_of(target) > layer_of(mod):
                key = (mod, _existing_pkg(target))
                if key in ALLOWED_UPWARD:
                    used.add(key)
                    continue
                bad.append(f"{mod}:{line} imports {target} (layer {layer_of(mod)} -> {layer_of(target)})")
    assert not bad, "upward imports:\n" + "\n".join(bad)
    assert len(ALLOWED_UPWARD) <= 2
    assert used == ALLOWED_UPWARD, f"stale allowlist entries: {ALLOWED_UPWARD - used}"


def _existing_pkg(target: str) -> str:
    for _, allowed in ALLOWED_UPWARD:
        if target == allowed or target.startswith(allowed + "."):
            return allowed
    return target


def test_upward_imports_are_commented():
    """Each allowed upward import has a comment on its line or the line above saying why."""
    for mod, edges in IMPORTS.items():
        for target, line, _ in edges:
            if target.startswith("thx") and layer_of(target) > layer_of(mod):
                path = ROOT.parent / (mod.replace(".", "/") + ".py")
                if not path.exists():
                    path = ROOT.parent / mod.replace(".", "/") / "__init__.py"
                lines = path.read_text().splitlines()
                near = lines[line - 1] + lines[line - 2]
                assert "#" in near, f"{mod}:{line}: upward import of {target} needs a comment saying why"


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on: set[str] = set()
    stack: list[str] = []
    comps = []
    counter = [0]
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in edges:
                    continue
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        comps.append(sorted(comp))
    return comps


def test_no_import_cycles_except_inside_tensor():
    """Cycles through package __init__ re-exports are ignored: a child importing its own package's
    __init__ is how Python loads siblings, not a dependency on the re-exports."""
    graph: dict[str, set[str]] = {m: set() for m in IMPORTS}
    for mod, edges in IMPORTS.items():
        for target, _, _ in edges:
            if not target.startswith("thx") or target == mod:
                continue
            # the two allowed upward imports are function-level by design; they do not make a cycle
            if (mod, _existing_pkg(target)) in ALLOWED_UPWARD:
                continue
            # a package __init__ only re-exports; depending on it means depending on its parts,
            # which are already edges of their own.  (thx/lowering/__init__.py's load_families
            # imports the op families by name, a plugin list the registry loads on first lookup.)
            if target in IMPORTS and _is_package(target) and mod.startswith(target + "."):
                continue
            graph[mod].add(target)
    comps = _cycles(graph)
    outside = [c for c in comps if not all(m.startswith("thx.tensor") for m in c)]
    assert not outside, f"import cycles: {outside}"
    assert len(comps) <= 1, f"more than one tolerated cycle inside thx/tensor: {comps}"


def _is_package(mod: str) -> bool:
    return (ROOT.parent / mod.replace(".", "/") / "__init__.py").exists()


def test_no_jax_below_lowering():
    bad = [
        f"{mod}:{line}"
        for mod, edges in IMPORTS.items()
        for target, line, _ in edges
        if target.split(".")[0] in ("jax", "jaxlib") and layer_of(mod) < LOWEST_JAX_LAYER
    ]
    assert not bad, f"JAX imported below thx/lowering: {bad}"


_SOURCES = sorted(ROOT.rglob("*.py"))


@pytest.mark.parametrize("path", _SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_file_length(path):
    n = len(path.read_text().splitlines())
    assert n <= 700, f"{path} has {n} lines (limit 700)"
