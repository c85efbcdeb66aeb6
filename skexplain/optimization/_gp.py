"""Inductive setting of Tadesse et al. (2024, section 4, Prop. 1): a GP posterior mean.

Prior ``E ~ GP(mu 1, K / (2 lambda_robust))`` independently for every feature, with ``K`` a
gaussian kernel over inputs and the constant mean ``mu ~ N(0, sigma^2)``, ``sigma -> inf`` (the
same ``mu`` for all inputs and features, eq. 6); the gradients observed with noise variance
``1 / (2 lambda_faithful)``. The posterior mean on a set of points is the minimizer of

``lambda_faithful ||W - G||^2 + lambda_robust min_mu sum_d (W_d - mu 1)^T K^{-1} (W_d - mu 1)``

(the kernel's precision with the shared constant mean profiled out; like a graph Laplacian it
ignores a constant shift): the transductive problem whose robustness weights are the precision
of the kernel, ``S = -K^{-1}`` as in Prop. 1. Fitted
on inducing points Z, the explanation of any x is the GP's conditional mean given Z, so it extends
to unseen rows; with Z = the rows themselves it is the transductive optimum exactly.

The linear algebra runs in torch, in float64, on ``device`` (a GPU when there is one): the
Cholesky factor of the inducing points' kernel once, then the prediction in chunks of rows, so
the memory of a prediction is bounded by the chunk's kernel block, not by the number of rows.
The fitted state (inducing points, weights, mean) is kept in numpy, not on the device.
"""

import numpy as np

from .. import _engine
from ..kernels import kernel_of_squared_distance
from ..utils import import_optional, squared_distances

# Kernel entries per chunk of predicted rows (float64): 32 MiB.


def _torch():
    return import_optional("torch", purpose="PropertyOptimizedExplainer(setting='inductive')")


def _gaussian(A, B, length_scale):
    return kernel_of_squared_distance(squared_distances(A, B), "gaussian", length_scale)


def _as_tensor(array, device):
    """A float64 tensor on ``device``; read-only arrays (a DataFrame's values, a memory-mapped
    explainer) are copied, since torch warns that it cannot share them."""
    torch = _torch()

    array = np.asarray(array, dtype=np.float64)
    if not array.flags.writeable:
        array = array.copy()
    return torch.as_tensor(array, device=device)


def _cholesky(A, what):
    torch = _torch()

    factor, info = torch.linalg.cholesky_ex(A)
    if int(info) != 0:
        raise np.linalg.LinAlgError(
            f"the {what} is not numerically positive definite (Cholesky failed at column "
            f"{int(info)}); duplicate rows with a tiny noise ratio lambda_robust / "
            "lambda_faithful cause this: raise lambda_robust or drop the duplicates"
        )
    return factor


