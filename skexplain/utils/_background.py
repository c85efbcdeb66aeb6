"""Background rows: the seed that never touches numpy's global state, validation, sampling.

Shared by :class:`~skexplain.ShapleyExplainer` (its game's background) and the masking metrics
(a background given as their baseline), so that both draw and check the same rows.
"""

import numpy as np
from sklearn.utils import check_random_state


def fresh_random_state(random_state):
    """``check_random_state``, except that None seeds a new generator from the OS.

    sklearn's None is numpy's global RandomState; drawing from it would change the global state
    that the caller (and other libraries) rely on.
    """
    if random_state is None:
        return np.random.RandomState(np.random.SeedSequence().generate_state(1)[0])
    return check_random_state(random_state)


def check_background(background, n_features, codec=None, name="background"):
    """Background rows as a finite float64 ``(m, n_features)`` array, ``m >= 1``.

    A frame's raw columns are encoded by ``codec`` (a fitted ``ColumnCodec``: categories become
    their codes, so a masked categorical column takes the background row's category); an array
    is taken as already encoded.
    """
    rows = background if codec is None else codec.encode(background)
    rows = np.asarray(rows, dtype=np.float64)
    if rows.ndim != 2 or rows.shape[1] != n_features or rows.shape[0] == 0:
        raise ValueError(
            f"{name} must be a non-empty 2-D array with {n_features} columns (as X), got "
            f"shape {rows.shape}"
        )
    if not np.isfinite(rows).all():
        raise ValueError(f"{name} contains NaN or inf")
    return np.array(rows, copy=True)


def sample_background(rows, n_background, rng):
    """``n_background`` of the ``rows`` drawn without replacement (in their order), or all.

    Parameters
    ----------
    rows : ndarray of shape (m, d)
        The candidate rows.
    n_background : int or None
        How many to keep; None keeps all.
    rng : RandomState instance
        Draws the sample (nothing is drawn when all rows are kept).

    Returns
    -------
    ndarray of shape (min(m, n_background), d)
        A copy of the kept rows.
    """
    m = rows.shape[0]
    keep = np.arange(m)
    if n_background is not None and m > n_background:
        keep = np.sort(rng.choice(m, size=n_background, replace=False))
    return np.array(rows[keep], copy=True)
