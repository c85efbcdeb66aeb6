"""Batched exact minimization of small quadratic forms over the probability simplex.

Solves, for every row ``i`` at once, ``min_w w^T Q_i w`` subject to ``w >= 0`` and
``sum(w) = 1``, with ``Q_i`` a small (k x k, k up to a few tens) positive semi-definite matrix.
This is the per-input problem of Decker et al. (2024, eq. 6).

The method is a primal active-set method run on all rows in lockstep, each row with its own
active set. On a support ``S`` the equality-constrained minimizer is closed-form,
``w_S = Q_SS^{-1} 1 / (1^T Q_SS^{-1} 1)``. It starts with ``S`` = every member: rows whose
minimizer is non-negative are optimal at once (most rows when the members are diverse); the
others start from that minimizer clipped at zero and renormalized. Then, row by row: if the
minimizer on ``S`` leaves the simplex, step towards it until a member hits zero and drop that
member; otherwise check the KKT multipliers ``(Q w)_j - w^T Q w`` of the members outside ``S``
and add the most negative one. For a convex problem a point satisfying the KKT conditions is
optimal, so the answer is exact up to rounding; the number of iterations is a small multiple of
``k``.

Every array keeps the rows on its last, contiguous axis (``Q`` as ``(k, k, n)``) and the linear
systems are solved by Gaussian elimination written as a Python loop over the ``k`` pivots, each
step one vectorized operation over all rows: for small ``k`` this is several times faster than
LAPACK's batched solve, which pays a fixed cost per matrix.
"""

import warnings

import numpy as np

__all__ = ["solve_simplex_qp"]

# Smallest pivot of the elimination, relative to the largest entry of Q (scaled to 1): pivots
# below it are rounding noise of a singular Q_SS (ridge=0 with duplicated members), and dividing
# by them would overflow. The default ridge keeps every pivot above it.
_PIVOT_FLOOR = 16 * np.finfo(np.float64).eps


def _masked_solve(Q, support):
    """``Q_SS^{-1} 1_S`` for every row (zeros outside S), rows on the last axis.

    ``Q`` is ``(k, k, n)`` symmetric positive definite on each support, ``support`` ``(k, n)``
    booleans or None for every member.
    The system is the full ``k x k`` one with the identity outside ``S`` (so every row has the
    same shape), solved by elimination without pivoting, which is stable for such matrices.
    """
    k, _, n = Q.shape
    if support is None:  # every member
        M, b = Q.copy(), np.ones((k, n))
    else:
        M = Q * (support[:, None, :] & support[None, :, :])  # faster than np.where here
        diagonal = np.arange(k)
        M[diagonal, diagonal] += ~support
        b = support.astype(np.float64)
    for j in range(k - 1):
        pivot = np.maximum(M[j, j], _PIVOT_FLOOR)
        factor = M[j + 1 :, j] / pivot  # (k - j - 1, n)
        M[j + 1 :, j + 1 :] -= factor[:, None, :] * M[j, None, j + 1 :]
        b[j + 1 :] -= factor * b[j]
    u = np.empty_like(b)
    for j in range(k - 1, -1, -1):
        rest = b[j] - np.einsum("in,in->n", M[j, j + 1 :], u[j + 1 :]) if j < k - 1 else b[j]
        u[j] = rest / np.maximum(M[j, j], _PIVOT_FLOOR)
    return u if support is None else np.where(support, u, 0.0)


