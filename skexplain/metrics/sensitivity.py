"""Sensitivity and stability of explanations: re-explain perturbed rows with the fitted explainer.

``max_sensitivity`` follows Yeh et al. (2019, Def. 3.1) and Captum's ``sensitivity_max``;
``avg_sensitivity`` is Decker et al.'s (2024) absolute squared SENS_AVG, a generalized L2
metric; ``local_lipschitz`` is Alvarez-Melis & Jaakkola's (2018) estimate and
``relative_input_stability`` Agarwal et al.'s (2022) RIS as in OpenXAI.

Stochastic explainers (SmoothGrad, VarGrad, C-LIME, ...) are re-explained at x and at every
perturbed copy. With ``explainer_noise="common"`` (the default) the explainer runs as fitted:
with an integer ``random_state`` it reuses one noise bank everywhere (common random numbers),
so the score measures the explainer a user runs with a fixed seed, and only the input moves.
``explainer_noise="fresh"`` reseeds the explainer (and its fitted inner explainers), from the
metric's ``random_state``, for x and for each copy, as Yeh et al.'s code, Captum and Decker et
al.'s code do: the explainer's own Monte Carlo noise then adds to the score. Deterministic
explainers score the same either way.
"""

import numpy as np
from sklearn.utils import check_random_state

from .._compat import HasMethods
from .._engine import explain_perturbed
from ..perturbations import UniformBall, check_perturbation, perturbed_copies
from ..utils import check_target
from ._rows import row_metric
from ._validation import check_explainer_X, validate_metric_params

__all__ = ["max_sensitivity", "avg_sensitivity", "local_lipschitz", "relative_input_stability"]


def _draws(X, perturbation, perturbations, n_samples, rng, default_radius, codec, units):
    """``(expand, m)``: explicit copies of X, or a bank (default: an L-inf ball) for every row.

    Noise scales and radii are in the units ``units`` of the columns of ``codec``.
    """
    if perturbation is None:
        perturbation = UniformBall(radius=default_radius, norm="inf")
    perturbation = check_perturbation(perturbation).for_columns(codec, units)
    return perturbed_copies(X, perturbation, perturbations, n_samples, rng)


def _fresh_noise(explainer_noise, rng):
    """The RandomState that reseeds the explainer at x and at each copy, or None (common)."""
    return rng if explainer_noise == "fresh" else None


def _safe_norm(values, axis):
    norm = np.linalg.norm(values, axis=axis)
    return np.where(norm == 0, 1.0, norm)  # Captum's convention: a zero explanation divides by 1


