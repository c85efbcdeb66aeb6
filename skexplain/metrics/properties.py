"""The property losses of Tadesse et al. (2024), one term per explained row.

Summed over rows they are the paper's losses: faithfulness by gradient matching
``sum_n ||W_n - G_n||^2`` or function matching ``sum_n (f(x_n) - W_n . x_n)^2``; pairwise
robustness ``sum_{n, n'} S_nn' ||W_n - W_n'||^2``; smoothness
``sum_n sum_{d, d'} S~_dd' (W_nd - W_nd')^2`` (the paper's eq. 10 has a typo: the same n on both
sides); complexity ``sum_n ||W_n||_1``. Lower is better for all of them.
"""

import numpy as np
from sklearn.utils import check_array

from .. import _engine
from ..kernels import pairwise_kernel, precision_weights
from ._rows import row_metric
from ._validation import check_model_X, check_X_attributions, validate_metric_params

__all__ = [
    "gradient_matching_loss",
    "function_matching_loss",
    "robustness_loss",
    "smoothness_loss",
    "complexity",
]


@row_metric
@validate_metric_params
def gradient_matching_loss(model, X, W, *, target=None, output="auto", n_jobs=None, verbose=0):
    """Return the gradient-matching loss ``||W_n - grad f(x_n)||^2`` of every row.

    The faithfulness term of Tadesse et al. (2024) for a differentiable model.

    Parameters
    ----------
    model : object
        The model: a torch module, a fitted scikit-learn estimator or a callable.
    X : array-like of shape (n_samples, n_features)
        The explained rows.
    W : array-like of shape (n_samples, n_features)
        Their attributions.
    target : "predicted", int, label, array-like of shape (n_samples,) or None, default=None
        Output to explain: None or "predicted" is a single output, or each row's predicted
        class; an output index; a class label (``"barolo"``); or one index or label per row
        (such as the true labels ``y``).
    output : str, default="auto"
        The model output scored when ``model`` is not an adapter set to it already: "auto" (the
        package default: a classifier's log-odds), "logit", "probability", "log_probability",
        "decision_function" or "predict".
    n_jobs : int or None, default=None
        Parallel jobs over chunks of rows (joblib, so a Dask or Ray cluster through
        ``joblib.parallel_config``); the scores equal those of ``n_jobs=1``.
    verbose : int, default=0
        Show a progress bar over the chunks of rows when positive.

    Returns
    -------
    ndarray of shape (n_samples,)
        The loss of every row (lower is better).

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.functions import Linear
    >>> from skexplain.metrics import gradient_matching_loss
    >>> gradient_matching_loss(Linear([1.0, 2.0]), np.zeros((1, 2)), [[1.0, 0.0]])
    array([4.])
    """
    model, X, _ = check_model_X(model, X, output)
    X, W = check_X_attributions(X, W)
    target = model.resolve_target(X, target)
    return ((W - model.gradient(X, target)) ** 2).sum(axis=1)


@row_metric
@validate_metric_params
def function_matching_loss(model, X, W, *, target=None, output="auto", n_jobs=None, verbose=0):
    """Return the function-matching loss ``(f(x_n) - W_n^T x_n)^2`` of every row.

    The faithfulness term of Tadesse et al. (2024) that only needs the model's outputs.

    Parameters
    ----------
    model : object
        The model: a torch module, a fitted scikit-learn estimator or a callable.
    X : array-like of shape (n_samples, n_features)
        The explained rows.
    W : array-like of shape (n_samples, n_features)
        Their attributions.
    target : "predicted", int, label, array-like of shape (n_samples,) or None, default=None
        Output to explain: None or "predicted" is a single output, or each row's predicted
        class; an output index; a class label (``"barolo"``); or one index or label per row
        (such as the true labels ``y``).
    output : str, default="auto"
        The model output scored when ``model`` is not an adapter set to it already: "auto" (the
        package default: a classifier's log-odds), "logit", "probability", "log_probability",
        "decision_function" or "predict".
    n_jobs : int or None, default=None
        Parallel jobs over chunks of rows (joblib, so a Dask or Ray cluster through
        ``joblib.parallel_config``); the scores equal those of ``n_jobs=1``.
    verbose : int, default=0
        Show a progress bar over the chunks of rows when positive.

    Returns
    -------
    ndarray of shape (n_samples,)
        The loss of every row (lower is better).

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.functions import Linear
    >>> from skexplain.metrics import function_matching_loss
    >>> function_matching_loss(Linear([1.0, 2.0]), np.ones((1, 2)), [[1.0, 1.0]])
    array([1.])
    """
    model, X, _ = check_model_X(model, X, output)
    X, W = check_X_attributions(X, W)
    target = model.resolve_target(X, target)
    return (model.predict(X, target) - (W * X).sum(axis=1)) ** 2


