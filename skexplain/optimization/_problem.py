"""The transductive objective of Tadesse et al. (2024, eq. 1 and 10) on a fixed set of rows."""

import numpy as np
from scipy import sparse


def laplacian(S):
    """``L = diag(S 1) - S`` of a symmetric similarity matrix, dense or sparse."""
    degree = np.asarray(S.sum(axis=1)).ravel()
    if sparse.issparse(S):
        return (sparse.diags(degree) - S).tocsr()
    return np.diag(degree) - S


def _largest_eigenvalue_bound(L):
    """Gershgorin bound on the largest eigenvalue of a graph Laplacian: twice the max degree."""
    if L is None:
        return 0.0
    diagonal = L.diagonal() if sparse.issparse(L) else np.diag(L)
    return 2.0 * float(np.max(diagonal, initial=0.0))


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
        Symmetric row similarity with a zero diagonal (None without robustness).
    robustness : {"pairwise", "max"}
    S_features : ndarray (D, D) or None
        Symmetric feature similarity (None without smoothness).
    lambdas : dict with keys faithful, robust, smooth, complex
    """

    def __init__(self, X, target_values, faithfulness, S, robustness, S_features, lambdas):
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
                centred = W - W.mean(axis=0)  # L 1 = 0: exact, and no cancellation
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

    # -- the quadratic part: H(W) = B ----------------------------------------------------------
    def apply(self, W):
        lam = self.lambdas
        if self.faithfulness == "gradient":
            out = lam["faithful"] * W
        else:
            out = lam["faithful"] * self.X * (W * self.X).sum(axis=1, keepdims=True)
        if self.L is not None and self.robustness == "pairwise" and lam["robust"] > 0:
            out = out + 2.0 * lam["robust"] * (self.L @ W)
        if self.L_features is not None and lam["smooth"] > 0:
            out = out + 2.0 * lam["smooth"] * (W @ self.L_features)
        return out

    def rhs(self):
        if self.faithfulness == "gradient":
            return self.lambdas["faithful"] * self.G
        return self.lambdas["faithful"] * self.f[:, None] * self.X

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
        if self.L_features is not None:
            diag = diag + 2.0 * lam["smooth"] * np.diag(self.L_features)[None, :]
        return np.maximum(diag, 1e-12 * max(lam["faithful"], 1e-300))

    def smooth_gradient(self, W):
        return 2.0 * (self.apply(W) - self.rhs())

    def lipschitz(self):
        lam = self.lambdas
        scale = 1.0 if self.faithfulness == "gradient" else float((self.X**2).sum(axis=1).max())
        bound = lam["faithful"] * scale
        if self.robustness == "pairwise":
            bound += 2.0 * lam["robust"] * _largest_eigenvalue_bound(self.L)
        bound += 2.0 * lam["smooth"] * _largest_eigenvalue_bound(self.L_features)
        return 2.0 * max(bound, 1e-12)
