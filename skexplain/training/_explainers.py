"""Differentiable explainers for explanation-regularized training (Yoshikawa & Iwata 2024).

Each explainer maps a batch ``X`` and the explained classes to attributions ``phi`` ``(n, d)``
that stay in the autograd graph, so that a loss on ``phi`` reaches the network's parameters:

* ``"soft_lime"`` and ``"soft_kernel_shap"``: the closed-form weighted least squares of eq. 12,
  ``phi = (Z^T K Z + eps I)^{-1} Z^T K f_y``, over ``M`` binary masks ``Z`` (one bank per call,
  shared by every row) with masked inputs ``z * x + (1 - z) * b``; ``f_y`` is the probability of
  the explained class. Only ``f_y`` depends on the parameters. These are not the algorithms of
  :class:`~skexplain.LimeExplainer` and :class:`~skexplain.KernelShapExplainer` (the ``lime`` and
  ``shap`` packages: sampled neighbourhoods, feature selection, constrained regression): they
  keep LIME's and the Shapley kernel's weights but solve one differentiable ridge regression, so
  they are named ``soft_`` like the soft curves of :mod:`skexplain.training`. The old names
  ``"lime"`` and ``"kernelshap"`` are deprecated aliases (``DEPRECATED_NAMES``).
* ``"gradient"``: the input gradient of the probability, with ``create_graph=True``.
* ``"gradcam"``: Grad-CAM (eqs. 13-14) on the feature maps ``A`` of a convolutional layer,
  ``ReLU(sum_c w_c A_c)`` with ``w_c`` the spatial mean of ``d f_y / d A_c``, upsampled to the
  image's pixels (nearest, the paper's ``expand``) and repeated over its channels. The weights
  are a gradient, so a loss on ``phi`` needs second-order gradients: ``create_graph=True``
  keeps them in the graph (Figure 1, right).

On images the rows are flattened ``(C, H, W)`` images (channel-major). Soft LIME and KernelSHAP then
mask pixels, all channels of a pixel at once: the masks have ``d / n_channels`` columns.
"""

import math

import torch

__all__ = [
    "EXPLAINERS",
    "MASK_EXPLAINERS",
    "DEPRECATED_NAMES",
    "canonical_name",
    "draw_masks",
    "mask_kernel",
    "explain_batch",
    "convolution_layers",
    "find_gradcam_layer",
    "feature_maps",
]

EXPLAINERS = ("soft_lime", "soft_kernel_shap", "gradient", "gradcam")
# The explainers that regress the output on binary masks (eq. 12).
MASK_EXPLAINERS = ("soft_lime", "soft_kernel_shap")
# Names before the rename, kept as deprecated aliases: they collided with LimeExplainer and
# KernelShapExplainer, which are other algorithms.
DEPRECATED_NAMES = {"lime": "soft_lime", "kernelshap": "soft_kernel_shap"}


def canonical_name(explainer):
    """The explainer's name, with a deprecated alias replaced by its new name."""
    return DEPRECATED_NAMES.get(explainer, explainer)


