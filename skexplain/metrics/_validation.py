"""Checks shared by the metrics: one table of parameter constraints, one way to check arrays."""

import inspect
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_array

from .._compat import HasMethods, Interval, StrOptions, validate_params
from ..perturbations import Perturbation

_FRACTION = [Interval(Real, 0, 1, closed="right")]
_POSITIVE = [Interval(Real, 0, None, closed="neither")]
_POSITIVE_INTEGER = [Interval(Integral, 1, None, closed="left")]

# One meaning per parameter name across the metrics (scikit-learn's validate_params style).
# ``model`` and ``target`` are validated where they are used (as_model, resolve_target).
_CONSTRAINTS = {
    "explainer": [HasMethods(["transform"])],
    "X": ["array-like"],
    "attributions": ["array-like"],
    "W": ["array-like"],
    "perturbation": [None, Perturbation, str],
    "perturbations": [None, "array-like"],
    "n_samples": _POSITIVE_INTEGER,
    "radius": _POSITIVE,
    "relative": ["boolean"],
    "normalize": ["boolean"],
    "binary_masks": ["boolean"],
    "return_quadratic": ["boolean"],
    "same_prediction": ["boolean"],
    "explainer_noise": [StrOptions({"common", "fresh"})],
    "random_state": ["random_state"],
    "eps": _POSITIVE,
    "postprocess": [None, callable],
    "subset_fraction": _FRACTION,
    "fraction": _FRACTION,
    "step": _POSITIVE_INTEGER,
    "n_features": _POSITIVE_INTEGER,
    "length_scale": _POSITIVE,
    "feature_similarity": ["array-like"],
    "n_jobs": [Integral, None],
    "verbose": ["verbose"],
}


def validate_metric_params(function=None, **overrides):
    """Decorate a public metric with ``validate_params`` for the parameters it has.

    The constraints come from one table (``_CONSTRAINTS``), so a parameter name means the same
    in every metric; ``overrides`` replace a row for one metric. A bad value raises
    ``InvalidParameterError`` (a ``ValueError`` and ``TypeError``) naming the parameter, the
    metric, what was expected and what was given.
    """

    def decorate(function):
        names = inspect.signature(function).parameters
        constraints = {**_CONSTRAINTS, **overrides}
        return validate_params(
            {name: constraints[name] for name in names if name in constraints},
            prefer_skip_nested_validation=True,
        )(function)

    return decorate if function is None else decorate(function)


def check_X_attributions(X, attributions, *, stacked=False):
    """Validate ``X`` (n, d) and ``attributions`` (n, d), or (n, k, d) when ``stacked``."""
    X = check_array(X, dtype=np.float64, input_name="X")
    A = np.asarray(attributions, dtype=np.float64)
    expected = "(n_samples, n_features)" if not stacked else "(n_samples, [k,] n_features)"
    ok = A.ndim == 2 or (stacked and A.ndim == 3)
    if not ok or A.shape[0] != X.shape[0] or A.shape[-1] != X.shape[1]:
        raise ValueError(
            f"attributions must have shape {expected} matching X of shape {X.shape}, "
            f"got shape {A.shape}"
        )
    if not np.all(np.isfinite(A)):
        raise ValueError("attributions contain NaN or inf")
    return X, A
