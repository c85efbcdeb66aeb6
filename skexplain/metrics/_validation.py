"""Checks and draws shared by the metrics: one way to validate X, attributions and draws."""

import numpy as np
from sklearn.utils import check_array


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