@row_metric
@validate_metric_params
def max_sensitivity(
    explainer,
    X,
    *,
    perturbation=None,
    perturbations=None,
    n_samples=10,
    radius=0.02,
    relative=False,
    explainer_noise="common",
    random_state=None,
    units="std",
    n_jobs=None,
    verbose=0,
):
    """Largest change of the explanation over perturbed copies of each row (Yeh et al. 2019).

    ``max_j ||phi(x~_j) - phi(x)||`` by default, the absolute SENS_MAX of Yeh et al.'s
    Definition 3.1; with ``relative=True``, ``max_j ||phi(x~_j) - phi(x)|| / ||phi(x)||``, what
    Yeh et al.'s released code and Captum's ``sensitivity_max`` (Frobenius norm) compute. The
    relative form lets the few rows whose explanation is near zero dominate a mean over rows.
    Lower is better.

    Parameters
    ----------
    explainer : fitted explainer
        Re-explains the perturbed rows with its ``transform``.
    X : array-like of shape (n_samples, n_features)
        The explained rows.
    perturbation : Perturbation or str, default=None
        None means uniform noise in the L-infinity ball of ``radius`` (Yeh et al., Captum).
    perturbations : array-like of shape (n_samples, n_draws, n_features), default=None
        Explicit perturbed inputs (to compare with other libraries on identical draws).
    n_samples : int, default=10
        Draws per row (Captum's default; Yeh et al.'s code uses 50).
    radius : float, default=0.02
        Radius of the default perturbation (Captum's default; Yeh et al.'s code uses 0.2 for
        local and 0.1 for global explanations).
    relative : bool, default=False
        Divide by the norm of the explanation at x (a zero explanation divides by 1), as Yeh et
        al.'s code and Captum do.
    explainer_noise : {"common", "fresh"}, default="common"
        The explainer's own noise at x and at the copies: reused (common random numbers) or
        drawn afresh for each (the papers' code); see the module notes.
    random_state : int, RandomState instance or None, default=None
        Seed of the random draws; an int makes the scores repeatable.
    units : {"std", "raw"}, default="std"
        Unit of ``radius`` (and of a given perturbation's scale): each numeric column's standard
        deviation in the explainer's fitting rows, or raw units. Categorical columns of a
        frame are never noised.
    n_jobs : int or None, default=None
        Parallel jobs over chunks of rows (joblib, so a Dask or Ray cluster through
        ``joblib.parallel_config``); the scores equal those of ``n_jobs=1``.
    verbose : int, default=0
        Show a progress bar over the chunks of rows when positive.

    Returns
    -------
    ndarray of shape (n_samples,)
        The score of every row (lower is better).

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain import Gradient
    >>> from skexplain.functions import Linear
    >>> from skexplain.metrics import max_sensitivity
    >>> X = np.zeros((2, 3))
    >>> explainer = Gradient(model=Linear([1.0, 2.0, 3.0])).fit(X)
    >>> max_sensitivity(explainer, X, random_state=0)  # a linear model's gradient never moves
    array([0., 0.])
    """
    X, codec = check_explainer_X(explainer, X)
    rng = check_random_state(random_state)
    draws, m = _draws(X, perturbation, perturbations, n_samples, rng, radius, codec, units)
    fresh = _fresh_noise(explainer_noise, rng)

    def statistic(values, Z, Xc, rows):
        phi_x, phi_z = values
        change = np.linalg.norm(phi_z[:, :, 0] - phi_x[:, None, 0], axis=2)  # (c, m)
        if relative:
            change = change / _safe_norm(phi_x[:, 0], axis=1)[:, None]
        return change.max(axis=1)

    return explain_perturbed([explainer], X, draws, m, statistic, fresh_noise=fresh)


