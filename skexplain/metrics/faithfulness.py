"""Faithfulness by removal: subset correlations and insertion/deletion curves.

``faithfulness_correlation`` (Bhatt et al. 2020) and ``sensitivity_n`` (Ancona et al. 2018) are
the same statistic, the Pearson correlation over random subsets ``S`` between the attributions'
sum over ``S`` and the output drop when ``S`` is set to a baseline; they differ in how the subset
size is given. ``insertion_auc`` and ``deletion_auc`` follow Yoshikawa & Iwata (2024, eqs. 1-4):
the mean output as the top-ranked features are inserted into the baseline, or deleted from x.

A baseline may be background rows: a removed feature then takes each background row's value and
the output is averaged over them, ``E_b f(x_kept, b_removed)``, the game of
:class:`~skexplain.ShapleyExplainer`. Every metric here evaluates it, a single baseline being a
background of one row, through the engine's one masking loop
(:func:`skexplain._masking.coalition_values`), which ShapleyExplainer also uses.
"""

import numpy as np
from sklearn.utils import check_random_state

from .._masking import coalition_values
from ..utils import subset_masks
from ._rows import row_metric
from ._validation import (
    check_model_X,
    check_X_attributions,
    masking_background,
    validate_metric_params,
)

__all__ = ["faithfulness_correlation", "sensitivity_n", "insertion_auc", "deletion_auc"]


def _pearson(a, b):
    """Row-wise Pearson correlation of ``(n, m)`` arrays; NaN where either is constant.

    Constant means constant up to rounding: values that agree to 1e-12 of their magnitude (the
    same subset every time, summed in another order or evaluated in another batch) have no
    correlation to report, not a spurious +-1.
    """

    def centred(v):
        c = v - v.mean(axis=1, keepdims=True)
        spread = np.sqrt((c * c).sum(axis=1))
        scale = np.abs(v).max(axis=1, initial=0.0) * np.sqrt(v.shape[1])
        return c, spread, spread <= _CONSTANT * scale

    a, spread_a, constant_a = centred(a)
    b, spread_b, constant_b = centred(b)
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = (a * b).sum(axis=1) / (spread_a * spread_b)
    return np.where(constant_a | constant_b, np.nan, np.clip(correlation, -1.0, 1.0))


# Relative spread below which a row of values counts as constant.
_CONSTANT = 1e-12


def _subset_correlation(
    model, X, attributions, size, *, baseline, n_background, n_samples, target, random_state, output
):
    model, X, codec = check_model_X(model, X, output, baseline)
    X, A = check_X_attributions(X, attributions)
    n, d = X.shape
    if not 1 <= size <= d:
        raise ValueError(f"the subset size must be between 1 and {d} features, got {size}")
    rng = check_random_state(random_state)
    masks = subset_masks(np.full(n_samples, size), d, rng)  # 1: removed
    background = masking_background(baseline, codec, d, n_background, rng)
    target = model.resolve_target(X, target)
    fx = model.predict(X, target)
    values = coalition_values(model, X, target, masks == 0, background)
    drops = fx[:, None] - values  # (n, m)
    sums = A @ masks.T  # attributions summed over each subset, (n, m)
    return _pearson(sums, drops)