@validate_metric_params
def robustness_loss(X, W, *, kernel="gaussian", length_scale=1.0, weights="kernel"):
    """``sum_{n'} S_nn' ||W_n - W_n'||^2`` per row, S from a kernel over the rows of X.

    The rows' terms add up to ``2 tr(W^T L W)`` with ``L = diag(S 1) - S``. With the kernel
    weights ``S = K`` it is computed in blocks of rows, so memory grows linearly with the number
    of rows; with ``weights="precision"``, ``S = -pinv(K)`` (Tadesse et al.'s corrected loss, see
    :func:`skexplain.kernels.precision_weights`) needs the whole ``n x n`` matrix, and a row's
    term may be negative (only the sum over rows is a loss).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The explained rows; the kernel compares them.
    W : array-like of shape (n_samples, n_features)
        Their attributions.
    kernel : {"gaussian", "threshold"}, default="gaussian"
        Similarity of rows, as in :func:`skexplain.kernels.pairwise_kernel`.
    length_scale : float, default=1.0
        The gaussian's length scale, or the threshold on the squared distance.
    weights : {"kernel", "precision"}, default="kernel"
        ``S = K``, the kernel between the rows (a graph Laplacian's weights: every pair pulls
        its explanations together), or ``S = -pinv(K)``, the negated precision (the paper's
        corrected loss, the GP form of its Prop. 1: half the pairs push apart).

    Returns
    -------
    ndarray of shape (n_samples,)
        The loss of every row (lower is better).

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.metrics import robustness_loss
    >>> X = np.array([[0.0], [0.0]])
    >>> robustness_loss(X, [[1.0], [3.0]])  # S = 1 for the pair: (1 - 3)^2 each
    array([4., 4.])
    """
    X, W = check_X_attributions(X, W)
    # Differences do not change under a common shift: centring first keeps the expansion below
    # exact when the explanations are nearly constant (no cancellation of large squared norms).
    W = W - W.mean(axis=0)
    squared_norms = (W * W).sum(axis=1)
    if weights == "precision":
        S = precision_weights(X, kernel=kernel, length_scale=length_scale)
        return squared_norms * S.sum(axis=1) + S @ squared_norms - 2.0 * ((S @ W) * W).sum(axis=1)
    loss = np.empty(X.shape[0])
    for rows in _engine.row_chunks(X.shape[0], budget=_engine.KERNEL_BLOCK_ROWS):
        S = pairwise_kernel(X[rows], X, kernel=kernel, length_scale=length_scale)
        loss[rows] = (
            squared_norms[rows] * S.sum(axis=1)
            + S @ squared_norms
            - 2.0 * ((S @ W) * W[rows]).sum(axis=1)
        )
    return np.maximum(loss, 0.0)


@validate_metric_params
def smoothness_loss(W, *, feature_similarity):
    """Return the smoothness loss ``sum_{d, d'} S~_dd' (W_nd - W_nd')^2`` of every row.

    Parameters
    ----------
    W : array-like of shape (n_samples, n_features)
        Attributions.
    feature_similarity : ndarray of shape (n_features, n_features)
        The symmetric similarity ``S~`` of features, e.g. from
        :func:`skexplain.kernels.grid_feature_similarity`.

    Returns
    -------
    ndarray of shape (n_samples,)
        The loss of every row (lower is better).

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.metrics import smoothness_loss
    >>> smoothness_loss([[1.0, 3.0]], feature_similarity=np.array([[0.0, 1.0], [1.0, 0.0]]))
    array([8.])
    """
    W = check_array(W, dtype=np.float64, input_name="W")
    S = np.asarray(feature_similarity, dtype=np.float64)
    d = W.shape[1]
    if S.shape != (d, d):
        raise ValueError(
            f"feature_similarity must have shape ({d}, {d}) for {d} features, got {S.shape}"
        )
    if not np.allclose(S, S.T):
        raise ValueError("feature_similarity must be symmetric")
    laplacian = np.diag(S.sum(axis=1)) - S
    return 2.0 * np.einsum("nd,de,ne->n", W, laplacian, W)


@validate_metric_params
def complexity(W):
    """Return the complexity ``||W_n||_1`` of every row.

    Parameters
    ----------
    W : array-like of shape (n_samples, n_features)
        Attributions.

    Returns
    -------
    ndarray of shape (n_samples,)
        The L1 norm of every row (lower is sparser).

    Examples
    --------
    >>> from skexplain.metrics import complexity
    >>> complexity([[1.0, -2.0], [0.0, 0.5]])
    array([3. , 0.5])
    """
    W = check_array(W, dtype=np.float64, input_name="W")
    return np.abs(W).sum(axis=1)
