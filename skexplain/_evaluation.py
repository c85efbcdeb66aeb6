"""Scoring several explainers on the same rows with the registered metrics.

:func:`evaluate_explainers` (re-exported by :mod:`skexplain.report`, its documented home) is
what both the validation report and :class:`~skexplain.MetricDisplay` compute from; it lives
below both so that neither imports the other's module upward.
"""

import numbers
import warnings

import numpy as np
from joblib import delayed
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from ._engine import parallel_map
from .base import fit_clone
from .explainers.defaults import default_explainers
from .metrics import MetricSpec, get_metric, metric_scores
from .utils import import_optional, is_frame

__all__ = ["DEFAULT_METRICS", "default_explainers", "evaluate_explainers"]

#: Metrics of :func:`evaluate_explainers` when none are given: faithfulness (infidelity,
#: faithfulness correlation, insertion and deletion), robustness (max sensitivity) and
#: sparsity (complexity).
DEFAULT_METRICS = (
    "infidelity",
    "max_sensitivity",
    "faithfulness_correlation",
    "insertion_auc",
    "deletion_auc",
    "complexity",
)


# -- evaluation ---------------------------------------------------------------------------------
def _check_explainers(explainers):
    if isinstance(explainers, dict):
        items = list(explainers.items())
    else:
        try:
            items = [tuple(item) for item in explainers]
        except TypeError:
            items = None
        if items is None or any(len(item) != 2 for item in items):
            raise TypeError(
                "explainers must be a dict name -> explainer or a list of (name, explainer) "
                f"pairs, got {type(explainers).__name__}"
            )
    if not items:
        raise ValueError("explainers must name at least one explainer, got none")
    names = [name for name, _ in items]
    if not all(isinstance(name, str) for name in names):
        raise TypeError(f"explainer names must be strings, got {names!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"explainer names must be unique, got {names!r}")
    for name, explainer in items:
        if not hasattr(explainer, "transform"):
            raise TypeError(
                f"explainer {name!r} must have a transform method, got {type(explainer).__name__}"
            )
    return items


def _check_metrics(metrics):
    """``[(column, MetricSpec, kwargs)]`` from the ``metrics`` parameter."""
    if metrics is None:
        metrics = DEFAULT_METRICS
    if isinstance(metrics, str):
        metrics = [metrics]
    if isinstance(metrics, dict):
        items = list(metrics.items())
    else:
        items = [(name, name) for name in metrics]
    if not items:
        raise ValueError("metrics must name at least one metric, got none")
    checked = []
    for name, metric in items:
        kwargs = {}
        if isinstance(metric, tuple):
            if len(metric) != 2 or not isinstance(metric[1], dict):
                raise TypeError(
                    f"metrics[{name!r}] must be a metric name, a callable or a "
                    f"(metric, kwargs dict) pair, got {metric!r}"
                )
            metric, kwargs = metric
        if isinstance(metric, str):
            spec = get_metric(metric)
        elif callable(metric):
            # As make_explanation_scorer: a callable is metric(explainer, X, **kwargs); its
            # direction is unknown (None in the table's attrs).
            spec = MetricSpec(str(name), metric, "explainer", True)
        else:
            raise TypeError(
                f"metrics[{name!r}] must be a metric name or a callable, "
                f"got {type(metric).__name__}"
            )
        checked.append((str(name), spec, dict(kwargs), isinstance(metric, str)))
    names = [item[0] for item in checked]
    if len(set(names)) != len(names):
        raise ValueError(f"metric names must be unique, got {names!r}")
    return checked


def _is_fitted(explainer):
    try:
        check_is_fitted(explainer)
    except NotFittedError:
        return False
    except TypeError:  # not an estimator: used as it is
        return True
    return True


def _fit_and_explain(explainer, X, model):
    """The fitted explainer (a fitted clone when it was not fitted) and its attributions."""
    if not _is_fitted(explainer):
        explainer = fit_clone(explainer, X, model=model)
    return explainer, np.asarray(explainer.transform(X), dtype=np.float64)


def _metric_scores(metric, explainer, X, attributions, model, random_state):
    """One score per row of one metric, as :mod:`skexplain.metrics`' scorers compute it."""
    name, spec, kwargs, _ = metric
    scores = metric_scores(
        spec,
        explainer,
        X,
        kwargs,
        model=model,
        random_state=random_state,
        attributions=attributions,
    )
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1:
        raise ValueError(
            f"metric {name!r} must return one score per row, got an array of shape {scores.shape}"
        )
    return scores


def _mean_sem(scores):
    """The metrics module's mean over rows (NaN rows ignored) and its standard error."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: NaN, said in the docs
        mean = float(np.nanmean(scores)) if scores.size else np.nan
        count = int(np.count_nonzero(~np.isnan(scores)))
        sem = float(np.nanstd(scores, ddof=1) / np.sqrt(count)) if count > 1 else np.nan
    return mean, sem


def _progress(iterable, total, verbose, description):
    if not verbose:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=description, leave=False)


def evaluate_explainers(
    explainers,
    X,
    metrics=None,
    *,
    model=None,
    n_jobs=None,
    random_state=0,
    verbose=0,
    return_attributions=False,
):
    """Score explainers on the same rows with explanation metrics.

    Each explainer explains every row of ``X``; each metric of :mod:`skexplain.metrics` scores
    every row and the table holds the mean over rows (NaN rows ignored, exactly the value the
    metric's :func:`~skexplain.metrics.make_explanation_scorer` averages, before its sign) and the
    standard error of that mean. The numbers are the metrics' own: losses stay positive, lower is
    better for them (the HTML report marks the direction of each column).

    Parameters
    ----------
    explainers : dict, list of (str, explainer) tuples or None
        Named explainers. A fitted explainer is used as it is; an unfitted one is cloned and the
        clone fitted on ``X`` (the caller's object is left untouched), with ``model`` when it was
        made without one. None compares the :func:`default_explainers` of ``model``: gradient
        explainers and C-LIME for a differentiable model, Shapley values (TreeSHAP or
        ShapleyExplainer) and C-LIME for a piecewise-constant one (trees, forests, boosting,
        neighbours), seeded with ``random_state``.
    X : array-like of shape (n_samples, n_features)
        The rows to explain and score.
    metrics : list of str, dict or None, default=None
        Metric names of :mod:`skexplain.metrics` (``"neg_"`` prefixes accepted), or a dict
        column name -> metric name, callable ``metric(explainer, X, **kwargs)`` or
        ``(metric, kwargs)`` pair. None means :data:`DEFAULT_METRICS`.
    model : object, default=None
        Model given to unfitted explainers that have none, and to model-based metrics of
        explainers without a ``model_`` attribute. Fitted explainers are scored on the model they
        explain (their ``model_``).
    n_jobs : int or None, default=None
        Explainers (then explainer-metric pairs) evaluated in parallel through joblib, so
        ``joblib.parallel_config(backend=...)`` sends them to a Dask or Ray cluster.
    random_state : int, default=0
        Seed of every metric that draws perturbations; the same for every explainer, so all are
        scored on the same draws (common random numbers).
    verbose : int, default=0
        Show a progress bar (tqdm) when positive.
    return_attributions : bool, default=False
        Also return the attributions, a dict name -> ndarray ``(n_samples, n_features)``.

    Returns
    -------
    results : pandas.DataFrame
        Index: explainer names; columns: a MultiIndex ``(metric, "mean" | "sem")``.
        ``results.attrs["greater_is_better"]`` maps each metric to its direction (None for a
        callable) and ``results.attrs["family"]`` to the property it measures (from the metric
        registry, :func:`skexplain.metrics.get_metric`; None for a callable).
    attributions : dict
        Only with ``return_attributions=True``.

    See Also
    --------
    ExplanationReport : The HTML rendering of the table, with figures.
    skexplain.metrics.make_explanation_scorer : One metric as a scorer for model selection.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain import Gradient, SmoothGrad
    >>> from skexplain.functions import SumOfSines
    >>> from skexplain.report import evaluate_explainers
    >>> X = np.random.default_rng(0).uniform(-1, 1, size=(10, 3))
    >>> explainers = {"grad": Gradient(), "sg": SmoothGrad(n_samples=10, random_state=0)}
    >>> table = evaluate_explainers(explainers, X, ["infidelity", "complexity"],
    ...                             model=SumOfSines())
    >>> table.shape
    (2, 4)
    >>> list(table.columns.get_level_values(0).unique())
    ['infidelity', 'complexity']
    """
    pd = import_optional("pandas", purpose="the report's metrics table")

    checked = _check_metrics(metrics)
    if isinstance(random_state, bool) or not (
        random_state is None or isinstance(random_state, numbers.Integral)
    ):
        # A RandomState instance would give every explainer different draws.
        raise TypeError(f"random_state must be an int or None, got {type(random_state).__name__}")
    if random_state is None:
        random_state = int(np.random.SeedSequence().generate_state(1)[0])
    if explainers is None:
        if model is None:
            raise ValueError(
                "explainers=None compares the default explainers of a model: pass model"
            )
        explainers = default_explainers(model, random_state=random_state)
    items = _check_explainers(explainers)
    if not is_frame(X):  # a frame's raw columns are explained as they are (strings included)
        X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")

    parallel = parallel_map(n_jobs)
    n = len(items)
    fitted = list(
        _progress(
            parallel(delayed(_fit_and_explain)(e, X, model) for _, e in items),
            n,
            verbose,
            "explaining",
        )
    )
    pairs = [(i, metric) for i in range(n) for metric in checked]
    scores = list(
        _progress(
            parallel(
                delayed(_metric_scores)(
                    metric, fitted[i][0], X, *fitted[i][1:], model, random_state
                )
                for i, metric in pairs
            ),
            len(pairs),
            verbose,
            "scoring",
        )
    )
    columns = pd.MultiIndex.from_product([[m[0] for m in checked], ["mean", "sem"]])
    values = np.array([_mean_sem(s) for s in scores]).reshape(n, -1)
    names = [name for name, _ in items]
    results = pd.DataFrame(values, index=pd.Index(names, name="explainer"), columns=columns)
    results.attrs["greater_is_better"] = {
        name: (spec.greater_is_better if named else None) for name, spec, _, named in checked
    }
    results.attrs["family"] = {name: spec.family for name, spec, _, _ in checked}
    results.attrs["metric_kwargs"] = {name: dict(kwargs) for name, _, kwargs, _ in checked}
    if return_attributions:
        return results, {name: f[1] for name, f in zip(names, fitted, strict=True)}
    return results