class InducingPointGP:
    """Posterior mean of the explanation GP, conditioned on gradients at inducing points.

    Parameters
    ----------
    lambda_faithful, lambda_robust : float
        The weights of the objective; their ratio is the observation noise relative to the
        prior variance.
    length_scale : float
        Of the gaussian kernel.
    device : torch.device, default="cpu"
    jitter : float, default=1e-10
    """

    def __init__(self, lambda_faithful, lambda_robust, length_scale, *, device="cpu", jitter=1e-10):
        self.lambda_faithful = lambda_faithful
        self.lambda_robust = lambda_robust
        self.length_scale = length_scale
        self.device = device
        self.jitter = jitter

    def _tensor(self, array):
        return _as_tensor(array, self.device)

    def fit(self, Z, G):
        """Condition on the gradients ``G`` observed at the inducing points ``Z``."""
        torch = _torch()

        Zt, Gt = self._tensor(Z), self._tensor(G)
        m = Zt.shape[0]
        noise = self.lambda_robust / self.lambda_faithful  # noise / prior variance ratio
        A = _gaussian(Zt, Zt, self.length_scale)
        A.diagonal().add_(noise + self.jitter)
        factor = _cholesky(A, "inducing points' kernel")
        ones = torch.ones((m, 1), dtype=torch.float64, device=self.device)
        solved = torch.cholesky_solve(torch.cat([ones, Gt], dim=1), factor)
        A_inv_ones, A_inv_G = solved[:, 0], solved[:, 1:]
        # generalized least squares estimate of the shared constant mean
        mean = A_inv_G.sum() / (Gt.shape[1] * A_inv_ones.sum())
        self.Z_ = np.asarray(Z, dtype=np.float64)
        self.mean_ = float(mean)
        self.weights_ = (A_inv_G - mean * A_inv_ones[:, None]).cpu().numpy()  # A^{-1} (G - mu)
        # for the predictive variance of a query: the factor of A, A^{-1} 1 and 1^T A^{-1} 1
        self.factor_ = factor.cpu().numpy()
        self.inv_ones_ = A_inv_ones.cpu().numpy()
        return self

    def predict(self, X):
        """The conditional mean at the rows of X, computed in chunks of rows."""
        X = np.asarray(X, dtype=np.float64)
        Zt, weights = self._tensor(self.Z_), self._tensor(self.weights_)

        def compute(rows):
            return (_gaussian(self._tensor(X[rows]), Zt, self.length_scale) @ weights).cpu().numpy()

        out = _engine.map_row_chunks(
            X.shape[0],
            compute,
            per_row=Zt.shape[0],
            budget=_engine.KERNEL_BLOCK_ENTRIES,
            empty_shape=(0, weights.shape[1]),
        )
        return out + self.mean_

    def predict_with_gradient(self, X, G):
        """The posterior mean at each row of X given the inducing points *and* its own gradient.

        Tadesse et al.'s inductive explanation of a query (their released code): the GP
        predictive from the inducing points, ``N(m, V)``, combined with the query's own
        gradient ``G_n`` observed with the same noise, weighted by their precisions. With the
        shared constant mean ``mu`` the predictive covariance across features is
        ``sigma_p^2 (a I + b 1 1^T)``, ``a = 1 - k^T A^{-1} k``, ``b = (1 - 1^T A^{-1} k)^2 /
        (D 1^T A^{-1} 1)``, and the exact posterior mean is ``G - sigma_n^2 (V + sigma_n^2
        I)^{-1} (G - m)`` (Sherman-Morrison), with ``sigma_p^2 = 1 / (2 lambda_robust)`` and
        ``sigma_n^2 = 1 / (2 lambda_faithful)``. Without the mean term (``b = 0``) this is the
        authors' ``(G / sigma_n^2 + m / v) / (1 / sigma_n^2 + 1 / v)``, ``v = sigma_p^2 a``.
        """
        import torch

        X, G = np.asarray(X, dtype=np.float64), np.asarray(G, dtype=np.float64)
        Zt, weights = self._tensor(self.Z_), self._tensor(self.weights_)
        factor, inv_ones = self._tensor(self.factor_), self._tensor(self.inv_ones_)
        total = float(inv_ones.sum())
        n_features = weights.shape[1]
        prior = 1.0 / (2.0 * self.lambda_robust)
        noise = 1.0 / (2.0 * self.lambda_faithful)

        def compute(rows):
            k = _gaussian(self._tensor(X[rows]), Zt, self.length_scale)  # (c, m)
            solved = torch.cholesky_solve(k.T.contiguous(), factor).T  # A^{-1} k, (c, m)
            a = (1.0 - (k * solved).sum(dim=1)).clamp(min=0.0)
            c = 1.0 - k @ inv_ones
            alpha = prior * a + noise  # (c,)
            beta = prior * c**2 / (n_features * total)
            observed = self._tensor(G[rows])
            residual = observed - (k @ weights + self.mean_)
            shared = (beta / (alpha + n_features * beta))[:, None]
            solved = (residual - shared * residual.sum(dim=1, keepdim=True)) / alpha[:, None]
            return (observed - noise * solved).cpu().numpy()

        return _engine.map_row_chunks(
            X.shape[0],
            compute,
            per_row=Zt.shape[0],
            budget=_engine.KERNEL_BLOCK_ENTRIES,
            empty_shape=(0, n_features),
        )


def precision_objective(
    W, G, X, lambda_faithful, lambda_robust, length_scale, *, device="cpu", jitter=1e-10
):
    """The GP's own objective on the rows X, whose minimizer is the posterior mean there.

    ``lambda_f ||W - G||^2 + lambda_r min_mu sum_d (W_d - mu)^T K^{-1} (W_d - mu)``; returns the
    total and the two losses. Through a Cholesky factor of ``K``: up to a few thousand rows.
    """
    torch = _torch()

    Xt, Wt = _as_tensor(X, device), _as_tensor(W, device)
    K = _gaussian(Xt, Xt, length_scale)
    K.diagonal().add_(jitter)
    factor = _cholesky(K, "kernel of the fitted rows")
    ones = torch.ones((Xt.shape[0], 1), dtype=torch.float64, device=device)
    solved = torch.cholesky_solve(torch.cat([ones, Wt], dim=1), factor)
    K_inv_ones, K_inv_W = solved[:, 0], solved[:, 1:]
    quadratic = float((Wt * K_inv_W).sum())
    cross = float(K_inv_ones @ Wt.sum(dim=1))
    robust = quadratic - cross**2 / (Wt.shape[1] * float(K_inv_ones.sum()))
    faithful = float(((np.asarray(W) - np.asarray(G)) ** 2).sum())
    return lambda_faithful * faithful + lambda_robust * robust, {
        "faithful": faithful,
        "robust": robust,
    }
