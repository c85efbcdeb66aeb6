"""Array helpers that work on numpy arrays and torch tensors alike, without importing torch."""

import sys

import numpy as np


def is_tensor(value):
    """Whether ``value`` is a torch tensor, without importing torch (slow) when it is unused."""
    torch = sys.modules.get("torch")
    return torch is not None and torch.is_tensor(value)


def is_module(value):
    """Whether ``value`` is a ``torch.nn.Module``, without importing torch when it is unused."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.nn.Module)


def _max_abs(A):
    return float(abs(A).max()) if A.shape[0] * A.shape[1] else 0.0


def row_centre(Y):
    """Y's column means, computed without overflow (numpy arrays or torch tensors)."""
    scale = _max_abs(Y)
    scale = scale if 0.0 < scale < float("inf") else 1.0
    return (Y / scale).mean(axis=0) * scale


# Relative rounding of the expanded squared distance, per feature (a few units of float64 eps).
_ROUNDING = 8 * float(np.finfo(np.float64).eps)
# Centred values beyond this are scaled before squaring (their squares would overflow).
_LARGE = 1e100
# Pairs recomputed by direct differences per step (entries of the temporary array).
_PAIR_ENTRIES = 1 << 20


def squared_distances(X, Y):
    """Squared euclidean distances of numpy arrays or torch tensors (same code for both).

    The expansion ``||x||^2 + ||y||^2 - 2 x.y`` (one matrix product) cancels catastrophically
    when the rows share a large offset (a timestamp column near 1.7e9, prices in cents): its
    rounding error grows with ``||x||^2``, not with ``||x - y||^2``. Both sets are therefore
    centred on Y's mean first, which leaves the distances unchanged and makes them invariant to
    translating all rows; and scaled down when the centred values are so large that a square
    would overflow (inf - inf is NaN). Pairs within the expansion's rounding of each other
    (near-duplicates: an identical pair comes out about 1e-16 ||x||^2 apart, not 0) get their
    distance from direct differences. The centre is Y's, so a row's distances to Y do not depend
    on the other rows of X (transforms stay independent of the batch).
    """
    if Y.shape[0]:
        centre = row_centre(Y)
        X, Y = X - centre, Y - centre
    spread = max(_max_abs(X), _max_abs(Y))
    shrink = spread if spread > _LARGE else 1.0  # keeps every square below overflow
    if shrink != 1.0:
        X, Y = X / shrink, Y / shrink
    x_norms, y_norms = (X * X).sum(axis=1)[:, None], (Y * Y).sum(axis=1)[None, :]
    squared = (x_norms + y_norms - 2.0 * X @ Y.T).clip(min=0.0)
    close = squared <= (_ROUNDING * X.shape[1]) * (x_norms + y_norms)
    pairs = close.nonzero() if isinstance(close, np.ndarray) else close.nonzero(as_tuple=True)
    step = max(1, _PAIR_ENTRIES // max(1, X.shape[1]))
    for start in range(0, pairs[0].shape[0], step):
        i, j = pairs[0][start : start + step], pairs[1][start : start + step]
        squared[i, j] = ((X[i] - Y[j]) ** 2).sum(axis=1)
    if shrink == 1.0:
        return squared
    with np.errstate(over="ignore"):  # a distance beyond 1e308 is inf: its kernel is 0
        return squared * shrink * shrink


def subset_masks(sizes, n_features, rng):
    """Uniformly random subsets with the given sizes, as a 0/1 matrix ``(len(sizes), d)``."""
    ranks = np.argsort(np.argsort(rng.random_sample((len(sizes), n_features)), axis=1), axis=1)
    return (ranks < np.asarray(sizes)[:, None]).astype(np.float64)


def matching_rows(X, Y):
    """Index of the row of Y bitwise equal to each row of X, or -1 (float64 rows, same width)."""
    d = X.shape[1]
    as_keys = np.dtype((np.void, 8 * d))
    reference = np.ascontiguousarray(Y, dtype=np.float64).view(as_keys).ravel()
    keys = np.ascontiguousarray(X, dtype=np.float64).view(as_keys).ravel()
    if reference.size == 0:
        return np.full(keys.size, -1, dtype=np.intp)
    order = np.argsort(reference, kind="stable")
    position = np.searchsorted(reference[order], keys).clip(max=reference.size - 1)
    index = order[position]
    return np.where(reference[index] == keys, index, -1)