@row_metric
@validate_metric_params(explainer=[HasMethods(["transform"]), list, tuple])
def avg_sensitivity(
    explainer,
    X,
    *,
    perturbation=None,
    perturbations=None,
    n_samples=50,
    radius=0.1,
    relative=False,
    explainer_noise="common",
    random_state=None,
    units="std",
    return_quadratic=False,
    postprocess=None,
    target=None,
    n_jobs=None,
    verbose=0,
):
    """Mean squared change of the explanation over perturbed copies (Decker et al.'s SENS_AVG).

    ``E ||phi(x) - phi(x + eps)||^2`` with ``eps ~ U[-radius, radius]^d`` by default; with
    ``relative=True`` each change is divided by ``||phi(x)||^2``. Lower is better. A generalized
    L2 metric (Decker et al. 2024, Def. 4.1) with ``gamma1 = I`` and ``gamma2 = phi(x + eps)``.

    Parameters
    ----------
    explainer : fitted explainer, or list of k fitted explainers with ``return_quadratic``
        A fitted explainer; it re-explains the perturbed rows.
    X : array-like of shape (n_samples, n_features)
        The explained rows.
    perturbation : Perturbation or str, default=None
        None means uniform noise in the L-infinity ball of ``radius``.
    perturbations : array-like of shape (n_samples, n_draws, n_features), default=None
        Explicit perturbed inputs (to compare with other libraries on identical draws).
    n_samples : int, default=50
        Draws per row.
    radius : float, default=0.1
        Radius of the default perturbation (Decker et al. use 0.1).
    relative : bool, default=False
        Divide by the norm of the explanation at x.
    explainer_noise : {"common", "fresh"}, default="common"
        The explainer's own noise at x and at the copies: reused (common random numbers) or
        drawn afresh for each (the papers' code); see the module notes.
    random_state : int, RandomState instance or None, default=None
        Seed of the random draws; an int makes the scores repeatable.
    units : {"std", "raw"}, default="std"
        Unit of ``radius`` (and of a given perturbation's scale): each numeric column's standard
        deviation in the explainer's fitting rows, or raw units. Categorical columns of a
        frame are never noised.
    return_quadratic : bool or "per_sample", default=False
        Return ``E[Gamma^T Gamma]``, shape ``(n_samples, k, k)``, with ``Gamma`` the ``d x k``
        matrix of the members' changes ``phi_i(x) - phi_i(x + eps)``: the metric of the convex
        combination with weights ``w`` (applied at x and at x + eps) is ``w^T Q w``.
        ``"per_sample"`` returns the matrix ``Gamma^T Gamma`` of every draw, shape
        ``(n_samples, n_draws, k, k)``, whose mean over the draws is that form.
    postprocess : callable or None, default=None
        Applied to every explanation (at x and at the copies, arrays whose last axis is the
        features) before the metric, e.g. the normalization of an aggregator's members.
    target : int, array-like of shape (n_samples,) or None, default=None
        Output index explained at each row and its copies (an int: the same for every row);
        None keeps each explainer's choice at the row (its predicted class). An aggregator
        passes the target it was called with.
    n_jobs : int or None, default=None
        Parallel jobs over chunks of rows (joblib, so a Dask or Ray cluster through
        ``joblib.parallel_config``); the scores equal those of ``n_jobs=1``.
    verbose : int, default=0
        Show a progress bar over the chunks of rows when positive.

    Returns
    -------
    ndarray of shape (n_samples,), or (n_samples, k, k) with ``return_quadratic``
        The score of every row (lower is better), or its quadratic form in the weights of the
        ``k`` explainers (``(n_samples, n_draws, k, k)`` with ``return_quadratic="per_sample"``).

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain import Gradient
    >>> from skexplain.functions import Polynomial
    >>> from skexplain.metrics import avg_sensitivity
    >>> X = np.zeros((1, 2))
    >>> explainer = Gradient(model=Polynomial(degree=2)).fit(X)  # gradient 2x moves with x
    >>> float(avg_sensitivity(explainer, X, n_samples=20000, random_state=0)[0].round(3))
    0.027
    """
    explainers = list(explainer) if isinstance(explainer, (list, tuple)) else [explainer]
    if not explainers:
        raise ValueError("explainer must be a fitted explainer or a non-empty list of them")
    if len(explainers) > 1 and not return_quadratic:
        raise ValueError("several explainers need return_quadratic=True")
    lacking = [type(e).__name__ for e in explainers if not hasattr(e, "transform")]
    if lacking:
        raise TypeError(f"explainers must have a transform method, got {lacking}")
    X, codec = check_explainer_X(explainer, X)
    rng = check_random_state(random_state)
    draws, m = _draws(X, perturbation, perturbations, n_samples, rng, radius, codec, units)
    fresh = _fresh_noise(explainer_noise, rng)
    per_sample = isinstance(return_quadratic, str)  # "per_sample"

    def statistic(values, Z, Xc, rows):
        phi_x, phi_z = values
        if postprocess is not None:
            phi_x, phi_z = postprocess(phi_x), postprocess(phi_z)
        gamma = phi_x[:, None] - phi_z  # (c, m, k, d)
        if relative:
            scale = _safe_norm(phi_x, axis=2) ** 2  # (c, k)
            gamma = gamma / np.sqrt(scale)[:, None, :, None]
        if per_sample:
            return np.einsum("cmkd,cmld->cmkl", gamma, gamma)
        return np.einsum("cmkd,cmld->ckl", gamma, gamma) / m

    if target is not None and hasattr(explainers[0], "model_"):
        target = explainers[0].model_.resolve_target(X, target)  # labels as indices
    target = check_target(target, X.shape[0])  # an index, or one per row
    Q = explain_perturbed(explainers, X, draws, m, statistic, target=target, fresh_noise=fresh)
    return Q if return_quadratic else Q[:, 0, 0]


