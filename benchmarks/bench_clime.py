"""C-LIME on a scikit-learn MLP: lime vs skexplain's CLIME vs the model's own evaluation time.

The model is ``MLPClassifier(hidden_layer_sizes=(64, 64))`` on the standardized breast-cancer
data (30 features); every method explains class 1 with ``n_samples`` perturbed copies per row.
The contenders, each given the same rows:

* lime as users call it: ``LimeTabularExplainer(X_train).explain_instance(row, predict_proba,
  num_samples=..., num_features=30)`` one row at a time, with its defaults (quartile
  discretization);
* lime configured to compute continuous LIME, the estimator CLIME computes (Agarwal et al. 2021):
  no discretization, gaussian samples around the instance with standard deviation
  ``noise_scale`` (lime takes it from the training data's standard deviation, so lime is given
  training data rescaled to that deviation), a constant kernel and its default ``Ridge(alpha=1)``
  on its scaled features, which is ``CLIME(alpha=noise_scale**2 / n_samples)`` on ours;
* skexplain's ``CLIME(...).fit(X).transform(X)``, all rows at once;
* the model alone: ``predict_proba`` on the same number of perturbed inputs, in one call and in
  one call per row. This is what no implementation can go below.

Agreement: lime's continuous sampler draws ``RandomState(seed).normal(0, 1, (m, d))`` and then
replaces sample 0 by the instance itself; CLIME draws ``RandomState(seed).standard_normal((m, d))``,
the same numbers. Given the same seed the two designs share ``m - 1`` of their ``m`` rows, so the
slopes agree up to the influence of that one sample.

Run ``python benchmarks/bench_clime.py`` (``--quick`` for a smoke run, ``--help``).
"""

import argparse
import os
import warnings

import numpy as np
from _common import check, measure, print_environment, print_table, set_threads


def build_model(max_iter=200, seed=0):
    """Standardized breast-cancer data and an MLP fitted to it."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = MLPClassifier(hidden_layer_sizes=(64, 64), max_iter=max_iter, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    return X, clf


def lime_explainer(X_train, noise_scale=None, seed=0):
    """lime's tabular explainer: its defaults, or (``noise_scale`` given) continuous LIME."""
    from lime.lime_tabular import LimeTabularExplainer

    if noise_scale is None:
        return LimeTabularExplainer(X_train, mode="classification", random_state=seed)
    # lime samples around the instance with the training data's standard deviation: give it
    # training data whose columns have standard deviation exactly noise_scale.
    scaled = (X_train - X_train.mean(axis=0)) / X_train.std(axis=0) * noise_scale
    return LimeTabularExplainer(
        scaled,
        mode="classification",
        discretize_continuous=False,
        sample_around_instance=True,
        kernel=lambda distances, kernel_width: np.ones_like(distances),
        feature_selection="none",
        random_state=seed,
    )


def lime_explain(explainer, X, predict_proba, n_samples, label=1):
    """Per-unit slopes for ``label``, one ``explain_instance`` call per row, as lime is used."""
    d = X.shape[1]
    W = np.zeros(X.shape)
    for i, row in enumerate(X):
        explanation = explainer.explain_instance(
            row, predict_proba, labels=(label,), num_features=d, num_samples=n_samples
        )
        for j, weight in explanation.local_exp[label]:
            W[i, j] = weight
    # lime regresses on features divided by the scaler's scale; per unit of the feature:
    return W / explainer.scaler.scale_


