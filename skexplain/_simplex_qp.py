"""Batched exact minimization of small quadratic forms over the probability simplex.

Solves, for every row ``i`` at once, ``min_w w^T Q_i w`` subject to ``w >= 0`` and
``sum(w) = 1``, with ``Q_i`` a small (k x k, k up to a few tens) positive semi-definite matrix.
This is the per-input problem of Decker et al. (2024, eq. 6).

The method is a primal active-set method run on all rows in lockstep, each row with its own
active set: start at the best vertex (the member with the smallest ``Q_jj``); on the current
support ``S`` solve the equality-constrained problem in closed form,
``w_S = Q_SS^{-1} 1 / (1^T Q_SS^{-1} 1)``; if that leaves the simplex, step to the boundary and
drop the blocking member; otherwise check the KKT multipliers ``(Q w)_j - w^T Q w`` of the
members outside ``S`` and add the most negative one. For a convex problem a point satisfying the
KKT conditions is optimal, so the answer is exact up to rounding; each iteration is one batched
solve over the rows still working, and the number of iterations is a small multiple of ``k``.
"""

import warnings

import numpy as np

__all__ = ["solve_simplex_qp"]


def _masked_solve(Q, support):
    """``Q_SS^{-1} 1_S`` for every row (zeros outside S), by one batched solve."""
    k = Q.shape[1]
    both = support[:, :, None] & support[:, None, :]
    M = np.where(both, Q, np.eye(k)[None])
    u = np.linalg.solve(M, support.astype(np.float64)[:, :, None])[:, :, 0]
    return np.where(support, u, 0.0)


def solve_simplex_qp(Q, *, tol=1e-12, max_iter=None, ridge=1e-12):
    """Minimize ``w^T Q_i w`` over the simplex for every row: the optimal weights ``(n, k)``.

    Parameters
    ----------
    Q : array-like of shape (n, k, k)
        Positive semi-definite matrices (symmetrized here).
    tol : float, default=1e-12
        KKT tolerance, relative to the largest entry of each ``Q_i``.
    max_iter : int or None, default=None
        Iterations before giving up (default ``4 k + 10``); rows left unconverged raise a warning
        and keep their last feasible point.
    ridge : float, default=1e-12
        Added to the diagonal, relative to each row's largest diagonal entry, so that ``Q_SS``
        stays invertible for duplicated members; it moves the objective by at most that fraction.

    Returns
    -------
    ndarray of shape (n, k)
        Weights on the simplex.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain._simplex_qp import solve_simplex_qp
    >>> solve_simplex_qp(np.array([[[1.0, 0.0], [0.0, 3.0]]]))  # w proportional to 1 / Q_jj
    array([[0.75, 0.25]])
    """
    Q = np.asarray(Q, dtype=np.float64)
    if Q.ndim != 3 or Q.shape[1] != Q.shape[2]:
        raise ValueError(f"Q must have shape (n, k, k), got {Q.shape}")
    if not np.all(np.isfinite(Q)):
        raise ValueError("Q contains NaN or inf")
    n, k, _ = Q.shape
    Q = 0.5 * (Q + Q.transpose(0, 2, 1))
    scale = np.abs(Q).max(axis=(1, 2))
    scale = np.where(scale > 0, scale, 1.0)
    Q = Q / scale[:, None, None]  # the minimizer does not depend on the scale
    Q = Q + ridge * np.eye(k)[None]
    max_iter = 4 * k + 10 if max_iter is None else max_iter

    rows = np.arange(n)
    first = np.argmin(np.einsum("nii->ni", Q), axis=1)
    w = np.zeros((n, k))
    w[rows, first] = 1.0
    support = w > 0
    stationary = np.zeros(n, dtype=bool)  # w is the minimizer on its support
    working = np.ones(n, dtype=bool)
    for _ in range(max_iter):
        if not working.any():
            break
        idx = np.flatnonzero(working)
        Qw, Sw, ww = Q[idx], support[idx], w[idx]
        # 1. rows at the minimizer of their support: optimal, or add the best member
        g = np.einsum("nij,nj->ni", Qw, ww)
        objective = (g * ww).sum(axis=1)
        multipliers = np.where(Sw, np.inf, g - objective[:, None])
        entering = np.argmin(multipliers, axis=1)
        optimal = stationary[idx] & (multipliers[np.arange(idx.size), entering] >= -tol)
        working[idx[optimal]] = False
        grow = stationary[idx] & ~optimal
        Sw[np.flatnonzero(grow), entering[grow]] = True
        # 2. solve on the (possibly grown) support of every row still working
        keep = ~optimal
        idx, Qw, Sw, ww = idx[keep], Qw[keep], Sw[keep], ww[keep]
        if idx.size == 0:
            break
        u = _masked_solve(Qw, Sw)
        total = u.sum(axis=1, keepdims=True)
        p = u / np.where(total != 0, total, 1.0)
        feasible = np.all(p >= -1e-15, axis=1) & (total[:, 0] > 0)
        # 3a. feasible: move there
        new_w = np.where(feasible[:, None], np.maximum(p, 0.0), ww)
        new_S = Sw.copy()
        # 3b. infeasible: step towards p until the first member hits zero, and drop it
        bad = np.flatnonzero(~feasible)
        if bad.size:
            wb, pb = ww[bad], p[bad]
            shrinking = Sw[bad] & (pb < wb) & (pb < 0)
            ratio = np.where(shrinking, wb / np.where(shrinking, wb - pb, 1.0), np.inf)
            blocking = np.argmin(ratio, axis=1)
            alpha = np.clip(ratio[np.arange(bad.size), blocking], 0.0, 1.0)[:, None]
            moved = wb + alpha * (pb - wb)
            moved[np.arange(bad.size), blocking] = 0.0
            moved = np.where(Sw[bad], np.maximum(moved, 0.0), 0.0)
            moved /= moved.sum(axis=1, keepdims=True)
            new_w[bad] = moved
            new_S[bad, blocking] = False
        w[idx], support[idx] = new_w, new_S
        stationary[idx] = feasible
    if working.any():
        warnings.warn(
            f"solve_simplex_qp: {int(working.sum())} of {n} rows did not reach the KKT "
            f"conditions in {max_iter} iterations; their weights are feasible but may not be "
            "optimal",
            RuntimeWarning,
            stacklevel=2,
        )
    return w
