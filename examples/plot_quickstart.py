"""Quickstart: explain a scikit-learn pipeline on tabular data, tune and score the explainers.

The first example to read. A :class:`~sklearn.pipeline.Pipeline` (``StandardScaler`` then an
``MLPClassifier``) is trained on scikit-learn's breast_cancer (30 numeric features), and its
predicted class's log-odds (the package's default output, which does not saturate like a
probability) are explained at test rows:

1. explainers are scikit-learn transformers: ``fit`` on rows, ``transform`` returns one
   attribution per feature (:class:`~skexplain.Gradient`, :class:`~skexplain.SmoothGrad`,
   :class:`~skexplain.IntegratedGradients`, :class:`~skexplain.CLIME`);
2. an explainer's parameter is tuned like an estimator's: ``GridSearchCV`` over SmoothGrad's
   ``noise_scale`` with an explanation scorer (infidelity; greater is better, losses negated);
   the scores are the infidelity after Yeh et al.'s optimal rescaling (``normalize=True``), and
   max-sensitivity is relative to ``||phi(x)||``, so that explainers on different scales compare;
3. an :class:`~skexplain.AggregatingExplainer` combines explainers with per-row convex weights
   (Decker et al. 2024; strategy ``"faith"`` by default, ``"opt"`` with ``--full``);
4. :func:`skexplain.report.evaluate_explainers` scores them side by side on the metrics of
   :mod:`skexplain.metrics`, and :class:`~skexplain.report.ExplanationReport` writes the table and
   its figures to one self-contained HTML file (``--out``, default ``quickstart-report.html``);
5. the wrappers of the reference ``lime`` and ``shap`` packages
   (:class:`~skexplain.LimeExplainer`, :class:`~skexplain.KernelShapExplainer`) explain a few
   rows (they are slower), scored next to SmoothGrad on the same rows.

The explained model is the pipeline's classifier on the standardized features
(``pipeline[-1]`` at ``pipeline[:-1].transform(X)``): the noise of SmoothGrad, C-LIME and the
metrics has one scale for every feature, which is meaningful only when the features share a
unit. Attributions are then per standard deviation of each raw feature.

Run ``python examples/plot_quickstart.py`` (about half a minute on two CPU cores) or with
``--full`` for more rows and samples.
"""

import argparse
import time

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skexplain import (
    CLIME,
    AggregatingExplainer,
    Gradient,
    IntegratedGradients,
    KernelShapExplainer,
    LimeExplainer,
    SmoothGrad,
)
from skexplain.display import AttributionDisplay, MetricDisplay
from skexplain.metrics import make_explanation_scorer
from skexplain.report import ExplanationReport, evaluate_explainers

# Scale-free forms: the explainers' attributions come on different scales (the aggregate's
# members are normalized to a largest absolute value of 1), so infidelity is taken after Yeh et
# al.'s optimal rescaling and max-sensitivity relative to ||phi(x)||.
METRICS = {
    "infidelity": ("infidelity", {"normalize": True}),
    "max_sensitivity": ("max_sensitivity", {"relative": True}),
    "faithfulness_correlation": "faithfulness_correlation",
}
PACKAGE_METRICS = {
    "infidelity": ("infidelity", {"normalize": True}),
    "faithfulness_correlation": "faithfulness_correlation",
}
NOISE_SCALES = (0.05, 0.2, 0.5, 1.0)

# The aggregation's "opt" strategy re-explains perturbed rows for its sensitivity term (and
# max-sensitivity re-explains it on perturbed rows again): a minute here, so only with --full.
DEFAULT = {
    "n_rows": 20,
    "n_package_rows": 3,
    "n_samples": 30,
    "package_samples": 500,
    "strategy": "faith",
}
FULL = {
    "n_rows": 100,
    "n_package_rows": 10,
    "n_samples": 100,
    "package_samples": 2000,
    "strategy": "opt",
}


