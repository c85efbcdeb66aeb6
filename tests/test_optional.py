"""The heavy packages are optional: importing skexplain loads none of them, and each part that
needs one, used without it, raises an ImportError naming the extra that installs it.

A missing package is simulated in a fresh interpreter by an import hook that refuses it (as if
it were not installed: ``sys.modules[name] = None`` would also hide it from the libraries that
probe ``sys.modules``, such as scipy's array-API helpers probing torch). The real core install
is checked by ``.ci/core_install_check.py`` in a fresh virtual environment (``.ci/run``).
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from skexplain.utils._optional import (
    OPTIONAL_DEPENDENCIES,
    MissingOptionalDependency,
    import_optional,
)

ROOT = Path(__file__).parents[1]
HEAVY = ("torch", "shap", "lime", "cvxpy", "matplotlib", "pandas", "faiss", "skops", "dask")

BLOCK = """
import importlib.abc
import sys

class _NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _NotInstalled())
"""


def _run(code, blocked=()):
    script = f"BLOCKED = {tuple(blocked)!r}\n{BLOCK}\n{textwrap.dedent(code)}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_importing_skexplain_loads_no_optional_package():
    # scikit-learn itself imports pandas when it is installed (sklearn.utils.fixes): what
    # skexplain must not add is measured against what importing scikit-learn loads.
    out = _run(
        f"""
        import sys
        import sklearn.base, sklearn.utils.validation
        before = {{m for m in {HEAVY!r} if m in sys.modules}}
        import skexplain, skexplain.metrics, skexplain.explainers, skexplain.optimization
        import skexplain.aggregation, skexplain.perturbations, skexplain.kernels
        import skexplain.functions, skexplain.models, skexplain.report, skexplain.display
        import skexplain.utils.discovery
        print(sorted({{m for m in {HEAVY!r} if m in sys.modules}} - before))
        """
    )
    assert out.strip() == "[]"


def test_skexplain_imports_and_discovers_without_any_optional_package():
    out = _run(
        """
        import skexplain, skexplain.metrics, skexplain.report
        from skexplain.utils.discovery import all_explainers
        print(len(all_explainers()))
        """,
        blocked=HEAVY,
    )
    assert int(out) >= 12  # LimeExplainer & co. import; they need their package at fit


# Each part that needs an extra, used without it (X and SumOfSines are defined for the code),
# and the extra its error must name.
USES = [
    ("lime", "skexplain.LimeExplainer(model=SumOfSines()).fit(X)"),
    ("shap", "skexplain.KernelShapExplainer(model=SumOfSines()).fit(X)"),
    ("shap", "skexplain.to_shap_explanation(np.ones((1, 2)), np.ones((1, 2)))"),
    ("report", "skexplain.display.explainer_colors(['a', 'b'])"),
    ("torch", "import skexplain.training"),
    ("torch", "skexplain.models.TorchModel"),
    (
        "torch",
        "skexplain.PropertyOptimizedExplainer("
        "model=SumOfSines(), lambda_robust=1.0, setting='inductive').fit(X)",
    ),
    (
        "solvers",
        "skexplain.PropertyOptimizedExplainer("
        "model=SumOfSines(), lambda_robust=1.0, solver='cvxpy').fit(X)",
    ),
    ("scale", "skexplain.kernels.knn_kernel_graph(X, n_neighbors=2, algorithm='approximate')"),
    (
        "solvers",  # solver="auto" picks cvxpy for max-difference robustness
        "skexplain.PropertyOptimizedExplainer("
        "model=SumOfSines(), lambda_robust=1.0, robustness='max').fit(X)",
    ),
    (
        "report",
        "skexplain.report.evaluate_explainers("
        "{'g': skexplain.Gradient()}, X, ['complexity'], model=SumOfSines())",
    ),
]


def test_each_missing_extra_is_named():
    # One interpreter without any optional package tries every use in turn.
    out = _run(
        f"""
        import numpy as np
        import skexplain, skexplain.display, skexplain.kernels, skexplain.models, skexplain.report
        from skexplain.functions import SumOfSines
        from skexplain.utils._optional import MissingOptionalDependency

        X = np.random.default_rng(0).normal(size=(5, 3))
        for extra, use in {USES!r}:
            try:
                exec(use)
            except MissingOptionalDependency as error:
                print(extra, error.extra, error.name, "|", str(error).replace("\\n", " "))
            else:
                print(extra, "no ImportError")
        """,
        blocked=HEAVY,
    )
    lines = out.strip().splitlines()
    assert len(lines) == len(USES), out
    for (extra, _), line in zip(USES, lines, strict=True):
        expected, named, package, message = line.split(" ", 3)
        assert (expected, named) == (extra, extra), line
        assert OPTIONAL_DEPENDENCIES[package] == extra
        assert f"optional package '{package}'" in message
        assert f'pip install "skexplain[{extra}]"' in message


def test_the_report_figures_name_their_extra():
    # matplotlib alone missing (pandas present): the figures are what fails.
    out = _run(
        """
        import numpy as np, pandas as pd
        from skexplain.report import ExplanationReport

        columns = pd.MultiIndex.from_product([["complexity"], ["mean", "sem"]])
        table = pd.DataFrame([[1.0, 0.1]], index=["a"], columns=columns)
        try:
            ExplanationReport(table, attributions={"a": np.eye(2)}).render()
        except ImportError as error:
            print(error)
        """,
        blocked=("matplotlib",),
    )
    assert "optional package 'matplotlib'" in out and 'pip install "skexplain[report]"' in out


def test_import_optional_names_package_and_extra(monkeypatch):
    for name in ("lime", "lime.lime_tabular"):  # other tests may have imported them
        monkeypatch.setitem(sys.modules, name, None)  # `import name` raises ImportError
    with pytest.raises(MissingOptionalDependency, match="LimeExplainer needs the optional") as info:
        import_optional("lime.lime_tabular", purpose="LimeExplainer")
    assert isinstance(info.value, ImportError) and info.value.name == "lime"
    assert info.value.extra == "lime"
    assert 'pip install "skexplain[lime]"' in str(info.value)
    # An installed package is returned as imported.
    import numpy  # noqa: F401 (only to show the module object comes back)

    monkeypatch.setitem(OPTIONAL_DEPENDENCIES, "numpy", "core")
    assert import_optional("numpy.linalg").norm is numpy.linalg.norm