def _iterate(Q, w, support, tol):
    """One active-set iteration for rows ``(k, k, c)`` at feasible points ``w`` with support S.

    Returns ``(optimal, w, support)``: the rows whose new ``w`` satisfies the KKT conditions, and
    the new points and supports of every row.
    """
    c = w.shape[1]
    cols = np.arange(c)
    u = _masked_solve(Q, support)
    total = u.sum(axis=0)
    p = u / np.where(total != 0, total, 1.0)
    feasible = np.all(p >= -1e-15, axis=0) & (total > 0)
    support = support.copy()
    clipped = np.maximum(p, 0.0)
    mass = clipped.sum(axis=0)
    w = np.where(feasible, clipped / np.where(mass > 0, mass, 1.0), w)
    # infeasible: step towards p until the first member hits zero, and drop it
    bad = np.flatnonzero(~feasible)
    if bad.size:
        wb, pb, Sb = (np.take(a, bad, axis=1) for a in (w, p, support))
        shrinking = Sb & (pb < wb) & (pb < 0)
        ratio = np.where(shrinking, wb / np.where(shrinking, wb - pb, 1.0), np.inf)
        blocking = np.argmin(ratio, axis=0)
        alpha = ratio[blocking, np.arange(bad.size)]
        # no blocking member (or 1^T Q_SS^{-1} 1 <= 0) only if the solve failed, for a
        # numerically singular Q_SS: stay put, and let the iteration limit report the row
        found = np.isfinite(alpha) & (total[bad] > 0)
        bad, blocking, alpha = bad[found], blocking[found], np.minimum(alpha[found], 1.0)
        wb, pb, Sb = (np.compress(found, a, axis=1) for a in (wb, pb, Sb))
        moved = wb + alpha * (pb - wb)
        moved[blocking, np.arange(bad.size)] = 0.0
        moved = np.where(Sb, np.maximum(moved, 0.0), 0.0)
        w[:, bad] = moved / moved.sum(axis=0)
        support[blocking, bad] = False
    # feasible: the minimizer on S; optimal unless a member outside S has a negative multiplier
    g = np.einsum("ijn,jn->in", Q, w)
    objective = np.einsum("in,in->n", g, w)
    multipliers = np.where(support, np.inf, g - objective)
    entering = np.argmin(multipliers, axis=0)
    optimal = feasible & (multipliers[entering, cols] >= -tol)
    grow = np.flatnonzero(feasible & ~optimal)
    support[entering[grow], grow] = True
    return optimal, w, support


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
        Added to the diagonal, relative to each row's largest entry, so that ``Q_SS`` stays
        invertible for duplicated members; it moves the objective by at most that fraction.

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
    max_iter = 4 * k + 10 if max_iter is None else max_iter
    # rows on the last axis, symmetrized and scaled: the minimizer does not depend on the scale
    Qt = np.ascontiguousarray(Q.transpose(1, 2, 0))
    Qt = Qt + Qt.transpose(1, 0, 2)
    scale = np.abs(Qt).max(axis=(0, 1))
    Qt /= np.where(scale > 0, scale, 1.0)
    diagonal = np.arange(k)
    Qt[diagonal, diagonal] += ridge

    # 0. every member: the minimizer on the full support is optimal wherever it is non-negative
    u = _masked_solve(Qt, None)
    total = u.sum(axis=0)
    p = u / np.where(total != 0, total, 1.0)
    interior = np.all(p >= 0, axis=0) & (total > 0)
    W = np.where(interior, p, 0.0)
    rows = np.flatnonzero(~interior)
    if rows.size:
        # others start from it clipped and renormalized, or from the best vertex if it is useless
        clipped = np.maximum(np.take(p, rows, axis=1), 0.0) * (total[rows] > 0)
        mass = clipped.sum(axis=0)
        vertex = np.argmin(np.take(Qt[diagonal, diagonal], rows, axis=1), axis=0)
        start = np.zeros_like(clipped)
        start[vertex, np.arange(rows.size)] = 1.0
        w = np.where(mass > 0, clipped / np.where(mass > 0, mass, 1.0), start)
        support = w > 0
        Qr = np.take(Qt, rows, axis=2)
        for _ in range(max_iter):
            optimal, w, support = _iterate(Qr, w, support, tol)
            done = np.flatnonzero(optimal)
            W[:, rows[done]] = w[:, done]
            if done.size:  # keep only the rows still working: later iterations are cheaper
                # (np.take, not fancy indexing, which would leave the rows' axis strided)
                keep = np.flatnonzero(~optimal)
                rows = rows[keep]
                w, support, Qr = (np.take(a, keep, axis=-1) for a in (w, support, Qr))
            if not rows.size:
                break
        if rows.size:
            W[:, rows] = w
            warnings.warn(
                f"solve_simplex_qp: {rows.size} of {n} rows did not reach the KKT conditions in "
                f"{max_iter} iterations; their weights are feasible but may not be optimal",
                RuntimeWarning,
                stacklevel=2,
            )
    return np.ascontiguousarray(W.T)