def train_pipeline(random_state=0):
    """Fit ``StandardScaler -> MLPClassifier`` on breast_cancer; return it, test rows, accuracy."""
    data = load_breast_cancer()
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, random_state=random_state, stratify=data.target
    )
    pipeline = make_pipeline(
        StandardScaler(),
        # An L2 penalty keeps most probabilities off 0 and 1, where their gradient vanishes.
        MLPClassifier(
            hidden_layer_sizes=(32,), alpha=1.0, max_iter=1000, random_state=random_state
        ),
    ).fit(X_train, y_train)
    return pipeline, X_test, pipeline.score(X_test, y_test), list(data.feature_names)


def run(
    n_rows=DEFAULT["n_rows"],
    n_package_rows=DEFAULT["n_package_rows"],
    n_samples=DEFAULT["n_samples"],
    package_samples=DEFAULT["package_samples"],
    strategy=DEFAULT["strategy"],
    *,
    out="quickstart-report.html",
    random_state=0,
    verbose=True,
):
    """Train, explain, tune, aggregate, score and write the report.

    Parameters
    ----------
    n_rows : int
        Test rows explained and scored (the tuning search uses them too, in 3 folds).
    n_package_rows : int
        Rows explained by LIME and KernelSHAP.
    n_samples : int
        Noisy copies per row of SmoothGrad (C-LIME uses ten times as many: it fits 31 numbers).
    package_samples : int
        Samples per row of LIME and coalitions per row of KernelSHAP.
    strategy : str
        The aggregation's strategy (:class:`~skexplain.AggregatingExplainer`).
    out : str or path-like or None
        Where the HTML report goes; None writes none.
    random_state : int
    verbose : bool
        Print each step's result.

    Returns
    -------
    dict
        ``"table"`` (the DataFrame of :func:`evaluate_explainers`), ``"package_table"``,
        ``"attributions"``, ``"rows"`` (the standardized explained rows), ``"model"`` (the
        explained classifier), ``"best_noise_scale"``, ``"search"``, ``"weights"`` (the
        aggregation's per-row weights), ``"accuracy"``, ``"html"``, ``"seconds"``.
    """
    say = print if verbose else (lambda *args, **kwargs: None)
    start = time.perf_counter()
    pipeline, X_test, accuracy, feature_names = train_pipeline(random_state)
    model = pipeline[-1]
    rows = pipeline[:-1].transform(X_test[:n_rows])
    say(f"breast_cancer, StandardScaler -> MLPClassifier(32), test accuracy {accuracy:.3f}")

    # 1. An explainer is a transformer: one attribution per feature of every row.
    gradient = Gradient(model=model).fit(rows)
    attributions = gradient.transform(rows)
    top = np.argsort(-np.abs(attributions[0]))[:3]
    say(
        "Gradient of the predicted class's log-odds, row 0, largest: "
        + ", ".join(f"{feature_names[j]} {attributions[0, j]:+.3f}" for j in top)
    )

    # 2. Tune SmoothGrad's noise scale for infidelity, as one tunes an estimator.
    search = GridSearchCV(
        SmoothGrad(model=model, n_samples=n_samples, random_state=random_state),
        {"noise_scale": list(NOISE_SCALES)},
        scoring=make_explanation_scorer("infidelity", normalize=True),
        cv=3,
    ).fit(rows)
    best = search.best_params_["noise_scale"]
    scores = search.cv_results_["mean_test_score"]
    say(
        "GridSearchCV, SmoothGrad noise_scale -> -infidelity: "
        + ", ".join(f"{s}: {v:.4g}" for s, v in zip(NOISE_SCALES, scores, strict=True))
        + f"; best {best}"
    )

    # 3. Aggregate explainers with per-row convex weights (Decker et al. 2024).
    members = [
        ("grad", Gradient()),
        ("sg", SmoothGrad(noise_scale=best, n_samples=n_samples, random_state=random_state)),
        ("clime", CLIME(noise_scale=best, n_samples=10 * n_samples, random_state=random_state)),
    ]
    aggregate = AggregatingExplainer(members, model=model, strategy=strategy, random_state=0)
    weights = aggregate.fit(rows).weights(rows)
    say(
        f"AggregatingExplainer({strategy}): mean weights "
        + ", ".join(
            f"{name} {w:.2f}" for (name, _), w in zip(members, weights.mean(axis=0), strict=True)
        )
    )

    # 4. Score every explainer on the same rows and draws; write the HTML report.
    explainers = {
        "Gradient": Gradient(model=model),
        f"SmoothGrad (noise_scale={best})": search.best_estimator_,
        "IntegratedGradients": IntegratedGradients(model=model),
        f"CLIME (noise_scale={best})": CLIME(
            model=model, noise_scale=best, n_samples=10 * n_samples, random_state=random_state
        ),
        f"Aggregate ({strategy})": aggregate,
    }
    table, attributions = evaluate_explainers(
        explainers, rows, METRICS, random_state=random_state, return_attributions=True
    )
    say(f"\n{n_rows} test rows, standardized features; mean over rows (sem):")
    say(format_table(table))
    html = None
    if out is not None:
        html = ExplanationReport(
            table,
            attributions,
            X=rows,
            feature_names=feature_names,
            title="skexplain quickstart: breast_cancer MLP",
            description=(
                f"StandardScaler -> MLPClassifier(32) on breast_cancer (test accuracy "
                f"{accuracy:.3f}); the predicted class's log-odds explained at {n_rows} "
                "standardized test rows."
            ),
        ).to_html(out)
        say(f"report: {out}")

        # The same numbers as figures to compose in a notebook (scikit-learn's Display pattern:
        # computed once, then plot(ax=...) on any axes; the report draws with these too).
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 3, figsize=(18, 5.5))
        ig = AttributionDisplay.from_estimator(
            IntegratedGradients(model=model),
            rows,
            feature_names=feature_names,
            name="IntegratedGradients",
            kind="beeswarm",
            ax=axes[0],
            max_features=8,
        )
        ig.plot(ax=axes[1], kind="waterfall", row=0, max_features=8)
        MetricDisplay.from_results(table, kind="front", ax=axes[2])
        fig.tight_layout()

    # 5. The lime and shap packages, through skexplain's wrappers, on a few rows.
    few = rows[:n_package_rows]
    packages = {
        "LimeExplainer": LimeExplainer(
            model=model, n_samples=package_samples, random_state=random_state
        ).fit(pipeline[:-1].transform(X_test)),
        "KernelShapExplainer": KernelShapExplainer(
            model=model, n_samples=package_samples, n_background=20, random_state=random_state
        ).fit(pipeline[:-1].transform(X_test)),
        f"SmoothGrad (noise_scale={best})": search.best_estimator_,
    }
    package_table = evaluate_explainers(packages, few, PACKAGE_METRICS, random_state=random_state)
    say(f"\n{n_package_rows} test rows, the reference packages next to SmoothGrad:")
    say(format_table(package_table))
    seconds = time.perf_counter() - start
    say(f"\n{seconds:.1f} s")
    return {
        "table": table,
        "package_table": package_table,
        "attributions": attributions,
        "rows": rows,
        "model": model,
        "best_noise_scale": best,
        "search": search,
        "weights": weights,
        "accuracy": accuracy,
        "html": html,
        "seconds": seconds,
    }