@row_metric
@validate_metric_params
def faithfulness_correlation(
    model,
    X,
    attributions,
    *,
    subset_fraction=0.2,
    baseline=0.0,
    n_background=100,
    n_samples=100,
    target=None,
    output="auto",
    random_state=None,
    n_jobs=None,
    verbose=0,
):
    """Correlation of subset attribution sums with output drops (Bhatt et al. 2020).

    For ``n_samples`` random subsets of ``max(1, round(subset_fraction * d))`` features, the Pearson
    correlation between ``sum_{i in S} phi_i`` and ``f(x) - f(x with x_S = baseline)`` (with
    background rows, ``f(x) - E_b f(x with x_S = b_S)``). Higher is better; NaN where either
    quantity is constant over the subsets.

    Parameters
    ----------
    model : object
        The model: a torch module, a fitted scikit-learn estimator or a callable.
    X : array-like of shape (n_samples, n_features)
        The explained rows.
    attributions : array-like of shape (n_samples, n_features)
        Their attributions, one per feature.
    subset_fraction : float in (0, 1], default=0.2
        Size of the random subsets, as a share of the features.
    baseline : float, array-like of shape (n_features,), "mean" or background rows, default=0.0
        Value that replaces a removed feature. With a scalar, a categorical column of a frame
        is replaced by its most frequent category; an array gives every column's (encoded)
        value; "mean" is each numeric column's mean and each categorical column's mode in the
        explainer's fitting rows (or in X). Background rows, an array-like of shape
        ``(n_rows, n_features)`` (encoded, as ``ShapleyExplainer.background_``) or a DataFrame
        of the raw columns: a removed feature takes each background row's value in turn (a
        categorical column its category) and the output is their mean, ``E_b f(x_kept,
        b_removed)``, the interventional game of :class:`~skexplain.ShapleyExplainer`
        (computed by the same function). One background row is the same as that row as an
        array.
    n_background : int or None, default=100
        With more background rows than this, that many are drawn without replacement (from
        ``random_state``) and used; None uses them all. Each costs one model evaluation per
        masked copy.
    n_samples : int, default=100
        Random subsets per row (one set of subsets shared by every row).
    target : "predicted", int, label, array-like of shape (n_samples,) or None, default=None
        Output to explain: None or "predicted" is a single output, or each row's predicted
        class; an output index; a class label (``"barolo"``); or one index or label per row
        (such as the true labels ``y``).
    output : str, default="auto"
        The model output scored when ``model`` is not an adapter set to it already: "auto" (the
        package default: a classifier's log-odds), "logit", "probability", "log_probability",
        "decision_function" or "predict".
    random_state : int, RandomState instance or None, default=None
        Seed of the random draws; an int makes the scores repeatable.
    n_jobs : int or None, default=None
        Parallel jobs over chunks of rows (joblib, so a Dask or Ray cluster through
        ``joblib.parallel_config``); the scores equal those of ``n_jobs=1``.
    verbose : int, default=0
        Show a progress bar over the chunks of rows when positive.

    Returns
    -------
    ndarray of shape (n_samples,)
        The correlation at every row, in [-1, 1] (higher is better).

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.functions import Linear
    >>> from skexplain.metrics import faithfulness_correlation
    >>> X = np.ones((1, 5))
    >>> f = Linear([1.0, 2.0, 3.0, 4.0, 5.0])
    >>> faithfulness_correlation(f, X, f.gradient(X) * X, random_state=0).round(6)
    array([1.])
    """
    d = np.shape(X)[1]
    size = max(1, int(round(subset_fraction * d)))
    return _subset_correlation(
        model,
        X,
        attributions,
        size,
        baseline=baseline,
        n_background=n_background,
        n_samples=n_samples,
        target=target,
        random_state=random_state,
        output=output,
    )


@row_metric
@validate_metric_params
def sensitivity_n(
    model,
    X,
    attributions,
    *,
    n_features,
    baseline=0.0,
    n_background=100,
    n_samples=100,
    target=None,
    output="auto",
    random_state=None,
    n_jobs=None,
    verbose=0,
):
    """Sensitivity-n (Ancona et al. 2018): the subset correlation for subsets of size ``n``.

    The Pearson correlation, over random subsets of exactly ``n_features`` features, between the
    attributions' sum over the subset and the output drop when the subset is set to the baseline.
    Higher is better.

    Parameters
    ----------
    model : object
        The model: a torch module, a fitted scikit-learn estimator or a callable.
    X : array-like of shape (n_samples, n_features)
        The explained rows.
    attributions : array-like of shape (n_samples, n_features)
        Their attributions, one per feature.
    n_features : int
        The subset size ``n``.
    baseline : float, array-like of shape (n_features,), "mean" or background rows, default=0.0
        Value that replaces a removed feature. With a scalar, a categorical column of a frame
        is replaced by its most frequent category; an array gives every column's (encoded)
        value; "mean" is each numeric column's mean and each categorical column's mode in the
        explainer's fitting rows (or in X). Background rows, an array-like of shape
        ``(n_rows, n_features)`` (encoded, as ``ShapleyExplainer.background_``) or a DataFrame
        of the raw columns: a removed feature takes each background row's value in turn (a
        categorical column its category) and the output is their mean, ``E_b f(x_kept,
        b_removed)``, the interventional game of :class:`~skexplain.ShapleyExplainer`
        (computed by the same function). One background row is the same as that row as an
        array.
    n_background : int or None, default=100
        With more background rows than this, that many are drawn without replacement (from
        ``random_state``) and used; None uses them all. Each costs one model evaluation per
        masked copy.
    n_samples : int, default=100
        Random subsets per row (one set shared by every row).
    target : "predicted", int, label, array-like of shape (n_samples,) or None, default=None
        Output to explain: None or "predicted" is a single output, or each row's predicted
        class; an output index; a class label (``"barolo"``); or one index or label per row
        (such as the true labels ``y``).
    output : str, default="auto"
        The model output scored when ``model`` is not an adapter set to it already: "auto" (the
        package default: a classifier's log-odds), "logit", "probability", "log_probability",
        "decision_function" or "predict".
    random_state : int, RandomState instance or None, default=None
        Seed of the random draws; an int makes the scores repeatable.
    n_jobs : int or None, default=None
        Parallel jobs over chunks of rows (joblib, so a Dask or Ray cluster through
        ``joblib.parallel_config``); the scores equal those of ``n_jobs=1``.
    verbose : int, default=0
        Show a progress bar over the chunks of rows when positive.

    Returns
    -------
    ndarray of shape (n_samples,)
        The correlation at every row, in [-1, 1] (higher is better).

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.functions import Linear
    >>> from skexplain.metrics import sensitivity_n
    >>> X = np.ones((1, 4))
    >>> f = Linear([1.0, -1.0, 2.0, 0.5])
    >>> sensitivity_n(f, X, f.gradient(X), n_features=2, random_state=0).round(6)
    array([1.])
    """
    return _subset_correlation(
        model,
        X,
        attributions,
        int(n_features),
        baseline=baseline,
        n_background=n_background,
        n_samples=n_samples,
        target=target,
        random_state=random_state,
        output=output,
    )


