"""The package's import graph: no cycle, no private name across subpackages, no upward import.

Every ``import`` statement of every module of ``skexplain`` is read with ``ast`` (also those
inside functions: a lazy import of a module that imports you is still a cycle), so the checks
need no import of the package and see optional-dependency code paths too.

A *unit* is a subpackage (``skexplain.metrics``) or a top-level module (``skexplain.kernels``).
A module may use private names (leading underscore) of its own unit only; helpers that two units
share live in ``skexplain.utils`` (or the engine) under public names. Units sit on layers, and an
import goes to the same or a lower layer, never upward: the building blocks (perturbations,
kernels, utils) know nothing of models, explainers or metrics.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "skexplain"

# Bottom to top. A new unit must be placed here (the test below says so).
LAYERS = [
    {
        "utils",
        "_compat",
        "_version",
        "_engine",
        "_masking",
        "_simplex_qp",
        "_neighbors",
        "functions",
    },
    {"kernels", "perturbations"},
    {"models"},
    {"base"},
    {"explainers", "metrics"},
    {"aggregation", "optimization", "training", "_evaluation"},
    {"display", "_interop"},
    {"report"},
    {"_cli", "__main__", ""},  # "" is the package itself (skexplain/__init__.py)
    # sklearn.utils.discovery's place: it walks every explainer, so it sits above them all.
    {"utils.discovery"},
]
LAYER = {unit: level for level, units in enumerate(LAYERS) for unit in units}


def _modules(package=PACKAGE):
    """``{dotted name: (path, is_package)}`` of every module of the package."""
    found = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def _imports(modules):
    """``[(importer, imported module, name or None)]`` for every import inside the package."""
    edges = []
    for module, (path, is_package) in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                edges += [(module, a.name, None) for a in node.names if a.name in modules]
            elif isinstance(node, ast.ImportFrom):
                source = node.module or ""
                if node.level:
                    here = module.split(".") if is_package else module.split(".")[:-1]
                    here = here[: len(here) - (node.level - 1)]
                    source = ".".join(here + ([node.module] if node.module else []))
                if source not in modules:
                    continue
                for alias in node.names:
                    submodule = f"{source}.{alias.name}"
                    if submodule in modules:
                        edges.append((module, submodule, None))
                    else:
                        edges.append((module, source, alias.name))
    return [edge for edge in edges if edge[0] != edge[1]]


def _unit(module):
    if module == "skexplain.utils.discovery":
        return "utils.discovery"
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _cycles(edges):
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    graph = {}
    for importer, imported, _ in edges:
        graph.setdefault(importer, set()).add(imported)
        graph.setdefault(imported, set())
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def _private_imports(edges):
    """Imports of a private name or module from outside the importer's own unit."""
    bad = []
    for importer, imported, name in edges:
        if importer.split(".")[:2] == imported.split(".")[:2]:  # the same subpackage
            continue
        inner = imported.split(".")[2:]  # below the unit: a private module of another unit
        if any(part.startswith("_") for part in inner) or (name or "").startswith("_"):
            if name != "__version__":
                bad.append((importer, imported, name))
    return bad


def _upward_imports(edges):
    return [
        (importer, imported, name)
        for importer, imported, name in edges
        if LAYER[_unit(imported)] > LAYER[_unit(importer)]
    ]


MODULES = _modules()
EDGES = _imports(MODULES)


def test_the_walk_sees_the_package():
    # Guards the walk itself: a broken parser would make every check below vacuous.
    assert {"skexplain.models", "skexplain.models._base", "skexplain.metrics.scorer"} <= set(
        MODULES
    )
    assert ("skexplain.base", "skexplain.models", "as_model") in EDGES
    assert ("skexplain.explainers.smoothgrad", "skexplain.explainers._noise", "NoiseExplainer") in (
        EDGES
    )


def test_every_unit_has_a_layer():
    assert {_unit(module) for module in MODULES} <= set(LAYER), "place the new unit in LAYERS"


def test_no_import_cycle():
    assert _cycles(EDGES) == []


def test_no_private_name_crosses_a_unit():
    assert _private_imports(EDGES) == []


def test_no_layer_imports_upward():
    assert _upward_imports(EDGES) == []


def test_nothing_in_the_package_imports_discovery():
    assert [e for e in EDGES if e[1] == "skexplain.utils.discovery"] == []


def test_building_blocks_know_nothing_of_models_explainers_or_metrics():
    low = {"perturbations", "kernels", "utils", "_engine"}
    high = {"models", "explainers", "metrics", "base"}
    assert [e for e in EDGES if _unit(e[0]) in low and _unit(e[1]) in high] == []


# -- the checks can fail: each on a small package written for it -----------------------------
@pytest.fixture
def toy(tmp_path):
    def build(files):
        root = tmp_path / "skexplain"
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return _imports(_modules(root))

    return build


def test_a_cycle_through_a_lazy_import_is_found(toy):
    edges = toy(
        {
            "__init__.py": "",
            "a.py": "from .b import f\n",
            "b.py": "def f():\n    from .a import g\n",
        }
    )
    assert _cycles(edges) == [["skexplain.a", "skexplain.b"]]


def test_a_private_name_from_another_unit_is_found(toy):
    edges = toy(
        {
            "__init__.py": "",
            "m/__init__.py": "",
            "m/_x.py": "_h = 1\n",
            "m/y.py": "from ._x import _h\n",  # its own unit: allowed
            "k.py": "from .m._x import _h\nfrom .m import y\n",
        }
    )
    assert _private_imports(edges) == [("skexplain.k", "skexplain.m._x", "_h")]


def test_an_upward_import_is_found(toy):
    edges = toy(
        {"__init__.py": "", "models.py": "", "perturbations.py": "from .models import as_model\n"}
    )
    assert _upward_imports(edges) == [("skexplain.perturbations", "skexplain.models", "as_model")]