def format_table(table):
    """Explainers as rows, each metric as ``mean (sem)`` with its direction."""
    metrics = list(dict.fromkeys(table.columns.get_level_values(0)))
    directions = table.attrs.get("greater_is_better", {})
    titles = [f"{m} {'(+)' if directions.get(m) else '(-)'}" for m in metrics]
    width = max(len(name) for name in table.index) + 2
    header = f"{'explainer':<{width}s}" + "".join(f"{t:>30s}" for t in titles)
    lines = [header, "-" * len(header)]
    for name in table.index:
        cells = [
            f"{table.loc[name, (m, 'mean')]:.4g} ({table.loc[name, (m, 'sem')]:.2g})"
            for m in metrics
        ]
        lines.append(f"{name:<{width}s}" + "".join(f"{c:>30s}" for c in cells))
    lines.append("(+): greater is better; (-): lower is better")
    return "\n".join(lines)


def main(argv=None):
    # sphinx-gallery runs this file without its docstring (shown as text on the page)
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--full", action="store_true", help="more rows and samples")
    parser.add_argument("--out", default="quickstart-report.html", help="the HTML report's path")
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)
    settings = FULL if args.full else DEFAULT
    return run(out=args.out, random_state=args.random_state, **settings)


if __name__ == "__main__":
    main()
