"""The transductive objective of Tadesse et al. (2024, eq. 1 and 10) on a fixed set of rows."""

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components


def laplacian(S):
    """``L = diag(S 1) - S`` of a symmetric similarity matrix, dense or sparse."""
    degree = np.asarray(S.sum(axis=1)).ravel()
    if sparse.issparse(S):
        return (sparse.diags(degree) - S).tocsr()
    return np.diag(degree) - S


def _largest_eigenvalue_bound(L):
    """Gershgorin bound on the largest eigenvalue of a symmetric matrix: the largest absolute
    row sum.

    For a graph Laplacian with non-negative weights that is twice the largest degree; with the
    negated precision's weights (some negative) twice the degree can be far below the largest
    eigenvalue (2.3 times on Tadesse et al.'s grid at length scale 3), and a step from it makes
    the proximal method oscillate.
    """
    if L is None:
        return 0.0
    absolute = abs(L) if sparse.issparse(L) else np.abs(L)
    return float(np.max(np.asarray(absolute.sum(axis=1)).ravel(), initial=0.0))


class PropertyProblem:
    """``sum_i lambda_i L_i(W)``: the losses, their gradient and the quadratic part's operator.

    Parameters
    ----------
    X : ndarray (N, D)
        The rows explained.
    target_values : ndarray
        ``G`` (N, D), the model's gradients, for gradient matching; ``f`` (N,), its outputs, for
        function matching.
    faithfulness : {"gradient", "function"}
    S : ndarray or sparse matrix (N, N) or None
        Symmetric row similarity with a zero diagonal (None: the rows do not interact).
    robustness : {"pairwise", "max"}
    S_features : ndarray (D, D) or None
        Symmetric feature similarity (None without smoothness).
    lambdas : dict with keys faithful, robust, smooth, complex
    anchors : tuple (S_fixed, W_fixed) or None
        Similarities ``(N, M)`` of the rows to M other rows whose explanations ``W_fixed``
        ``(M, D)`` are held fixed: the robustness terms ``2 sum_j S_fixed[n, j] ||W_n -
        W_fixed[j]||^2`` (each pair counts twice in the pairwise sum) that extend a fitted
        problem to new rows.

    Notes
    -----
    The Laplacian annihilates every vector constant on a connected component of the graph, so
    ``L W`` is computed as ``L (W - M)`` with ``M`` the component means of ``W``: exact in
    arithmetic, and without it the rounding of ``L W`` grows with ``lambda_robust ||W||``, which
    at ``lambda_robust = 1e14`` swamps the optimality conditions.
    """

    def __init__(
        self, X, target_values, faithfulness, S, robustness, S_features, lambdas, *, anchors=None
    ):
        self.X = X
        self.faithfulness = faithfulness
        self.robustness = robustness
        self.lambdas = lambdas
        self.S = S
        self.L = None if S is None else laplacian(S)
        self.L_features = None if S_features is None else laplacian(S_features)
        if faithfulness == "gradient":
            self.G = target_values
        else:
            self.f = target_values
        self.edges = None
        if robustness == "max" and S is not None:
            upper = sparse.triu(sparse.csr_matrix(S), k=1).tocoo()
            self.edges = (upper.row, upper.col)
        self._components = None
        if S is not None:
            n_components, labels = connected_components(sparse.csr_matrix(S), directed=False)
            counts = np.bincount(labels, minlength=n_components).astype(np.float64)
            n = X.shape[0]
            self._components = sparse.csr_matrix(
                (1.0 / counts[labels], (labels, np.arange(n))), shape=(n_components, n)
            )
            self._labels = labels
        self.anchors = anchors
        self.anchor_degree = None
        if anchors is not None:
            S_fixed, W_fixed = anchors
            self.anchor_degree = np.asarray(S_fixed.sum(axis=1), dtype=np.float64).ravel()
            self.anchor_pull = np.asarray(S_fixed @ W_fixed, dtype=np.float64)

    # -- the graph's null space ---------------------------------------------------------------
    def component_means(self, W):
        """Column means of W over every connected component of the row graph, ``(C, D)``."""
        return self._components @ W

    def expand(self, M):
        """Per-component rows ``M`` ``(C, D)`` repeated on the rows of their components."""
        return M[self._labels]

    def _laplacian_times(self, W):
        if self._components is not None:
            W = W - self.expand(self.component_means(W))
        return self.L @ W

    # -- losses -----------------------------------------------------------------------------
    def losses(self, W):
        """Each property's loss (un-weighted), as in :mod:`skexplain.metrics` summed over rows."""
        out = {}
        if self.faithfulness == "gradient":
            out["faithful"] = float(((W - self.G) ** 2).sum())
        else:
            out["faithful"] = float(((self.f - (W * self.X).sum(axis=1)) ** 2).sum())
        if self.L is not None:
            if self.robustness == "pairwise":
                centred = W - self.expand(self.component_means(W))  # exact: L 1_c = 0
                out["robust"] = float(2.0 * np.vdot(centred, self.L @ centred))
            else:
                i, j = self.edges
                out["robust"] = float(((W[i] - W[j]) ** 2).sum(axis=1).max(initial=0.0))
        if self.L_features is not None:
            out["smooth"] = float(2.0 * np.vdot(W, W @ self.L_features))
        out["complex"] = float(np.abs(W).sum())
        return out

    def objective(self, W):
        losses = self.losses(W)
        return sum(self.lambdas.get(name, 0.0) * value for name, value in losses.items())

    def row_objective(self, W):
        """The objective of every row up to a constant, for rows that do not interact."""
        quadratic = (W * (self.apply(W) - 2.0 * self.rhs())).sum(axis=1)
        return quadratic + self.lambdas["complex"] * np.abs(W).sum(axis=1)

    # -- the quadratic part: H(W) = B ----------------------------------------------------------
    def _pairwise(self):
        return self.robustness == "pairwise" and self.lambdas["robust"] > 0

    def apply(self, W):
        lam = self.lambdas
        if self.faithfulness == "gradient":
            out = lam["faithful"] * W
        else:
            out = lam["faithful"] * self.X * (W * self.X).sum(axis=1, keepdims=True)
        if self.L is not None and self._pairwise():
            out = out + 2.0 * lam["robust"] * self._laplacian_times(W)
        if self.anchor_degree is not None and self._pairwise():
            out = out + 2.0 * lam["robust"] * self.anchor_degree[:, None] * W
        if self.L_features is not None and lam["smooth"] > 0:
            out = out + 2.0 * lam["smooth"] * (W @ self.L_features)
        return out

    def rhs(self):
        lam = self.lambdas
        if self.faithfulness == "gradient":
            out = lam["faithful"] * self.G
        else:
            out = lam["faithful"] * self.f[:, None] * self.X
        if self.anchor_degree is not None and self._pairwise():
            out = out + 2.0 * lam["robust"] * self.anchor_pull
        return out

    def residual(self, W):
        """Relative residual of the stationarity condition, ``||H(W) - B|| / ||B||``."""
        B = self.rhs()
        norm_b = np.linalg.norm(B)
        gap = np.linalg.norm(self.apply(W) - B)
        return float(gap / norm_b) if norm_b > 0 else float(gap)

    def diagonal(self):
        """The operator's diagonal, for Jacobi preconditioning."""
        lam = self.lambdas
        if self.faithfulness == "gradient":
            diag = np.full(self.X.shape, lam["faithful"])
        else:
            diag = lam["faithful"] * self.X**2
        if self.L is not None and self.robustness == "pairwise":
            degree = self.L.diagonal() if sparse.issparse(self.L) else np.diag(self.L)
            diag = diag + 2.0 * lam["robust"] * degree[:, None]
        if self.anchor_degree is not None and self.robustness == "pairwise":
            diag = diag + 2.0 * lam["robust"] * self.anchor_degree[:, None]
        if self.L_features is not None:
            diag = diag + 2.0 * lam["smooth"] * np.diag(self.L_features)[None, :]
        return np.maximum(diag, 1e-12 * max(lam["faithful"], 1e-300))

    def smooth_gradient(self, W):
        return 2.0 * (self.apply(W) - self.rhs())

    def lipschitz(self, rowwise=False):
        """A bound on the smooth part's Lipschitz constant (one per row with ``rowwise``)."""
        lam = self.lambdas
        if self.faithfulness == "gradient":
            scale = 1.0
        else:
            scale = (self.X**2).sum(axis=1)
            scale = scale if rowwise else float(scale.max(initial=0.0))
        bound = lam["faithful"] * scale
        if self.robustness == "pairwise":
            bound = bound + 2.0 * lam["robust"] * _largest_eigenvalue_bound(self.L)
            if self.anchor_degree is not None:
                degree = self.anchor_degree if rowwise else self.anchor_degree.max(initial=0.0)
                bound = bound + 2.0 * lam["robust"] * degree
        bound = bound + 2.0 * lam["smooth"] * _largest_eigenvalue_bound(self.L_features)
        return 2.0 * np.maximum(bound, 1e-12)
