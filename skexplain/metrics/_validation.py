"""Checks and draws shared by the metrics: one way to validate X, attributions and draws."""

import numbers

import numpy as np
from sklearn.utils import check_array, check_random_state

from ..perturbations import check_perturbation


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


def check_n_samples(n_samples):
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral):
        raise TypeError(f"n_samples must be a positive integer, got {n_samples!r}")
    if n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    return int(n_samples)


def perturbed_inputs(model, X, perturbation, perturbations, n_samples, random_state):
    """Return ``(expand, m)``: the engine's expand function and the number of draws per row.

    Either explicit draws ``perturbations`` of shape ``(n, m, d)`` (perturbed inputs, so that
    results can be compared with other libraries on identical draws), or one bank of
    ``n_samples`` draws of ``perturbation`` shared by all rows.
    """
    n, d = X.shape
    if perturbations is not None:
        P = np.asarray(perturbations, dtype=np.float64)
        if P.ndim != 3 or P.shape[0] != n or P.shape[2] != d:
            raise ValueError(
                f"perturbations must have shape (n_samples_X, n_draws, n_features) = ({n}, m, "
                f"{d}), got shape {P.shape}"
            )
        if not np.all(np.isfinite(P)):
            raise ValueError("perturbations contain NaN or inf")
        return (lambda Xc, rows: model.to_native(P[rows])), P.shape[1]
    perturbation = check_perturbation(perturbation)
    n_samples = check_n_samples(n_samples)
    bank = perturbation.draw(n_samples, d, check_random_state(random_state))
    return (lambda Xc, rows: perturbation.apply(Xc, bank)), n_samples