@row_metric
@validate_metric_params
def local_lipschitz(
    explainer,
    X,
    *,
    perturbation=None,
    perturbations=None,
    n_samples=10,
    radius=0.1,
    explainer_noise="common",
    random_state=None,
    units="std",
    n_jobs=None,
    verbose=0,
):
    """Monte Carlo local Lipschitz estimate (Alvarez-Melis & Jaakkola 2018).

    ``max_j ||phi(x) - phi(x~_j)||_2 / ||x - x~_j||_2`` over perturbed copies. Lower is better.

    Parameters
    ----------
    explainer : fitted explainer
        A fitted explainer; it re-explains the perturbed rows.
    X : array-like of shape (n_samples, n_features)
        The explained rows.
    perturbation : Perturbation or str, default=None
        None means uniform noise in the L-infinity ball of ``radius``.
    perturbations : array-like of shape (n_samples, n_draws, n_features), default=None
        Explicit perturbed inputs (to compare with other libraries on identical draws).
    n_samples : int, default=10
        Draws per row.
    radius : float, default=0.1
        Radius of the default perturbation.
    explainer_noise : {"common", "fresh"}, default="common"
        The explainer's own noise at x and at the copies: reused (common random numbers) or
        drawn afresh for each (the papers' code); see the module notes.
    random_state : int, RandomState instance or None, default=None
        Seed of the random draws; an int makes the scores repeatable.
    units : {"std", "raw"}, default="std"
        Unit of ``radius`` (and of a given perturbation's scale): each numeric column's standard
        deviation in the explainer's fitting rows, or raw units. Categorical columns of a
        frame are never noised.
    n_jobs : int or None, default=None
        Parallel jobs over chunks of rows (joblib, so a Dask or Ray cluster through
        ``joblib.parallel_config``); the scores equal those of ``n_jobs=1``.
    verbose : int, default=0
        Show a progress bar over the chunks of rows when positive.

    Returns
    -------
    ndarray of shape (n_samples,)
        The score of every row (lower is better).

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain import Gradient
    >>> from skexplain.functions import Polynomial
    >>> from skexplain.metrics import local_lipschitz
    >>> X = np.zeros((1, 2))
    >>> explainer = Gradient(model=Polynomial(degree=2)).fit(X)  # gradient 2x: Lipschitz 2
    >>> local_lipschitz(explainer, X, random_state=0).round(6)
    array([2.])
    """
    X, codec = check_explainer_X(explainer, X)
    rng = check_random_state(random_state)
    draws, m = _draws(X, perturbation, perturbations, n_samples, rng, radius, codec, units)
    fresh = _fresh_noise(explainer_noise, rng)

    def statistic(values, Z, Xc, rows):
        phi_x, phi_z = values
        change = np.linalg.norm(phi_z[:, :, 0] - phi_x[:, None, 0], axis=2)
        distance = np.linalg.norm(Z - Xc[:, None], axis=2)
        ratio = np.divide(change, distance, out=np.zeros_like(change), where=distance > 0)
        return ratio.max(axis=1)

    return explain_perturbed([explainer], X, draws, m, statistic, fresh_noise=fresh)