def n_curve_steps(fraction, n_features):
    """Features covered by the insertion/deletion curves: ``max(1, round(fraction * d))``."""
    return max(1, int(round(fraction * n_features)))


def curve_counts(n_steps, step=1):
    """The ``s`` of the curves: ``step, 2 step, ...`` and ``n_steps`` last.

    On images whole cells or superpixels enter at once (Yoshikawa & Iwata step by 16 pixels for
    8x8 Grad-CAM maps of 32x32 images). Shared with the soft curves of ``skexplain.training``.
    """
    counts = np.arange(step, n_steps + 1, step)
    if counts.size == 0 or counts[-1] != n_steps:
        counts = np.append(counts, n_steps)
    return counts


def _curve(
    model, X, attributions, *, fraction, step, baseline, n_background, target, output, seed, insert
):
    model, X, codec = check_model_X(model, X, output, baseline)
    X, A = check_X_attributions(X, attributions)
    n, d = X.shape
    counts = curve_counts(n_curve_steps(fraction, d), step)
    background = masking_background(baseline, codec, d, n_background, check_random_state(seed))
    # rank[i, j] = position of feature j in row i's attributions, largest first (stable for ties)
    rank = np.empty((n, d), dtype=np.int64)
    np.put_along_axis(rank, np.argsort(-A, axis=1, kind="stable"), np.arange(d)[None], axis=1)
    target = model.resolve_target(X, target)

    # the coalitions over ranks (True: the row's value), each row's ranking as its labels
    inserted = np.arange(d)[None, :] < counts[:, None]  # (steps, d)
    masks = inserted if insert else ~inserted
    values = coalition_values(model, X, target, masks, background, relabel=rank, relabel_by="row")
    return values.mean(axis=1)


@row_metric
@validate_metric_params
def insertion_auc(
    model,
    X,
    attributions,
    *,
    fraction=0.5,
    step=1,
    baseline=0.0,
    n_background=100,
    target=None,
    output="auto",
    random_state=None,
    n_jobs=None,
    verbose=0,
):
    """Mean output as the top-ranked features are inserted into the baseline (higher is better).

    ``Ins = mean_s f(x^(s))`` where ``x^(s)`` holds the ``s`` features with the largest
    attributions from x and the baseline elsewhere, for ``s = step, 2 step, ...`` up to
    ``round(fraction * d)`` (Yoshikawa & Iwata 2024, eqs. 1-2; they use 30% or 50%). This is the
    paper's per-sample average over steps, not a trapezoid area.

    Parameters
    ----------
    model : object
        The model: a torch module, a fitted scikit-learn estimator or a callable.
    X : array-like of shape (n_samples, n_features)
        The explained rows.
    attributions : array-like of shape (n_samples, n_features)
        Their attributions, one per feature.
    fraction : float in (0, 1], default=0.5
        Share of the features inserted, the top-ranked first.
    step : int, default=1
        Features added per step.
    baseline : float, array-like of shape (n_features,), "mean" or background rows, default=0.0
        Value that replaces a removed feature. With a scalar, a categorical column of a frame
        is replaced by its most frequent category; an array gives every column's (encoded)
        value; "mean" is each numeric column's mean and each categorical column's mode in the
        explainer's fitting rows (or in X). Background rows, an array-like of shape
        ``(n_rows, n_features)`` (encoded, as ``ShapleyExplainer.background_``) or a DataFrame
        of the raw columns: a removed feature takes each background row's value in turn (a
        categorical column its category) and the output is their mean, ``E_b f(x_kept,
        b_removed)``, the interventional game of :class:`~skexplain.ShapleyExplainer`
        (computed by the same function). One background row is the same as that row as an
        array.
    n_background : int or None, default=100
        With more background rows than this, that many are drawn without replacement (from
        ``random_state``) and used; None uses them all. Each costs one model evaluation per
        masked copy.
    target : "predicted", int, label, array-like of shape (n_samples,) or None, default=None
        Output to explain: None or "predicted" is a single output, or each row's predicted
        class; an output index; a class label (``"barolo"``); or one index or label per row
        (such as the true labels ``y``).
    output : str, default="auto"
        The model output scored when ``model`` is not an adapter set to it already: "auto" (the
        package default: a classifier's log-odds), "logit", "probability", "log_probability",
        "decision_function" or "predict".
    random_state : int, RandomState instance or None, default=None
        Seed of the draw of ``n_background`` background rows (nothing else is random).
    n_jobs : int or None, default=None
        Parallel jobs over chunks of rows (joblib, so a Dask or Ray cluster through
        ``joblib.parallel_config``); the scores equal those of ``n_jobs=1``.
    verbose : int, default=0
        Show a progress bar over the chunks of rows when positive.

    Returns
    -------
    ndarray of shape (n_samples,)
        The mean output along the insertion curve of every row.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.functions import Linear
    >>> from skexplain.metrics import insertion_auc
    >>> f = Linear([3.0, 2.0, 1.0, 0.0])
    >>> X = np.ones((1, 4))
    >>> insertion_auc(f, X, [[3.0, 2.0, 1.0, 0.0]])  # inserting 3, then 3 + 2: mean 4
    array([4.])
    """
    return _curve(
        model,
        X,
        attributions,
        fraction=fraction,
        step=step,
        baseline=baseline,
        n_background=n_background,
        target=target,
        output=output,
        seed=random_state,
        insert=True,
    )


