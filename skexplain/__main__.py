"""Command line: ``python -m skexplain`` explains a model trained on a bundled dataset.

With no arguments it trains a small neural network on scikit-learn's breast-cancer data and
prints, for a few test rows, the attributions of several explainers side by side.
"""

import argparse
import sys

import numpy as np

DATASETS = ("breast_cancer", "wine", "diabetes")


def _load(name):
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")()
    return bunch.data, bunch.target, list(bunch.feature_names)


def _model(name, X, y, random_state):
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name == "diabetes":
        net = MLPRegressor(hidden_layer_sizes=(32,), max_iter=2000, random_state=random_state)
    else:
        net = MLPClassifier(hidden_layer_sizes=(32,), max_iter=1000, random_state=random_state)
    return make_pipeline(StandardScaler(), net).fit(X, y)


def _explainers(model, random_state):
    from . import CLIME, Gradient, IntegratedGradients, SmoothGrad

    scale = 0.1  # in feature units: the command explains on standardized inputs (see main)
    return {
        "Gradient": Gradient(model=model),
        "SmoothGrad": SmoothGrad(model=model, noise_scale=scale, random_state=random_state),
        "IntegratedGradients": IntegratedGradients(model=model),
        "C-LIME": CLIME(model=model, noise_scale=scale, random_state=random_state),
    }


def explain_dataset(dataset="breast_cancer", n_rows=3, n_features=8, random_state=0, file=None):
    """Train a model on a bundled dataset and print the attributions of a few rows.

    The model is a scikit-learn MLP behind a StandardScaler; the rows are explained in
    standardized units (the scaler's output), so one noise scale fits every feature.

    Parameters
    ----------
    dataset : {"breast_cancer", "wine", "diabetes"}, default="breast_cancer"
    n_rows : int, default=3
        Held-out rows to explain.
    n_features : int, default=8
        Features shown per row: the largest by mean absolute attribution.
    random_state : int, default=0
    file : file-like or None, default=None
        Where to print (standard output by default).

    Returns
    -------
    dict
        Explainer name to attributions of shape ``(n_rows, n_features_total)``.

    Examples
    --------
    >>> import io
    >>> from skexplain.__main__ import explain_dataset
    >>> out = explain_dataset("wine", n_rows=1, n_features=3, file=io.StringIO())
    >>> sorted(out)
    ['C-LIME', 'Gradient', 'IntegratedGradients', 'SmoothGrad']
    """
    from sklearn.model_selection import train_test_split

    from .models import as_model

    file = sys.stdout if file is None else file
    X, y, names = _load(dataset)
    X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.2, random_state=random_state)
    pipeline = _model(dataset, X_train, y_train, random_state)
    scaler, net = pipeline[0], pipeline[-1]
    Z = scaler.transform(X_test[:n_rows])

    results = {}
    # Explain log-probabilities: a saturated probability has near-zero gradients everywhere.
    model = as_model(net, output="log_probability" if dataset != "diabetes" else None)
    for name, explainer in _explainers(model, random_state).items():
        results[name] = explainer.fit(Z).transform(Z)

    kind = (
        "regression output" if dataset == "diabetes" else "log-probability of the predicted class"
    )
    print(f"skexplain: {type(net).__name__} on {dataset}, explaining the {kind}", file=file)
    print("attributions in standardized feature units\n", file=file)
    for row in range(Z.shape[0]):
        scores = np.mean([np.abs(W[row]) for W in results.values()], axis=0)
        top = np.argsort(-scores)[:n_features]
        width = max(len(names[j]) for j in top)
        header = "".join(f"{name:>21}" for name in results)
        print(f"row {row}: {'feature':<{width}}{header}", file=file)
        for j in top:
            values = "".join(f"{W[row, j]:>21.4f}" for W in results.values())
            print(f"       {names[j]:<{width}}{values}", file=file)
        print(file=file)
    return results


def main(argv=None):
    """Entry point of ``python -m skexplain``."""
    parser = argparse.ArgumentParser(
        prog="python -m skexplain",
        description="Train a model on a bundled dataset and print feature attributions.",
    )
    parser.add_argument("--dataset", choices=DATASETS, default="breast_cancer")
    parser.add_argument("--rows", type=int, default=3, help="rows to explain (default 3)")
    parser.add_argument("--features", type=int, default=8, help="features shown per row")
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)
    if args.rows < 1 or args.features < 1:
        parser.error("--rows and --features must be positive")
    explain_dataset(args.dataset, args.rows, args.features, args.random_state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