@row_metric
@validate_metric_params
def relative_input_stability(
    explainer,
    X,
    *,
    perturbation=None,
    perturbations=None,
    n_samples=10,
    radius=0.1,
    eps=1e-6,
    same_prediction=True,
    explainer_noise="common",
    random_state=None,
    units="std",
    n_jobs=None,
    verbose=0,
):
    """Relative Input Stability (Agarwal et al. 2022), as OpenXAI computes it.

    ``max_j ||(phi(x) - phi(x~_j)) / phi(x)|| / max(||(x - x~_j) / x||, eps)``, the percent change
    of the explanation over the percent change of the input; denominators smaller than ``eps`` in
    magnitude are replaced by ``eps``. With ``same_prediction`` only draws where the model
    predicts the same class as at ``x`` count (Agarwal et al.'s definition); a row with no such
    draw scores NaN. Lower is better.

    Parameters
    ----------
    explainer : fitted explainer (with ``model_``)
        A fitted explainer; it re-explains the perturbed rows.
    X : array-like of shape (n_samples, n_features)
        The explained rows.
    perturbation : Perturbation or str, default=None
        None means uniform noise in the L-infinity ball of ``radius``.
    perturbations : array-like of shape (n_samples, n_draws, n_features), default=None
        Explicit perturbed inputs (to compare with other libraries on identical draws).
    n_samples : int, default=10
        Draws per row.
    radius : float, default=0.1
        Radius of the default perturbation.
    eps : float > 0, default=1e-6
        Floor of the denominators, against division by zero.
    same_prediction : bool, default=True
        Only count copies whose predicted class is that of the row.
    explainer_noise : {"common", "fresh"}, default="common"
        The explainer's own noise at x and at the copies: reused (common random numbers) or
        drawn afresh for each (the papers' code); see the module notes.
    random_state : int, RandomState instance or None, default=None
        Seed of the random draws; an int makes the scores repeatable.
    units : {"std", "raw"}, default="std"
        Unit of ``radius`` (and of a given perturbation's scale): each numeric column's standard
        deviation in the explainer's fitting rows, or raw units. Categorical columns of a
        frame are never noised.
    n_jobs : int or None, default=None
        Parallel jobs over chunks of rows (joblib, so a Dask or Ray cluster through
        ``joblib.parallel_config``); the scores equal those of ``n_jobs=1``.
    verbose : int, default=0
        Show a progress bar over the chunks of rows when positive.

    Returns
    -------
    ndarray of shape (n_samples,)
        The score of every row (lower is better).

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain import InputXGradient
    >>> from skexplain.functions import Linear
    >>> from skexplain.metrics import relative_input_stability
    >>> X = np.ones((1, 2))
    >>> explainer = InputXGradient(model=Linear([1.0, 1.0])).fit(X)  # phi = x: ratio 1
    >>> relative_input_stability(explainer, X, random_state=0).round(6)
    array([1.])
    """
    X, codec = check_explainer_X(explainer, X)
    rng = check_random_state(random_state)
    draws, m = _draws(X, perturbation, perturbations, n_samples, rng, radius, codec, units)
    fresh = _fresh_noise(explainer_noise, rng)

    def _guard(values):
        return np.where(np.abs(values) < eps, eps, values)

    def statistic(values, Z, Xc, rows):
        phi_x, phi_z = values
        phi_x, phi_z = phi_x[:, 0], phi_z[:, :, 0]
        explanation_change = np.linalg.norm(
            (phi_x[:, None] - phi_z) / _guard(phi_x)[:, None], axis=2
        )
        input_change = np.linalg.norm((Xc[:, None] - Z) / _guard(Xc)[:, None], axis=2)
        ratio = explanation_change / np.maximum(input_change, eps)
        if same_prediction:
            model = explainer.model_
            at_x = model.resolve_target(Xc)
            if at_x is not None:
                at_z = model.resolve_target(Z.reshape(-1, Z.shape[2])).reshape(Z.shape[:2])
                ratio = np.where(at_z == at_x[:, None], ratio, -np.inf)
        best = ratio.max(axis=1)
        return np.where(np.isneginf(best), np.nan, best)

    return explain_perturbed([explainer], X, draws, m, statistic, fresh_noise=fresh)


def _avg_sensitivity_quadratic_form(
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
    **params,
):
    """The registry's quadratic form of average sensitivity: the members re-explain copies.

    ``params`` are :func:`avg_sensitivity`'s keyword arguments (its own defaults for the
    others); ``per_sample`` returns the matrices of the draws ``(n, m, k, k)``.
    """
    if explainers is None:
        raise ValueError(
            "the quadratic form of avg_sensitivity re-explains perturbed rows with the members "
            "themselves; their attributions alone do not suffice"
        )
    if params.get("relative"):
        # each member's changes would be divided by its own norm, not by the combination's
        raise ValueError(
            "relative=True avg_sensitivity divides by the explanation's norm at x, which is not "
            "a quadratic form in the weights of a combination: use the absolute form"
        )
    return avg_sensitivity(
        list(explainers),
        X,
        n_samples=n_samples,
        random_state=random_state,
        return_quadratic="per_sample" if per_sample else True,
        postprocess=postprocess,
        target=target,
        **params,
    )
