"""Infidelity (Yeh et al. 2019, eq. 2-3) and its quadratic form (Decker et al. 2024, Def. 4.1)."""

import numpy as np
from sklearn.utils import check_random_state

from .._engine import map_row_chunks
from .._masking import coalition_values
from ..perturbations import GaussianNoise, UniformBall, check_perturbation, perturbed_copies
from ..utils import sample_background
from ._rows import row_metric
from ._validation import (
    check_model_X,
    check_X_attributions,
    is_background,
    validate_metric_params,
)

__all__ = ["infidelity"]


@row_metric
@validate_metric_params
def infidelity(
    model,
    X,
    attributions,
    *,
    target=None,
    perturbation=None,
    perturbations=None,
    n_samples=50,
    n_background=100,
    normalize=False,
    random_state=None,
    return_quadratic=False,
    binary_masks=False,
    antithetic=False,
    units="std",
    output="auto",
    n_jobs=None,
    verbose=0,
):
    """Expected squared error of the attributions' prediction of output changes, per row.

    ``INFD(phi, f, x) = E_I [(I^T phi - (f(x) - f(x - I)))^2]`` with ``I = x - x~`` for perturbed
    inputs ``x~`` (Yeh et al. 2019, Def. 2.1). Lower is better.

    Parameters
    ----------
    model : object
        The model (see :func:`skexplain.models.as_model`).
    X : array-like of shape (n_samples, n_features)
        The explained rows.
    attributions : array-like of shape (n_samples, n_features)
        Their attributions; ``(n_samples, k, n_features)`` with ``return_quadratic=True``.
    target : "predicted", int, label, array-like of shape (n_samples,) or None, default=None
        Output to explain: None or "predicted" is a single output, or each row's predicted
        class; an output index; a class label (``"barolo"``); or one index or label per row
        (such as the true labels ``y``).
    perturbation : Perturbation or str, default=None
        Distribution of the perturbed inputs; None means ``GaussianNoise(scale=0.1)``. See
        :mod:`skexplain.perturbations` (Yeh et al. use the noisy baseline, square removal and
        Shapley subsets; Decker et al. 20% subsets set to a baseline).
    perturbations : array-like of shape (n_samples, n_draws, n_features), default=None
        Explicit perturbed inputs instead of draws of ``perturbation`` (to compare with other
        libraries on identical draws).
    n_samples : int, default=50
        Draws per row (one bank shared by every row).
    n_background : int or None, default=100
        A masking perturbation (``SubsetBaseline``, ``ShapleySubsets``, ``SquareRemoval``) may
        take background rows as its baseline: a removed feature then takes each background
        row's value (a categorical column its category) and ``f(x - I)`` is the mean output
        over them, ``E_b f(x_kept, b_removed)``, the game of :class:`~skexplain.ShapleyExplainer`
        (the same function computes it), with ``I`` the difference to x of the copy at the
        background's mean. With more rows than ``n_background``, that many are drawn without
        replacement from ``random_state``; None uses all. One background row gives the
        infidelity of that row as a single baseline.
    normalize : bool, default=False
        Scale the attributions by the optimal ``beta = E[I^T phi D] / E[(I^T phi)^2]`` first, as
        Yeh et al. do and Captum's ``normalize=True``; then infidelity ignores the scale of phi.
    random_state : int, RandomState instance or None, default=None
    binary_masks : bool, default=False
        Use the indicator of the changed features, ``I_j = 1{x~_j != x_j}``, instead of
        ``x - x~``: Decker et al.'s (and Yeh et al.'s square-removal) convention for masks, for
        "global" attributions that already carry the factor ``x - baseline`` (IG, SHAP,
        Input x Gradient, normalized attributions). Then ``I^T phi`` is the attributions' sum
        over the removed features, as in :func:`faithfulness_correlation`.
    antithetic : bool, default=False
        Draw half of the perturbations and mirror them about the row (``x - eps`` for every
        ``x + eps``; gaussian and uniform noise only, and ``n_samples`` rounded up to even).
        The expectation is the same, and the error terms odd in ``I`` (the first-order change
        times any even remainder) cancel in pairs, so that differences between explanations,
        and the weights of an aggregator fitted on them, are far less noisy; the score itself
        is not (its even terms are drawn half as often).
    units : {"std", "raw"}, default="std"
        Unit of the perturbation's noise scale or radius: each numeric column's standard
        deviation (learned from the rows of the explainer's ``fit`` when ``model`` is its
        ``model_``, else from X), or raw units. Categorical columns are never noised, and masks
        with a scalar baseline replace them by their most frequent category.
    output : str, default="auto"
        The model output scored when ``model`` is not an adapter set to it already: "auto" (the
        package default: a classifier's log-odds), "logit", "probability", "log_probability",
        "decision_function" or "predict".
    return_quadratic : bool or "per_sample", default=False
        Return ``E[Gamma^T Gamma]``, shape ``(n_samples, k, k)``, for stacked attributions of ``k``
        explainers, with ``Gamma = I^T Phi - D 1^T``: infidelity of the convex combination
        ``Phi w`` is ``w^T Q w`` (Decker et al. 2024, Def. 4.1); with one explainer ``Q`` is the
        infidelity itself. ``"per_sample"`` returns the matrix ``Gamma^T Gamma`` of every draw,
        shape ``(n_samples, n_draws, k, k)``, whose mean over the draws is that form.
    n_jobs : int or None, default=None
        Parallel jobs over chunks of rows (joblib, so a Dask or Ray cluster through
        ``joblib.parallel_config``); the scores equal those of ``n_jobs=1``.
    verbose : int, default=0
        Show a progress bar over the chunks of rows when positive.

    Returns
    -------
    ndarray of shape (n_samples,), or (n_samples, k, k) with ``return_quadratic``
        (``(n_samples, n_draws, k, k)`` with ``return_quadratic="per_sample"``)

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.functions import Linear
    >>> from skexplain.metrics import infidelity
    >>> X = np.ones((2, 3))
    >>> f = Linear([1.0, 2.0, 3.0])
    >>> infidelity(f, X, np.array([[1.0, 2.0, 3.0]] * 2), random_state=0).round(12)  # exact
    array([0., 0.])
    """
    perturbation = check_perturbation(GaussianNoise(0.1) if perturbation is None else perturbation)
    model, X, codec = check_model_X(model, X, output, getattr(perturbation, "baseline", None))
    X, A = check_X_attributions(X, attributions, stacked=return_quadratic)
    if normalize and return_quadratic:
        raise ValueError("normalize=True is not a quadratic form: use one or the other")
    per_sample = isinstance(return_quadratic, str)  # "per_sample"
    stacked = A if A.ndim == 3 else A[:, None, :]
    target = model.resolve_target(X, target)
    fx = model.to_native(model.predict(X, target))
    stacked_native = model.to_native(stacked)
    perturbation = perturbation.for_columns(codec, units)
    if antithetic and perturbations is not None:
        raise ValueError("antithetic draws need perturbation, not explicit perturbations")
    values = None  # the outputs at the copies, when known before the reduction
    background = is_background(getattr(perturbation, "baseline", None))
    if perturbations is None and background and not antithetic:
        expand, m, values = _masked_to_background(
            model, X, target, perturbation, n_samples, n_background, random_state
        )
    else:  # (antithetic draws of masks are refused there: they mirror additive noise only)
        expand, m = perturbed_copies(
            X, perturbation, perturbations, n_samples, random_state, antithetic=antithetic
        )

    def reduce(V, Z, Xc, rows):
        I = Xc[:, None, :] - Z  # (c, m, d)
        if binary_masks:
            I = (I != 0) + 0 * I  # the indicator, in I's array type and dtype
        change = fx[rows][:, None] - V  # f(x) - f(x - I), (c, m)
        dots = I @ stacked_native[rows].swapaxes(1, 2)  # I^T phi for each member, (c, m, k)
        if normalize:
            dots = dots[:, :, 0]
            denominator = (dots * dots).mean(axis=1)
            numerator = (dots * change).mean(axis=1)
            zero = denominator == 0
            beta = numerator / (denominator * ~zero + 1.0 * zero)  # Captum's safe division
            return ((beta[:, None] * dots - change) ** 2).mean(axis=1)
        gamma = dots - change[:, :, None]
        if per_sample:
            return gamma[:, :, :, None] * gamma[:, :, None, :]  # (c, m, k, k)
        return gamma.swapaxes(1, 2) @ gamma / m  # (c, k, k)

    if values is None:
        result = model.query_perturbed(X, target, expand, reduce, n_per_row=m, kind="predict")
    else:  # the outputs are known: only the reduction runs, chunk by chunk

        def compute(rows):
            Xc = model.to_native(X[rows])
            V = model.to_native(values[rows])
            return model.to_numpy(reduce(V, expand(Xc, rows), Xc, rows))

        result = map_row_chunks(X.shape[0], compute, per_row=m, budget=model.batch_size)
    if normalize:
        return result
    return result if return_quadratic else result[:, 0, 0]