_CONVOLUTIONS = (torch.nn.Conv2d,)

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

    ``"soft_lime"``: ``sqrt(exp(-dist^2 / 0.25^2))`` with the cosine distance between the mask and
    the all-ones vector (1 for the empty mask). ``"soft_kernel_shap"``: the Shapley kernel
    ``(d - 1) / (C(d, |z|) |z| (d - |z|))``, rescaled to mean 1 over the drawn masks (least squares
    does not change with the scale of K, except through eps; the raw weights are ~1e-9 for 30
    features, where eps alone would set the answer, the instability the paper reports in
    Appendix C.3); the empty and full masks, whose weight is infinite, get
    ``SHAPLEY_END_WEIGHT`` times the largest finite weight.
    """
    m, d = Z.shape
    size = Z.sum(dim=1)
    kind = canonical_name(kind)
    if kind == "soft_lime":
        distance = 1.0 - torch.sqrt(size / d)  # cosine distance to ones; 1 for the empty mask
        return torch.sqrt(torch.exp(-(distance**2) / LIME_KERNEL_WIDTH**2))
    if kind == "soft_kernel_shap":
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


def convolution_layers(network):
    """Names of the 2-d convolutions of ``network``, in registration order."""
    return [name for name, layer in network.named_modules() if isinstance(layer, _CONVOLUTIONS)]


def find_gradcam_layer(network, name=None):
    """The layer whose output Grad-CAM weighs: ``name`` (a submodule path such as
    ``"features.3"``), or the last ``Conv2d`` of ``network`` when None.

    Raises ``ValueError`` when the network has no 2-d convolution (Grad-CAM needs spatial
    feature maps) or no submodule of that name.
    """
    if name is None:
        names = convolution_layers(network)
        if not names:
            raise ValueError(
                f"explainer='gradcam' needs a convolutional module: {type(network).__name__} "
                "has no torch.nn.Conv2d layer (Grad-CAM weighs the feature maps of a "
                "convolution; use 'soft_lime', 'soft_kernel_shap' or 'gradient' for other "
                "networks)"
            )
        name = names[-1]
    try:
        return network.get_submodule(name)
    except AttributeError as exc:
        raise ValueError(
            f"gradcam_layer {name!r} is not a submodule of {type(network).__name__}; "
            f"its convolutions are {convolution_layers(network)}"
        ) from exc


def feature_maps(forward, layer, inputs):
    """``(logits, A)``: the output of ``forward(inputs)`` and that of ``layer`` within it."""
    captured = []
    handle = layer.register_forward_hook(lambda module, args, output: captured.append(output))
    try:
        logits = forward(inputs)
    finally:
        handle.remove()
    if len(captured) != 1 or not torch.is_tensor(captured[0]) or captured[0].ndim != 4:
        shapes = [tuple(c.shape) if torch.is_tensor(c) else type(c).__name__ for c in captured]
        raise ValueError(
            "the Grad-CAM layer must run once per forward pass and return feature maps of "
            f"shape (n, channels, height, width); it returned {shapes}"
        )
    return logits, captured[0]


def _gradcam(forward, X, target, layer, image_shape, create_graph):
    """Eqs. 13-14; ``phi`` of shape ``(n, C H W)``."""
    n = X.shape[0]
    channels, height, width = image_shape
    with torch.enable_grad():
        inputs = X if X.requires_grad else X.detach().requires_grad_(True)
        logits, A = feature_maps(forward, layer, inputs)
        p = torch.softmax(logits, dim=1).gather(1, target[:, None])[:, 0]
        # rows are independent (eval mode), so the gradient of the sum is each row's own
        (grad,) = torch.autograd.grad(p.sum(), A, create_graph=create_graph)
        weights = grad.mean(dim=(2, 3), keepdim=True)  # eq. 14, (n, C', 1, 1)
        cam = torch.relu((weights * A).sum(dim=1, keepdim=True))  # M of eq. 13, (n, 1, H', W')
        pixels = torch.nn.functional.interpolate(cam, size=(height, width), mode="nearest")
    phi = pixels.expand(n, channels, height, width).reshape(n, -1)
    return phi if create_graph else phi.detach()


def explain_batch(
    forward,
    X,
    target,
    *,
    explainer,
    masks=None,
    baseline=None,
    alpha=0.01,
    create_graph=True,
    layer=None,
    image_shape=None,
):
    """Attributions ``(n, d)`` of the class ``target`` (one index per row) at the rows ``X``.

    Parameters
    ----------
    forward : callable
        ``forward(inputs) -> logits``.
    X : torch.Tensor of shape (n, d)
    target : torch.LongTensor of shape (n,)
    explainer : {"soft_lime", "soft_kernel_shap", "gradient", "gradcam"}
    masks : torch.Tensor of shape (M, d / C) or None
        The binary masks of LIME / KernelSHAP, shared by every row; on images (``C`` channels)
        one column per pixel.
    baseline : torch.Tensor of shape (d,) or None
        Values of the masked-out features.
    alpha : float, default=0.01
        The ridge ``eps`` of eq. 12.
    create_graph : bool, default=True
        Keep the graph of the gradient explainers, so that a loss on ``phi`` reaches the
        parameters (second-order gradients).
    layer : torch.nn.Module or None
        Grad-CAM's layer, called within ``forward``.
    image_shape : tuple (C, H, W) or None
        The shape of one row as an image; required by Grad-CAM.
    """
    n, d = X.shape
    explainer = canonical_name(explainer)
    if explainer == "gradcam":
        return _gradcam(forward, X, target, layer, image_shape, create_graph)
    if explainer == "gradient":
        with torch.enable_grad():
            inputs = X.detach().requires_grad_(True)
            p = _probability(forward, inputs, target)
            (grad,) = torch.autograd.grad(p.sum(), inputs, create_graph=create_graph)
        return grad
    if explainer not in MASK_EXPLAINERS:
        raise ValueError(f"explainer must be one of {EXPLAINERS}, got {explainer!r}")
    Z = masks
    m, n_columns = Z.shape
    n_channels = d // n_columns
    if n_channels * n_columns != d:
        raise ValueError(f"masks must have d / n_channels columns, got {n_columns} for d = {d}")
    K = mask_kernel(Z, explainer)
    ZtK = Z.T * K[None, :]  # (D, M)
    A = ZtK @ Z + alpha * torch.eye(n_columns, dtype=Z.dtype, device=Z.device)
    projection = torch.linalg.solve(A, ZtK)  # (D, M): phi = projection @ f_y, eq. 12
    Z_features = Z.repeat(1, n_channels)  # a pixel's channels are masked together
    inputs = Z_features[None] * X[:, None, :] + (1 - Z_features[None]) * baseline  # (n, M, d)
    f = _probability(forward, inputs.reshape(n * m, d), target.repeat_interleave(m))
    return (f.reshape(n, m) @ projection.T).repeat(1, n_channels)  # expand_{D -> C H W}
