"""Solvers of the transductive problem of Tadesse et al. (2024): exact, iterative, proximal.

All act on an explanation matrix ``W`` of shape ``(N, D)``. The quadratic part of the objective
is described by a symmetric positive definite linear operator ``H`` and a right-hand side ``B``:
its stationarity condition is ``H(W) = B``; for gradient matching with pairwise robustness and
smoothness, ``H(W) = lam_f W + 2 lam_r L W + 2 lam_s W L~`` (a Sylvester equation).

Every solver returns ``(W, info)`` with ``info = {"converged", "n_iter", "residual"}``, where
``residual`` measures the optimality conditions at the returned ``W`` itself (not a quantity the
iteration tracked): ``||H(W) - B|| / ||B||`` for the quadratic problems, the proximal
fixed-point residual ``||W - prox(W - t grad)|| / ||W||`` with the L1 term. ``converged`` is
True only when that residual is at most the solver's ``tol``.
"""

import numpy as np
from scipy import linalg


def sylvester_solver(lambda_faithful, lambda_robust, L, lambda_smooth, L_features, row_shift=None):
    """Factor ``(lam_f I + 2 lam_r L + diag(row_shift)) W + W (2 lam_s L~) = B`` once.

    ``L`` (N x N) and ``L~`` (D x D) are symmetric positive semi-definite; with ``lam_f > 0`` the
    system is positive definite. ``L`` may be None (rows that do not interact, each with its own
    ``row_shift``: the extension to new rows), which costs O(D^3 + N D^2); otherwise the cost is
    O(N^3 + D^3), for N up to a few thousand. Without smoothness (``lam_s = 0``) a Cholesky
    factorization replaces the row eigendecomposition.

    Returns
    -------
    callable
        ``solve(B) -> W`` for right-hand sides ``B`` of shape ``(N, D)``.
    """
    if lambda_smooth > 0:
        feature_values, V = np.linalg.eigh(2.0 * lambda_smooth * np.asarray(L_features))
    else:
        feature_values, V = None, None
    if L is None or lambda_robust == 0:
        shift = 0.0 if row_shift is None else np.asarray(row_shift)[:, None]
        if V is None:
            return lambda B: B / (lambda_faithful + shift)
        return lambda B: ((B @ V) / (lambda_faithful + shift + feature_values[None, :])) @ V.T
    if V is None:
        # Without the feature term the equation is one positive definite system with D
        # right-hand sides: a Cholesky factorization (N^3 / 3 flops) instead of a symmetric
        # eigendecomposition (several N^3), 15x faster at N = 2,000. Not positive definite
        # (numerically): the eigendecomposition below.
        A = 2.0 * lambda_robust * np.asarray(L)
        A[np.diag_indices_from(A)] += lambda_faithful
        try:
            factor = linalg.cho_factor(A, lower=True, overwrite_a=True, check_finite=False)
        except linalg.LinAlgError:
            pass
        else:
            return lambda B: linalg.cho_solve(factor, B, check_finite=False)
    row_values, U = np.linalg.eigh(2.0 * lambda_robust * np.asarray(L))
    feature_values = np.zeros(1) if feature_values is None else feature_values

    def solve(B):
        C = U.T @ B
        C = C if V is None else C @ V
        C = C / (lambda_faithful + row_values[:, None] + feature_values[None, :])
        C = C if V is None else C @ V.T
        return U @ C

    return solve


def refine(apply, solve, B, *, tol, max_iter=10, X0=None):
    """Iterative refinement: ``W += solve(B - apply(W))`` until the relative residual <= tol.

    ``solve`` is a direct solver of ``apply`` accurate to a relative error below one (its
    backward error times the condition number), ``apply`` the exact operator. Each step
    multiplies the error by that relative error, so a system whose direct solve is only 1%
    accurate (a robustness weight 1e14 times the faithfulness weight) still reaches ``tol`` in a
    few steps; one that does not is reported unconverged with its residual.
    """
    norm_b = np.linalg.norm(B)
    if norm_b == 0:
        return np.zeros_like(B), {"converged": True, "n_iter": 0, "residual": 0.0}
    W = solve(B) if X0 is None else X0
    n_iter = 1
    residual = np.linalg.norm(B - apply(W)) / norm_b
    while residual > tol and n_iter < max_iter:
        W = W + solve(B - apply(W))
        n_iter += 1
        previous, residual = residual, np.linalg.norm(B - apply(W)) / norm_b
        if not residual < previous:  # refinement stalled: the direct solve is too inaccurate
            break
    return W, {"converged": bool(residual <= tol), "n_iter": n_iter, "residual": float(residual)}