def _masked_to_background(model, X, target, perturbation, n_samples, n_background, seed):
    """Infidelity's masks with background rows: the mean outputs and the mean copies.

    The output at a masked copy is ``v = E_b f(x_kept, b_removed)`` (the engine's masking loop,
    as :class:`~skexplain.ShapleyExplainer`'s game), and the copy whose difference to x is ``I``
    is the mean one, ``x`` with its removed features at the background's mean, so that ``I``
    (and its indicator) are those of a single baseline when there is one background row.
    Returns ``(expand, m, values)`` with ``values`` of shape ``(n, m)``.
    """
    rng = check_random_state(seed)
    bank = perturbation.draw(n_samples, X.shape[1], rng)
    if "mask" not in bank:
        raise ValueError(f"{type(perturbation).__name__} takes no background rows as baseline")
    background = sample_background(bank["baseline"], n_background, rng)
    values = coalition_values(model, X, target, bank["mask"] == 0, background)
    mean_bank = {**bank, "baseline": background.mean(axis=0)}

    def expand(X_rows, rows):
        return perturbation.apply(X_rows, mean_bank)

    return expand, n_samples, values


def _beta_scaled(Q, k, per_sample=None):
    """Infidelity quadratic form of the members each scaled by its optimal ``beta >= 0``.

    ``Q`` is the ``(n, k + 1, k + 1)`` form of the members and one all-zero member, from which
    ``E[D^2] = Q_00``, ``E[a_i D] = Q_00 - Q_i0`` and ``E[a_i a_j] = Q_ij + b_i + b_j - Q_00``
    (index 0 here meaning the zero member, the last one). The member ``beta_i a_i`` then has
    ``E[(beta_i a_i - D)(beta_j a_j - D)] = beta_i beta_j A_ij - beta_i b_i - beta_j b_j + c``
    (Decker et al.'s released code scales the columns of Gamma so). With ``per_sample``, the
    ``(n, m, k + 1, k + 1)`` matrices of the draws whose mean is ``Q``, the same betas (from the
    mean) scale every draw's matrix, shape ``(n, m, k, k)``.
    """

    def moments(Q):
        c = Q[..., k, k]
        b = c[..., None] - Q[..., :k, k]
        A = Q[..., :k, :k] + b[..., :, None] + b[..., None, :] - c[..., None, None]
        return A, b, c

    A, b, c = moments(Q)
    second = np.einsum("nii->ni", A)
    beta = np.divide(b, second, out=np.zeros_like(b), where=second > 0)
    beta = np.maximum(beta, 0.0)  # a member anti-correlated with the output drops out
    if per_sample is not None:
        A, b, c = moments(per_sample)
        beta = beta[:, None, :]
    scaled_b = beta * b
    return (
        beta[..., :, None] * A * beta[..., None, :]
        - scaled_b[..., :, None]
        - scaled_b[..., None, :]
        + c[..., None, None]
    )


