"""Differentiable insertion and deletion (Yoshikawa & Iwata 2024, eqs. 7-10).

The hard metrics of :mod:`skexplain.metrics` keep the top-``s`` features of the attribution
``phi`` (insertion) or remove them (deletion). Here the step ``phi_j >= sth-val(phi)`` becomes the
soft mask ``r_s(phi_j) = sigmoid(T (phi_j - t_s))`` with ``t_s`` midway between the ``s``-th and
``(s+1)``-th largest values of the row and the per-sample temperature
``T = (#distinct(phi) - 1) / (max phi - min phi)`` (the inverse of the mean gap between consecutive
distinct values, Section 4.1). As ``T`` grows the soft masks become the hard ones.
"""

import torch

from ..metrics.faithfulness import curve_counts, n_curve_steps

__all__ = ["n_curve_steps", "curve_counts", "soft_masks", "soft_curves", "idexpo_regularizers"]


def soft_masks(phi, n_steps, temperature=1.0, *, step=1):
    """Soft top-``s`` masks ``r`` of shape ``(n, len(counts), d)`` for ``s`` in
    ``curve_counts(n_steps, step)`` (``s = 1..n_steps`` by default).

    Parameters
    ----------
    phi : torch.Tensor of shape (n, d)
        Attributions; the masks are differentiable with respect to them.
    n_steps : int
        S, at most d.
    temperature : float, default=1.0
        Multiplies the per-sample temperature of the paper; 1 is the paper's choice and larger
        values approach the hard masks.
    step : int, default=1
        Increment of ``s``.

    Notes
    -----
    The thresholds ``t_s`` and the per-sample temperature are treated as constants in the backward
    pass, as in the authors' released implementation: gradients reach ``phi`` only through the
    position of each value relative to the thresholds. A row whose values are all equal gets
    ``T = 0`` (every mask is 1/2); gaps below the floating-point resolution count as ties. For
    ``s = d`` (no ``(s+1)``-th value) the threshold lies half a mean gap below the smallest value.
    """
    n, d = phi.shape
    if not 1 <= n_steps <= d:
        raise ValueError(f"n_steps must be between 1 and {d}, got {n_steps}")
    with torch.no_grad():
        ordered = torch.sort(phi, dim=1, descending=True).values  # (n, d)
        gaps = ordered[:, :-1] - ordered[:, 1:]
        # values closer than the floating-point resolution count as equal: a denormal spread
        # would otherwise give an infinite temperature (and NaN gradients)
        magnitude = ordered.abs().amax(dim=1, keepdim=True)
        resolution = 8 * torch.finfo(phi.dtype).eps * magnitude + torch.finfo(phi.dtype).tiny
        n_distinct = 1 + (gaps > resolution).sum(dim=1)
        spread = ordered[:, 0] - ordered[:, -1]
        positive = n_distinct > 1
        scale = torch.where(
            positive,
            (n_distinct - 1).to(phi.dtype) / torch.where(positive, spread, torch.ones_like(spread)),
            torch.zeros_like(spread),
        )  # per-sample T of Section 4.1
        mean_gap = torch.where(
            positive, 1.0 / torch.clamp(scale, min=1e-30), torch.ones_like(scale)
        )
        padded = torch.cat([ordered, (ordered[:, -1] - mean_gap)[:, None]], dim=1)
        s = torch.as_tensor(curve_counts(n_steps, step), device=phi.device)
        thresholds = 0.5 * (padded[:, s - 1] + padded[:, s])  # (n, len(counts))
        slope = (temperature * scale)[:, None, None]
    return torch.sigmoid(slope * (phi[:, None, :] - thresholds[:, :, None]))


def soft_curves(forward, X, phi, target, baseline, n_steps, *, temperature=1.0, step=1):
    """Log-probabilities of the target along the soft insertion and deletion paths.

    Parameters
    ----------
    forward : callable
        ``forward(inputs) -> logits`` of shape ``(m, n_classes)``.
    X : torch.Tensor of shape (n, d)
    phi : torch.Tensor of shape (n, d)
    target : torch.LongTensor of shape (n,)
    baseline : torch.Tensor of shape (d,)
    n_steps : int
    temperature : float, default=1.0
    step : int, default=1

    Returns
    -------
    log_insertion, log_deletion : torch.Tensor of shape (n, len(curve_counts(n_steps, step)))
        ``log f(alpha_soft(x, phi; b, s))_y`` and ``log f(beta_soft(x, phi; b, s))_y`` (eqs. 7-8).
    """
    n, d = X.shape
    r = soft_masks(phi, n_steps, temperature, step=step)  # (n, S', d)
    n_counts = r.shape[1]
    x = X[:, None, :]
    inserted = r * x + (1 - r) * baseline  # eq. 7
    deleted = r * baseline + (1 - r) * x  # eq. 8
    inputs = torch.cat([inserted, deleted], dim=1).reshape(n * 2 * n_counts, d)
    log_p = torch.log_softmax(forward(inputs), dim=1)
    rows = target.repeat_interleave(2 * n_counts)
    chosen = log_p.gather(1, rows[:, None])[:, 0].reshape(n, 2, n_counts)
    return chosen[:, 0], chosen[:, 1]


def idexpo_regularizers(
    forward, X, phi, target, baseline, n_steps, *, log_p_x, temperature=1.0, step=1
):
    """Per-row ``Omega_ins`` and ``Omega_del`` (eqs. 9-10).

    ``Omega_ins = -mean_s log f(alpha_soft)_y`` and
    ``Omega_del = -mean_s log(f(x)_y / f(beta_soft)_y)``, where ``log_p_x`` is ``log f(x)_y``.

    Returns
    -------
    omega_insertion, omega_deletion : torch.Tensor of shape (n,)
    """
    log_ins, log_del = soft_curves(
        forward, X, phi, target, baseline, n_steps, temperature=temperature, step=step
    )
    omega_ins = -log_ins.mean(dim=1)
    omega_del = -(log_p_x[:, None] - log_del).mean(dim=1)
    return omega_ins, omega_del