def conjugate_gradient(apply, B, *, preconditioner=None, tol=1e-10, max_iter=1000, X0=None):
    """Solve ``apply(W) = B`` for a symmetric positive definite operator, matrix-free.

    The unknown is a whole matrix; inner products are Frobenius. ``preconditioner`` is a
    positive array broadcastable to ``B`` (the operator's diagonal: Jacobi preconditioning).
    The reported residual is recomputed from ``W`` at the end (the recursively updated one
    drifts from it in floating point).

    Returns
    -------
    W : ndarray
    info : dict
        ``converged``, ``n_iter`` and ``residual`` (relative to ``||B||``).
    """
    norm_b = np.linalg.norm(B)
    if norm_b == 0:
        return np.zeros_like(B), {"converged": True, "n_iter": 0, "residual": 0.0}
    W = np.zeros_like(B) if X0 is None else X0.copy()
    R = B - apply(W)
    Z = R / preconditioner if preconditioner is not None else R
    P = Z.copy()
    rz = np.vdot(R, Z)
    residual = np.linalg.norm(R) / norm_b
    n_iter = 0
    for _ in range(2):  # a second pass from the true residual, if the first drifted
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
        R = B - apply(W)
        residual = np.linalg.norm(R) / norm_b
        if residual <= tol or n_iter >= max_iter:
            break
        Z = R / preconditioner if preconditioner is not None else R
        P, rz = Z.copy(), np.vdot(R, Z)
    return W, {"converged": bool(residual <= tol), "n_iter": n_iter, "residual": float(residual)}


def _soft_threshold(V, threshold):
    return np.sign(V) * np.maximum(np.abs(V) - threshold, 0.0)


def proximal_gradient(
    gradient, lipschitz, threshold, W0, *, objective, tol=1e-9, max_iter=5000, rowwise=False
):
    """FISTA with restarts for ``min smooth(W) + threshold * ||W||_1``.

    ``gradient`` is the smooth part's gradient, ``lipschitz`` a bound on its Lipschitz constant;
    the L1 prox is soft-thresholding. It stops when the fixed-point residual of a proximal step,
    ``||W - prox(W - grad(W) / lipschitz)|| / ||W||`` (zero exactly at the optimum), falls below
    ``tol``. With ``rowwise=True`` the rows are independent problems: ``objective`` returns one
    value per row and ``lipschitz`` may hold one bound per row, and every row has its own step,
    restarts and stopping, so that a row's answer does not depend on the other rows.
    """
    n = W0.shape[0]
    groups = n if rowwise else 1

    def per_group(values):
        return np.broadcast_to(np.asarray(values, dtype=np.float64).reshape(-1), (groups,))

    def norms(A):
        return np.linalg.norm(A, axis=1) if rowwise else np.array([np.linalg.norm(A)])

    def rows(mask):  # a per-group mask or value broadcast over the rows of W
        return mask[:, None] if rowwise else mask.reshape(1, 1)

    step = 1.0 / per_group(lipschitz).copy()
    W = W0.copy()
    Y = W.copy()
    t = np.ones(groups)
    previous = per_group(objective(W)).copy()
    residual = np.full(groups, np.inf)
    active = np.ones(groups, dtype=bool)
    n_iter = 0

    def fixed_point_residual(W, G):
        moved = W - _soft_threshold(W - rows(step) * G, rows(step) * threshold)
        scale = np.maximum(norms(W), norms(rows(step) * G))  # a zero row: the gradient's scale
        return norms(moved) / np.maximum(scale, 1e-300)

    while n_iter < max_iter and active.any():
        n_iter += 1
        V = Y - rows(step) * gradient(Y)
        W_new = _soft_threshold(V, rows(step) * threshold)
        current = per_group(objective(W_new))
        # adaptive restart (O'Donoghue & Candes 2015), blind to rounding-level increases
        restart = active & (current > previous + 1e-12 * np.abs(previous))
        accept = active & ~restart
        t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        momentum = W_new + rows((t - 1.0) / t_new) * (W_new - W)
        Y = np.where(rows(restart), W, np.where(rows(accept), momentum, Y))
        change = norms(W_new - W) / np.maximum(norms(W_new), 1e-300)
        W = np.where(rows(accept), W_new, W)
        t = np.where(restart, 1.0, np.where(accept, t_new, t))
        previous = np.where(accept, current, previous)
        candidates = accept & (change <= tol)
        if candidates.any():  # small steps: test the optimality condition itself
            residual = np.where(candidates, fixed_point_residual(W, gradient(W)), residual)
            active &= ~(candidates & (residual <= tol))
    residual = fixed_point_residual(W, gradient(W))
    worst = float(residual.max(initial=0.0))
    return W, {"converged": bool(worst <= tol), "n_iter": n_iter, "residual": worst}


