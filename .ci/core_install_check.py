"""The core install on its own (`pip install .`, no extras): run by .ci/run in a fresh venv.

Shows that (1) none of the optional packages is installed and `import skexplain` loads none of
them, (2) the numpy/scikit-learn explainers and the metrics work on a scikit-learn MLP and on a
plain callable, (3) each part that needs an extra raises an ImportError naming that extra.
Exits non-zero on the first failure.
"""

import importlib.util
import sys
import warnings

OPTIONAL = (
    "torch",
    "shap",
    "lime",
    "cvxpy",
    "osqp",
    "matplotlib",
    "pandas",
    "faiss",
    "skops",
    "dask",
)

# 1. A core install: no optional package, and importing skexplain loads none.
installed = [name for name in OPTIONAL if importlib.util.find_spec(name) is not None]
assert not installed, f"not a core install, these are installed: {installed}"

import numpy as np  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import skexplain  # noqa: E402
import skexplain.display  # noqa: E402
import skexplain.kernels  # noqa: E402
import skexplain.metrics  # noqa: E402
import skexplain.models  # noqa: E402
import skexplain.optimization  # noqa: E402
import skexplain.report  # noqa: E402
from skexplain import (  # noqa: E402
    CLIME,
    AggregatingExplainer,
    Gradient,
    InputXGradient,
    IntegratedGradients,
    KernelShapExplainer,
    LimeExplainer,
    PropertyOptimizedExplainer,
    SmoothGrad,
    VarGrad,
)
from skexplain.functions import SumOfSines  # noqa: E402
from skexplain.metrics import (  # noqa: E402
    avg_sensitivity,
    deletion_auc,
    faithfulness_correlation,
    infidelity,
    insertion_auc,
    make_explanation_scorer,
    max_sensitivity,
)
from skexplain.utils.discovery import all_explainers  # noqa: E402

# The installed package, not a checkout on the path.
assert "site-packages" in skexplain.__file__, skexplain.__file__
loaded = [name for name in OPTIONAL if name in sys.modules]
print(f"optional packages loaded by `import skexplain`: {loaded}")
assert loaded == []
print(f"explainers found by discovery: {len(all_explainers())}")

# 2. Explainers and metrics on a scikit-learn MLP and on a callable.
warnings.simplefilter("ignore", ConvergenceWarning)  # a small MLP, a few hundred iterations
X, y = load_breast_cancer(return_X_y=True)
X = StandardScaler().fit_transform(X)[:, :8]
mlp = MLPClassifier(hidden_layer_sizes=(16,), max_iter=300, random_state=0).fit(X, y)
rows = X[:10]


def cubic(Z):  # a plain numpy function, no gradient given: finite differences
    return (Z**3).sum(axis=1) - Z[:, 0] * Z[:, 1]


explainers = {
    "Gradient": Gradient(),
    "InputXGradient": InputXGradient(),
    "SmoothGrad": SmoothGrad(n_samples=20, random_state=0),
    "VarGrad": VarGrad(n_samples=20, random_state=0),
    "CLIME": CLIME(n_samples=200, random_state=0),
    "IntegratedGradients": IntegratedGradients(n_steps=16),
}
models = {"MLPClassifier": mlp, "callable": cubic, "SumOfSines": SumOfSines()}
for model_name, model in models.items():
    for name, explainer in explainers.items():
        W = explainer.set_params(model=model).fit(rows).transform(rows)
        assert W.shape == rows.shape and np.isfinite(W).all(), (model_name, name)
    W = IntegratedGradients(model=model, n_steps=16).fit_transform(rows)
    scores = {
        "infidelity": infidelity(model, rows, W, random_state=0),
        "max_sensitivity": max_sensitivity(
            IntegratedGradients(model=model, n_steps=8).fit(rows), rows, n_samples=5, random_state=0
        ),
        "avg_sensitivity": avg_sensitivity(
            Gradient(model=model).fit(rows), rows, n_samples=5, random_state=0
        ),
        "faithfulness_correlation": faithfulness_correlation(model, rows, W, random_state=0),
        "insertion_auc": insertion_auc(model, rows, W),
        "deletion_auc": deletion_auc(model, rows, W),
    }
    for metric, values in scores.items():
        assert np.shape(values) == (len(rows),) and np.isfinite(values).all(), (model_name, metric)
    print(
        f"{model_name}: 6 explainers ok; "
        + ", ".join(f"{metric}={np.mean(values):.4g}" for metric, values in scores.items())
    )

search = GridSearchCV(
    SmoothGrad(model=mlp, n_samples=10, random_state=0),
    {"noise_scale": [0.05, 0.5]},
    scoring=make_explanation_scorer("infidelity"),
    cv=2,
).fit(rows)
agg = AggregatingExplainer(
    [("grad", Gradient()), ("sg", SmoothGrad(n_samples=10, random_state=0))],
    model=mlp,
    strategy="mean",
).fit(rows)
W_opt = PropertyOptimizedExplainer(model=mlp, lambda_robust=0.1).fit_transform(rows)
assert np.isfinite(agg.transform(rows)).all() and np.isfinite(W_opt).all()
print(
    f"GridSearchCV on infidelity: best {search.best_params_}; AggregatingExplainer and "
    "PropertyOptimizedExplainer (dense solver) ok"
)

# 3. The parts that need an extra name it.
needs_extra = {
    "torch": [
        ("import skexplain.training", lambda: __import__("skexplain.training")),
        ("skexplain.models.TorchModel", lambda: skexplain.models.TorchModel),
        (
            "PropertyOptimizedExplainer(setting='inductive')",
            lambda: PropertyOptimizedExplainer(
                model=mlp, lambda_robust=1.0, setting="inductive"
            ).fit(rows),
        ),
    ],
    "solvers": [
        (
            "PropertyOptimizedExplainer(solver='cvxpy')",
            lambda: PropertyOptimizedExplainer(model=mlp, lambda_robust=1.0, solver="cvxpy").fit(
                rows
            ),
        ),
    ],
    "scale": [
        (
            "knn_kernel_graph(algorithm='approximate')",
            lambda: skexplain.kernels.knn_kernel_graph(
                rows, n_neighbors=2, algorithm="approximate"
            ),
        )
    ],
    "lime": [("LimeExplainer", lambda: LimeExplainer(model=mlp).fit(rows))],
    "shap": [
        ("KernelShapExplainer", lambda: KernelShapExplainer(model=mlp).fit(rows)),
        ("to_shap_explanation", lambda: skexplain.to_shap_explanation(rows[:1], rows[:1])),
    ],
    "report": [
        (
            "skexplain.report.evaluate_explainers",
            lambda: skexplain.report.evaluate_explainers(
                {"grad": Gradient()}, rows, ["complexity"], model=mlp
            ),
        ),
        ("AttributionDisplay", lambda: skexplain.display.explainer_colors(["grad"])),
        (
            "python -m skexplain report",
            lambda: __import__("skexplain.__main__").__main__.report(["--quiet"]),
        ),
    ],
}
for extra, uses in needs_extra.items():
    for what, use in uses:
        try:
            use()
        except ImportError as error:
            message = str(error)
            assert f'pip install "skexplain[{extra}]"' in message, (what, message)
            needs = message.split(", which")[0]
            print(f"{what}: ImportError naming [{extra}] ({needs})")
        else:
            raise AssertionError(f"{what} worked without the {extra!r} extra")

print("core install check passed")
