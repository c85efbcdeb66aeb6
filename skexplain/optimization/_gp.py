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
"""

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from ..kernels import pairwise_kernel


class InducingPointGP:
    """Posterior mean of the explanation GP, conditioned on gradients at inducing points."""

    def __init__(self, lambda_faithful, lambda_robust, length_scale, jitter=1e-10):
        self.lambda_faithful = lambda_faithful
        self.lambda_robust = lambda_robust
        self.length_scale = length_scale
        self.jitter = jitter

    def fit(self, Z, G):
        self.Z_ = Z
        K = pairwise_kernel(Z, kernel="gaussian", length_scale=self.length_scale)
        noise = self.lambda_robust / self.lambda_faithful  # noise / prior variance ratio
        A = K + (noise + self.jitter) * np.eye(Z.shape[0])
        factor = cho_factor(A, lower=True)
        ones = np.ones(Z.shape[0])
        A_inv_ones = cho_solve(factor, ones)
        A_inv_G = cho_solve(factor, G)
        # generalized least squares estimate of the shared constant mean
        self.mean_ = float(A_inv_G.sum() / (G.shape[1] * A_inv_ones.sum()))
        self.weights_ = A_inv_G - self.mean_ * A_inv_ones[:, None]  # A^{-1} (G - mu)
        return self

    def predict(self, X):
        k = pairwise_kernel(X, self.Z_, kernel="gaussian", length_scale=self.length_scale)
        return self.mean_ + k @ self.weights_


def precision_objective(W, G, X, lambda_faithful, lambda_robust, length_scale, jitter=1e-10):
    """The GP's own objective on the rows X, whose minimizer is the posterior mean there.

    ``lambda_f ||W - G||^2 + lambda_r min_mu sum_d (W_d - mu)^T K^{-1} (W_d - mu)``; returns the
    total and the two losses. Through a Cholesky factor of ``K``: up to a few thousand rows.
    """
    K = pairwise_kernel(X, kernel="gaussian", length_scale=length_scale)
    factor = cho_factor(K + jitter * np.eye(X.shape[0]), lower=True)
    K_inv_ones = cho_solve(factor, np.ones(X.shape[0]))
    quadratic = float(np.vdot(W, cho_solve(factor, W)))
    cross = float(K_inv_ones @ W.sum(axis=1))
    robust = quadratic - cross**2 / (W.shape[1] * K_inv_ones.sum())
    faithful = float(((W - G) ** 2).sum())
    return lambda_faithful * faithful + lambda_robust * robust, {
        "faithful": faithful,
        "robust": robust,
    }
