"""Solvers of the transductive problem of Tadesse et al. (2024): exact, iterative, proximal.

All act on an explanation matrix ``W`` of shape ``(N, D)``. The quadratic part of the objective
is described by a symmetric positive definite linear operator ``H`` and a right-hand side ``B``:
its stationarity condition is ``H(W) = B``; for gradient matching with pairwise robustness and
smoothness, ``H(W) = lam_f W + 2 lam_r L W + 2 lam_s W L~`` (a Sylvester equation).
"""

import numpy as np
from scipy import linalg


def solve_sylvester_dense(lambda_faithful, lambda_robust, L, lambda_smooth, L_features, B):
    """Exact solution of ``(lam_f I + 2 lam_r L) W + W (2 lam_s L~) = B`` by eigendecomposition.

    ``L`` (N x N) and ``L~`` (D x D) are symmetric positive semi-definite; with ``lam_f > 0`` the
    system is positive definite. Cost O(N^3 + D^3): for N up to a few thousand. Without
    smoothness (``lam_s = 0``) the system is solved by a Cholesky factorization.
    """
    n, d = B.shape
    if lambda_robust > 0 and lambda_smooth == 0:
        # Without the feature term the equation is one positive definite system with D
        # right-hand sides: a Cholesky factorization (N^3 / 3 flops) instead of a symmetric
        # eigendecomposition (several N^3), 15x faster at N = 2,000. Not positive definite
        # (lambda_faithful = 0 with a singular L): the eigendecomposition below, as before.
        A = 2.0 * lambda_robust * np.asarray(L)
        A[np.diag_indices_from(A)] += lambda_faithful
        try:
            factor = linalg.cho_factor(A, lower=True, overwrite_a=True, check_finite=False)
        except linalg.LinAlgError:
            pass
        else:
            return linalg.cho_solve(factor, B, check_finite=False)
    if lambda_robust > 0:
        row_values, U = np.linalg.eigh(2.0 * lambda_robust * np.asarray(L))
    else:
        row_values, U = np.zeros(n), None
    if lambda_smooth > 0:
        feature_values, V = np.linalg.eigh(2.0 * lambda_smooth * np.asarray(L_features))
    else:
        feature_values, V = np.zeros(d), None
    C = B if U is None else U.T @ B
    C = C if V is None else C @ V
    C = C / (lambda_faithful + row_values[:, None] + feature_values[None, :])
    C = C if V is None else C @ V.T
    return C if U is None else U @ C


def conjugate_gradient(apply, B, *, preconditioner=None, tol=1e-10, max_iter=1000, X0=None):
    """Solve ``apply(W) = B`` for a symmetric positive definite operator, matrix-free.

    The unknown is a whole matrix; inner products are Frobenius. ``preconditioner`` is a
    positive array broadcastable to ``B`` (the operator's diagonal: Jacobi preconditioning).

    Returns
    -------
    W : ndarray
    info : dict
        ``converged``, ``n_iter`` and ``residual`` (relative to ``||B||``).
    """
    W = np.zeros_like(B) if X0 is None else X0.copy()
    R = B - apply(W)
    Z = R / preconditioner if preconditioner is not None else R
    P = Z.copy()
    rz = np.vdot(R, Z)
    norm_b = np.linalg.norm(B)
    if norm_b == 0:
        return np.zeros_like(B), {"converged": True, "n_iter": 0, "residual": 0.0}
    residual = np.linalg.norm(R) / norm_b
    n_iter = 0
    while residual > tol and n_iter < max_iter:
        AP = apply(P)
        curvature = np.vdot(P, AP)
        if curvature <= 0:
            break
        alpha = rz / curvature
        W += alpha * P
        R -= alpha * AP
        Z = R / preconditioner if preconditioner is not None else R
        rz_new = np.vdot(R, Z)
        P = Z + (rz_new / rz) * P
        rz = rz_new
        n_iter += 1
        residual = np.linalg.norm(R) / norm_b
    return W, {"converged": bool(residual <= tol), "n_iter": n_iter, "residual": float(residual)}


def proximal_gradient(gradient, lipschitz, threshold, W0, *, objective, tol=1e-9, max_iter=5000):
    """FISTA with restarts for ``min smooth(W) + threshold * ||W||_1``.

    ``gradient`` is the smooth part's gradient, ``lipschitz`` a bound on its Lipschitz constant;
    the L1 prox is soft-thresholding. Converged when the relative change of W falls below ``tol``.
    """
    step = 1.0 / lipschitz
    W = W0.copy()
    Y = W.copy()
    t = 1.0
    previous = objective(W)
    change = np.inf
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        V = Y - step * gradient(Y)
        W_new = np.sign(V) * np.maximum(np.abs(V) - step * threshold, 0.0)
        current = objective(W_new)
        # adaptive restart (O'Donoghue & Candes 2015), blind to rounding-level increases
        if current > previous + 1e-12 * abs(previous):
            Y, t = W.copy(), 1.0
            continue
        t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        Y = W_new + ((t - 1.0) / t_new) * (W_new - W)
        change = np.linalg.norm(W_new - W) / max(np.linalg.norm(W_new), 1e-300)
        W, t, previous = W_new, t_new, current
        if change <= tol:
            break
    return W, {"converged": bool(change <= tol), "n_iter": n_iter, "residual": float(change)}