def ours_clime(clf, X, noise_scale, n_samples, seed=0):
    from skexplain import CLIME

    explainer = CLIME(
        model=clf,
        noise_scale=noise_scale,
        n_samples=n_samples,
        alpha=noise_scale**2 / n_samples,  # lime's Ridge(alpha=1) on features / noise_scale
        target=1,
        output="probability",  # lime explains predict_proba
        units="raw",  # lime's noise is in the units of its (scaled) features
        random_state=seed,
    )
    return explainer.fit(X).transform(X)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50)
    parser.add_argument("--samples", type=int, default=5000, help="perturbed copies per row")
    parser.add_argument("--noise-scale", type=float, default=0.5)
    parser.add_argument("--repeats", type=int, default=7, help="repeats of ours and the model")
    parser.add_argument("--lime-repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="BLAS/OpenMP/torch threads")
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="rank repeats and compute rates by wall time or by this process's CPU time",
    )
    parser.add_argument("--check-rows", type=int, default=5)
    parser.add_argument("--max-iter", type=int, default=200, help="MLP training epochs")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.samples, args.repeats, args.lime_repeats = 4, 1000, 1, 1
        args.check_rows, args.max_iter = 2, 10

    import lime  # noqa: F401  (imported for the version report)
    import sklearn  # noqa: F401

    import skexplain.models

    set_threads(args.threads)
    print_environment("bench_clime: C-LIME vs lime, MLPClassifier(64, 64) on breast cancer")
    X_train, clf = build_model(args.max_iter)
    X = X_train[: args.rows]
    s, m, n = args.noise_scale, args.samples, X.shape[0]
    batch = skexplain.models.DEFAULT_BATCH_SIZE
    rows_per_chunk = max(1, batch // m)
    print(
        f"rows {n}, samples per row {m}, noise_scale {s}; skexplain DEFAULT_BATCH_SIZE "
        f"{batch} ({rows_per_chunk} rows per chunk)"
    )

    # The model-only figures evaluate perturbed inputs built beforehand (not timed).
    noise = s * np.random.default_rng(0).standard_normal((m, X.shape[1]))
    Z = (X[:, None, :] + noise[None]).reshape(n * m, X.shape[1])
    lime_default = lime_explainer(X_train)
    lime_continuous = lime_explainer(X_train, noise_scale=s)

    timed = {
        "skexplain CLIME": lambda: ours_clime(clf, X, s, m),
        "model only: predict_proba, one call": lambda: clf.predict_proba(Z),
        "model only: predict_proba, per row": lambda: [
            clf.predict_proba(Z[i * m : (i + 1) * m]) for i in range(n)
        ],
    }
    results = measure(timed, args.repeats, args.clock)
    peers = {
        "lime, defaults (discretized)": lambda: lime_explain(lime_default, X, clf.predict_proba, m),
        "lime, continuous (same estimator)": lambda: lime_explain(
            lime_continuous, X, clf.predict_proba, m
        ),
    }
    results.update(measure(peers, args.lime_repeats, args.clock))

    # Agreement on a few rows, each lime call from a fresh explainer seeded like ours.
    print()
    Xc = X[: args.check_rows]
    ours = ours_clime(clf, Xc, s, m, seed=7)
    theirs = []
    for row in Xc:
        fresh = lime_explainer(X_train, noise_scale=s, seed=7)  # the draws CLIME makes with 7
        theirs.append(lime_explain(fresh, row[None], clf.predict_proba, m))
    theirs = np.vstack(theirs)
    err = float(np.max(np.abs(ours - theirs)) / np.max(np.abs(theirs)))
    check(
        err < 1e-2,
        f"CLIME = lime's continuous LIME on m-1 shared draws ({args.check_rows} rows): "
        f"rel. difference {err:.1e} < 1e-2",
    )

    t_ours = results["skexplain CLIME"][0]
    table = []
    for name, (seconds, wall, cpu, _) in results.items():
        table.append(
            [
                name,
                f"{wall:.3f}",
                f"{cpu:.3f}",
                f"{1e3 * seconds / n:.2f}",
                f"{n / seconds:,.1f}",
                f"{seconds / t_ours:.2f}",
            ]
        )
    print(f"\nC-LIME: {n} rows x {m} model evaluations per row ({args.clock} clock)")
    print_table(["implementation", "wall s", "cpu s", "ms/row", "rows/s", "time / ours"], table)
    speedup = results["lime, continuous (same estimator)"][0] / t_ours
    speedup_default = results["lime, defaults (discretized)"][0] / t_ours
    to_model = t_ours / results["model only: predict_proba, one call"][0]
    to_model_rows = t_ours / results["model only: predict_proba, per row"][0]
    print(f"ours vs lime (same estimator): {speedup:.1f}x its rows/s (target >= 3x)")
    print(f"ours vs lime (defaults):       {speedup_default:.1f}x its rows/s")
    print(f"ours / model-only time: {to_model:.2f} vs one call (target <= 1.2), ", end="")
    print(f"{to_model_rows:.2f} vs one call per row")
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    return {"speedup": speedup, "speedup_default": speedup_default, "to_model": to_model}


if __name__ == "__main__":
    main()