def _infidelity_quadratic_form(
    model,
    explainers,
    X,
    members,
    *,
    target,
    n_samples,
    random_state,
    postprocess=None,
    per_sample=False,
    normalize=False,
    antithetic=None,
    **params,
):
    """The registry's quadratic form of infidelity for ``members`` ``(n, k, d)``.

    ``params`` are :func:`infidelity`'s keyword arguments (its own defaults for the others).
    With ``normalize`` it is the form of the scale-free infidelity (each member scaled by its
    own optimal ``beta >= 0``, as Decker et al.'s released code does), else ``E[Gamma^T Gamma]``.
    ``per_sample`` returns the matrices of the draws ``(n, m, k, k)`` instead of their mean.
    ``antithetic=None`` mirrors the draws whenever the perturbation is symmetric about the row:
    the same expected form, whose minimizer is estimated with far less noise (the cross terms of
    the first-order change with the even remainder of ``f`` cancel in pairs).
    """
    k, d = members.shape[1], members.shape[2]
    if antithetic is None:
        perturbation = params.get("perturbation")
        perturbation = GaussianNoise() if perturbation is None else perturbation
        antithetic = params.get("perturbations") is None and isinstance(
            check_perturbation(perturbation), (GaussianNoise, UniformBall)
        )
    kwargs = dict(
        target=target, n_samples=n_samples, random_state=random_state, antithetic=antithetic
    )
    kwargs.update(params)
    if not normalize:
        return infidelity(
            model, X, members, return_quadratic="per_sample" if per_sample else True, **kwargs
        )
    # one extra all-zero member: its column of Gamma is -D, which gives the moments
    # E[D^2] and E[a_i D] (a_i = I^T phi_i) that the optimal scales need
    padded = np.concatenate([members, np.zeros((members.shape[0], 1, d))], axis=1)
    if not per_sample:
        return _beta_scaled(infidelity(model, X, padded, return_quadratic=True, **kwargs), k)
    draws = infidelity(model, X, padded, return_quadratic="per_sample", **kwargs)
    return _beta_scaled(draws.mean(axis=1), k, per_sample=draws)