@row_metric
@validate_metric_params
def deletion_auc(
    model,
    X,
    attributions,
    *,
    fraction=0.5,
    step=1,
    baseline=0.0,
    n_background=100,
    target=None,
    output="auto",
    random_state=None,
    n_jobs=None,
    verbose=0,
):
    """Mean output as the top-ranked features are deleted to the baseline (lower is better).

    ``Del = mean_s f(x^(-s))`` where ``x^(-s)`` has its ``s`` features with the largest
    attributions set to the baseline (Yoshikawa & Iwata 2024, eqs. 3-4).

    Parameters
    ----------
    model : object
        The model: a torch module, a fitted scikit-learn estimator or a callable.
    X : array-like of shape (n_samples, n_features)
        The explained rows.
    attributions : array-like of shape (n_samples, n_features)
        Their attributions, one per feature.
    fraction : float in (0, 1], default=0.5
        Share of the features deleted, the top-ranked first.
    step : int, default=1
        Features deleted per step.
    baseline : float, array-like of shape (n_features,), "mean" or background rows, default=0.0
        Value that replaces a removed feature. With a scalar, a categorical column of a frame
        is replaced by its most frequent category; an array gives every column's (encoded)
        value; "mean" is each numeric column's mean and each categorical column's mode in the
        explainer's fitting rows (or in X). Background rows, an array-like of shape
        ``(n_rows, n_features)`` (encoded, as ``ShapleyExplainer.background_``) or a DataFrame
        of the raw columns: a removed feature takes each background row's value in turn (a
        categorical column its category) and the output is their mean, ``E_b f(x_kept,
        b_removed)``, the interventional game of :class:`~skexplain.ShapleyExplainer`
        (computed by the same function). One background row is the same as that row as an
        array.
    n_background : int or None, default=100
        With more background rows than this, that many are drawn without replacement (from
        ``random_state``) and used; None uses them all. Each costs one model evaluation per
        masked copy.
    target : "predicted", int, label, array-like of shape (n_samples,) or None, default=None
        Output to explain: None or "predicted" is a single output, or each row's predicted
        class; an output index; a class label (``"barolo"``); or one index or label per row
        (such as the true labels ``y``).
    output : str, default="auto"
        The model output scored when ``model`` is not an adapter set to it already: "auto" (the
        package default: a classifier's log-odds), "logit", "probability", "log_probability",
        "decision_function" or "predict".
    random_state : int, RandomState instance or None, default=None
        Seed of the draw of ``n_background`` background rows (nothing else is random).
    n_jobs : int or None, default=None
        Parallel jobs over chunks of rows (joblib, so a Dask or Ray cluster through
        ``joblib.parallel_config``); the scores equal those of ``n_jobs=1``.
    verbose : int, default=0
        Show a progress bar over the chunks of rows when positive.

    Returns
    -------
    ndarray of shape (n_samples,)
        The mean output along the deletion curve of every row.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.functions import Linear
    >>> from skexplain.metrics import deletion_auc
    >>> f = Linear([3.0, 2.0, 1.0, 0.0])
    >>> X = np.ones((1, 4))
    >>> deletion_auc(f, X, [[3.0, 2.0, 1.0, 0.0]])  # 6 - 3, then 6 - 5: mean 2
    array([2.])
    """
    return _curve(
        model,
        X,
        attributions,
        fraction=fraction,
        step=step,
        baseline=baseline,
        n_background=n_background,
        target=target,
        output=output,
        seed=random_state,
        insert=False,
    )