def refine_rows(apply, solve, B, *, tol, max_iter=10):
    """:func:`refine` for rows that are independent problems: each row refines on its own."""
    norm_b = np.linalg.norm(B, axis=1)
    scale = np.where(norm_b > 0, norm_b, 1.0)
    W = solve(B)
    residual = np.linalg.norm(B - apply(W), axis=1) / scale
    n_iter = 1
    active = residual > tol
    while active.any() and n_iter < max_iter:
        W_new = W + solve(B - apply(W))
        n_iter += 1
        new_residual = np.linalg.norm(B - apply(W_new), axis=1) / scale
        better = active & (new_residual < residual)
        W = np.where(better[:, None], W_new, W)
        residual = np.where(better, new_residual, residual)
        active = better & (residual > tol)
    worst = float(residual.max(initial=0.0))
    return W, {"converged": bool(worst <= tol), "n_iter": n_iter, "residual": worst}


def solve_quadratic(problem, method, *, tol, max_iter=1000):
    """Solve the stationarity condition ``H(W) = B`` of a :class:`PropertyProblem`.

    ``method`` is ``"dense"`` (a Sylvester factorization, or one small system per row when the
    rows do not interact, then iterative refinement) or ``"cg"`` (preconditioned conjugate
    gradients). For gradient matching the graph's null space is split off first: on every
    connected component the Laplacian vanishes on constants, so the component means of W solve a
    small system of their own, exactly, and the rest is solved where ``H`` is well conditioned
    even for ``lambda_robust / lambda_faithful = 1e14`` (without this split the direct solve is
    off by 1-16% there). ``info["residual"]`` is the relative residual of the returned W.
    """
    lam = problem.lambdas
    B = problem.rhs()
    pairwise = problem.robustness == "pairwise" and lam["robust"] > 0
    robust = lam["robust"] if pairwise else 0.0
    smooth = lam["smooth"] if problem.L_features is not None else 0.0
    rows_apart = problem.L is None or robust == 0
    deflate = (
        problem.faithfulness == "gradient" and not rows_apart and problem.anchor_degree is None
    )
    base = 0.0
    if deflate:
        means = problem.component_means(B)
        mean_solver = sylvester_solver(lam["faithful"], 0.0, None, smooth, problem.L_features)
        base = problem.expand(mean_solver(means))
        B = B - problem.expand(means)

        def project(W):
            return W - problem.expand(problem.component_means(W))
    else:

        def project(W):
            return W

    if method == "cg":
        W, info = conjugate_gradient(
            problem.apply, B, preconditioner=problem.diagonal(), tol=tol, max_iter=max_iter
        )
        W = project(W)
    else:
        shift = None
        if problem.anchor_degree is not None and pairwise:
            shift = 2.0 * robust * problem.anchor_degree
        if problem.faithfulness == "gradient":
            L = None if rows_apart else problem.L
            L = L.toarray() if L is not None and hasattr(L, "toarray") else L
            direct = sylvester_solver(lam["faithful"], robust, L, smooth, problem.L_features, shift)
        else:  # rows apart: lam_f x x^T + shift I + 2 lam_s L~ for every row
            X = problem.X
            A = lam["faithful"] * X[:, :, None] * X[:, None, :]
            if shift is not None:
                A = A + shift[:, None, None] * np.eye(X.shape[1])[None]
            if smooth > 0:
                A = A + 2.0 * smooth * problem.L_features[None]
            direct = lambda R: _solve_rows(A, R)  # noqa: E731
        if rows_apart:
            W, info = refine_rows(problem.apply, direct, B, tol=tol)
        else:
            W, info = refine(problem.apply, lambda R: project(direct(R)), B, tol=tol)
    if deflate:
        # The residual of the two parts, before their sum is rounded to float64: at
        # lambda_robust = 1e14 the rounding of W alone moves H(W) by about 1e-2 ||B|| (any
        # float64 matrix has that residual), while the parts are accurate to about 1e-16.
        gaps = (problem.apply(base) - problem.expand(means), problem.apply(W) - B)
        norm_b = np.linalg.norm(problem.rhs())
        gap = np.sqrt(sum(np.linalg.norm(g) ** 2 for g in gaps))
        residual = float(gap / norm_b) if norm_b > 0 else float(gap)
        W = base + W
    else:
        residual = problem.residual(W)
    info.update(residual=residual, converged=bool(residual <= tol) and info["converged"])
    return W, info


def _solve_rows(A, rhs):
    """Solve the symmetric positive semi-definite systems ``A_n w_n = rhs_n`` (least squares)."""
    try:
        return np.linalg.solve(A, rhs[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:
        return (np.linalg.pinv(A, hermitian=True) @ rhs[:, :, None])[:, :, 0]
