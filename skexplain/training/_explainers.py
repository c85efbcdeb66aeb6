"""Differentiable explainers for explanation-regularized training (Yoshikawa & Iwata 2024).

Each explainer maps a batch ``X`` and the explained classes to attributions ``phi`` ``(n, d)``
that stay in the autograd graph, so that a loss on ``phi`` reaches the network's parameters:

* ``"lime"`` and ``"kernelshap"``: the closed-form weighted least squares of eq. 12,
  ``phi = (Z^T K Z + eps I)^{-1} Z^T K f_y``, over ``M`` binary masks ``Z`` (one bank per call,
  shared by every row) with masked inputs ``z * x + (1 - z) * b``; ``f_y`` is the probability of
  the explained class. Only ``f_y`` depends on the parameters.
* ``"gradient"``: the input gradient of the probability, with ``create_graph=True``.
"""

import math

import torch

__all__ = ["EXPLAINERS", "draw_masks", "mask_kernel", "explain_batch"]

EXPLAINERS = ("lime", "kernelshap", "gradient")

# LIME's kernel for binary masks (the `lime` package's image explainer, which the paper's
# tabular experiments reuse): cosine distance to the all-ones mask, sqrt(exp(-d^2 / w^2)), w = 0.25.
LIME_KERNEL_WIDTH = 0.25
# Finite stand-in for the Shapley kernel's infinite weight of the empty and full coalitions,
# relative to the largest finite weight among the drawn masks.
SHAPLEY_END_WEIGHT = 1e3


def draw_masks(n_masks, n_features, generator, *, dtype=torch.float32, device="cpu"):
    """``M`` binary masks ``(M, d)``: independent fair coins, the first mask all ones (the row).

    As in the ``lime`` package, the unperturbed row is part of the neighbourhood.
    """
    Z = torch.randint(0, 2, (n_masks, n_features), generator=generator).to(dtype)
    Z[0] = 1
    return Z.to(device)


def mask_kernel(Z, kind):
    """Diagonal of ``K`` in eq. 12, one weight per mask.

    ``"lime"``: ``sqrt(exp(-dist^2 / 0.25^2))`` with the cosine distance between the mask and the
    all-ones vector (1 for the empty mask). ``"kernelshap"``: the Shapley kernel
    ``(d - 1) / (C(d, |z|) |z| (d - |z|))``, rescaled to mean 1 over the drawn masks (least squares
    does not change with the scale of K, except through eps; the raw weights are ~1e-9 for 30
    features, where eps alone would set the answer, the instability the paper reports in
    Appendix C.3); the empty and full masks, whose weight is infinite, get
    ``SHAPLEY_END_WEIGHT`` times the largest finite weight.
    """
    m, d = Z.shape
    size = Z.sum(dim=1)
    if kind == "lime":
        distance = 1.0 - torch.sqrt(size / d)  # cosine distance to ones; 1 for the empty mask
        return torch.sqrt(torch.exp(-(distance**2) / LIME_KERNEL_WIDTH**2))
    if kind == "kernelshap":
        finite = (size > 0) & (size < d)
        s = torch.where(finite, size, torch.ones_like(size)).double()
        log_binomial = math.lgamma(d + 1) - torch.lgamma(s + 1) - torch.lgamma(d - s + 1)
        log_w = math.log(max(d - 1, 1)) - log_binomial - torch.log(s) - torch.log(d - s)
        if not bool(finite.any()):
            return torch.ones(m, dtype=Z.dtype, device=Z.device)
        log_w = log_w - log_w[finite].max()  # largest finite weight 1: no underflow
        w = torch.where(finite, torch.exp(log_w), torch.full_like(log_w, SHAPLEY_END_WEIGHT))
        w = w / w[finite].mean()
        return w.to(Z.dtype)
    raise ValueError(f"unknown mask kernel {kind!r}")


def _probability(forward, inputs, target):
    return torch.softmax(forward(inputs), dim=1).gather(1, target[:, None])[:, 0]


def explain_batch(
    forward, X, target, *, explainer, masks=None, baseline=None, alpha=0.01, create_graph=True
):
    """Attributions ``(n, d)`` of the class ``target`` (one index per row) at the rows ``X``.

    Parameters
    ----------
    forward : callable
        ``forward(inputs) -> logits``.
    X : torch.Tensor of shape (n, d)
    target : torch.LongTensor of shape (n,)
    explainer : {"lime", "kernelshap", "gradient"}
    masks : torch.Tensor of shape (M, d) or None
        The binary masks of LIME / KernelSHAP, shared by every row.
    baseline : torch.Tensor of shape (d,) or None
        Values of the masked-out features.
    alpha : float, default=0.01
        The ridge ``eps`` of eq. 12.
    create_graph : bool, default=True
        Keep the graph of the gradient explainer, so that a loss on ``phi`` reaches the
        parameters (second-order gradients).
    """
    n, d = X.shape
    if explainer == "gradient":
        with torch.enable_grad():
            inputs = X.detach().requires_grad_(True)
            p = _probability(forward, inputs, target)
            (grad,) = torch.autograd.grad(p.sum(), inputs, create_graph=create_graph)
        return grad
    if explainer not in ("lime", "kernelshap"):
        raise ValueError(f"explainer must be one of {EXPLAINERS}, got {explainer!r}")
    Z = masks
    m = Z.shape[0]
    K = mask_kernel(Z, explainer)
    ZtK = Z.T * K[None, :]  # (d, M)
    A = ZtK @ Z + alpha * torch.eye(d, dtype=Z.dtype, device=Z.device)
    projection = torch.linalg.solve(A, ZtK)  # (d, M): phi = projection @ f_y, eq. 12
    inputs = Z[None] * X[:, None, :] + (1 - Z[None]) * baseline  # (n, M, d)
    f = _probability(forward, inputs.reshape(n * m, d), target.repeat_interleave(m))
    return f.reshape(n, m) @ projection.T
