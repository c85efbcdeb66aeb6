"""Scorers: explanation metrics in the ``(estimator, X, y=None) -> float`` form of scikit-learn.

scikit-learn's ``make_scorer`` never sees X or the estimator, so explanation metrics get their own
small scorer class. Scores are greater-is-better as scikit-learn requires: losses are negated and
named ``neg_...``, exactly like ``neg_mean_squared_error``.
"""

import numpy as np

from ..base import BaseExplainer
from ._model_scorer import ModelExplanationScorer
from ._registry import _METRICS, MetricSpec, _ScorerNames, get_metric, metric_scores

__all__ = ["ExplanationScorer", "make_explanation_scorer", "get_explanation_scorer", "SCORERS"]


class ExplanationScorer:
    """Score a fitted explainer on rows X with an explanation metric; greater is better.

    Build one with :func:`make_explanation_scorer`. Calling it with ``(estimator, X, y=None)``
    explains X (through the preceding steps when the estimator is a Pipeline ending with an
    explainer), evaluates the metric per row and returns the sign-adjusted mean over rows
    (NaN rows ignored). A callable metric may return a dict of several scores, as scikit-learn's
    multi-metric scoring allows.

    Parameters
    ----------
    metric : callable
        The metric function.
    kind : {"model", "explainer", "points", "attributions"}
        How the metric is called: ``metric(model, X, attributions)``, ``metric(explainer, X)``,
        ``metric(X, attributions)`` or ``metric(attributions)``, with ``**kwargs`` after.
    sign : {1, -1}
        1 when greater is better, -1 for a loss (the scorer then returns its negation).
    kwargs : dict
        Keyword arguments of the metric.
    name : str
        The scorer's name (``"neg_infidelity"``).

    See Also
    --------
    make_explanation_scorer : Build a scorer from a metric name or a callable.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain import Gradient
    >>> from skexplain.functions import Linear
    >>> from skexplain.metrics import make_explanation_scorer
    >>> X = np.array([[1.0, 1.0], [2.0, 0.0]])
    >>> explainer = Gradient(model=Linear([1.0, 2.0])).fit(X)
    >>> scorer = make_explanation_scorer("complexity")
    >>> scorer
    make_explanation_scorer('neg_complexity')
    >>> scorer(explainer, X)  # the mean L1 norm, negated: greater is better
    -3.0
    """

    def __init__(self, metric, kind, sign, kwargs, name):
        self.metric = metric
        self.kind = kind
        self.sign = sign
        self.kwargs = kwargs
        self.name = name

    @property
    def _sign(self):
        return self.sign

    def __repr__(self):
        options = "".join(f", {k}={v!r}" for k, v in self.kwargs.items())
        return f"make_explanation_scorer({self.name!r}{options})"

    def _spec(self):
        for registered in _METRICS.values():
            if registered.function is self.metric and registered.kind == self.kind:
                return registered  # with the registry's defaults
        return MetricSpec(self.name, self.metric, self.kind, self.sign == 1)

    def __call__(self, estimator, X, y=None):
        kwargs = self.kwargs
        if isinstance(kwargs.get("target"), str) and kwargs["target"] == "y":
            # each row explained and scored for its own label (GridSearchCV's fit(X, y))
            if y is None:
                raise ValueError(
                    "target='y' explains each row's label y, but the scorer got no y: pass y to "
                    "fit (GridSearchCV) or to the scorer"
                )
            kwargs = {**kwargs, "target": np.asarray(y)}
        scores = metric_scores(self._spec(), estimator, X, kwargs)
        if isinstance(scores, dict):
            return {k: self.sign * float(np.nanmean(v)) for k, v in scores.items()}
        return self.sign * float(np.nanmean(scores))


def make_explanation_scorer(metric, *, explainer=None, greater_is_better=None, **kwargs):
    """Make a scorer ``(estimator, X, y=None) -> float`` from an explanation metric.

    Without ``explainer`` the scorer scores a fitted *explainer* (or a Pipeline ending with
    one), for ``GridSearchCV`` over explainers. With ``explainer`` it scores a fitted *model*:
    the explainer is cloned onto the model, fitted on the scored rows and scored with the same
    metric, so that ``cross_validate(model, X, y, scoring={"accuracy": "accuracy",
    "infidelity": make_explanation_scorer("infidelity", explainer=SmoothGrad())})`` reports
    explanation quality beside accuracy on every fold.

    Parameters
    ----------
    metric : str or callable
        A metric name of :mod:`skexplain.metrics` (``"infidelity"``, ``"max_sensitivity"``, ...;
        the ``"neg_"`` prefix is accepted for losses), or a callable
        ``metric(explainer, X, **kwargs)`` returning one score per row or a dict of them.
    explainer : BaseExplainer or None, default=None
        An unfitted explainer: the scorer then scores models by this explainer's explanations
        of them (its ``model`` is replaced by the scored model on every call).
    greater_is_better : bool or None, default=None
        For callables (default True). Named metrics know their direction: losses are negated.
    **kwargs
        Passed to the metric. ``target`` defaults to the explainer's; ``target="y"`` explains and
        scores each row for its label ``y`` (the ``y`` given to ``GridSearchCV.fit`` or to the
        scorer); ``random_state`` defaults to 0 so that every candidate and fold is scored on
        the same draws.

    Returns
    -------
    ExplanationScorer or ModelExplanationScorer
        A callable ``scorer(estimator, X, y=None) -> float``, greater is better (the second
        type with ``explainer``).

    Notes
    -----
    scikit-learn looks up string scorers (``scoring="neg_infidelity"``) in a private table
    (``sklearn.metrics._scorer._SCORERS``) and offers no public way to add names to it, so
    skexplain does not register its scorers there: pass the scorer objects, or look them up by
    name with :func:`get_explanation_scorer` (``scoring=get_explanation_scorer(
    "neg_infidelity")``). A string could not carry the explainer that the model form needs
    anyway.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skexplain import SmoothGrad
    >>> from skexplain.functions import SumOfSines
    >>> from skexplain.metrics import make_explanation_scorer
    >>> X = np.random.default_rng(0).uniform(-2, 2, size=(30, 3))
    >>> search = GridSearchCV(
    ...     SmoothGrad(model=SumOfSines(), random_state=0),
    ...     {"noise_scale": [0.01, 1.0]},
    ...     scoring=make_explanation_scorer("infidelity", n_samples=20),
    ...     cv=3,
    ... ).fit(X)
    >>> search.best_params_
    {'noise_scale': 0.01}

    The model form, beside accuracy in a cross-validation of the model:

    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_validate
    >>> y = (X[:, 0] > 0).astype(int)
    >>> scoring = {"accuracy": "accuracy",
    ...            "infidelity": make_explanation_scorer("infidelity", n_samples=20,
    ...                                                  explainer=SmoothGrad(random_state=0))}
    >>> result = cross_validate(LogisticRegression(), X, y, scoring=scoring, cv=3)
    >>> sorted(k for k in result if k.startswith("test_"))
    ['test_accuracy', 'test_infidelity']
    """
    if explainer is not None:
        if not isinstance(explainer, BaseExplainer):
            raise TypeError(
                "explainer must be an unfitted skexplain explainer (such as SmoothGrad()), got "
                f"{type(explainer).__name__}"
            )
        scorer = make_explanation_scorer(metric, greater_is_better=greater_is_better, **kwargs)
        return ModelExplanationScorer(scorer, explainer)
    if callable(metric):
        sign = 1 if greater_is_better in (None, True) else -1
        name = getattr(metric, "__name__", repr(metric))
        return ExplanationScorer(metric, "explainer", sign, kwargs, name)
    spec = get_metric(metric)
    if greater_is_better is not None and greater_is_better != spec.greater_is_better:
        raise ValueError(
            f"{spec.name!r} is {'greater' if spec.greater_is_better else 'lower'}-is-better; "
            "greater_is_better cannot change that"
        )
    return ExplanationScorer(spec.function, spec.kind, spec.sign, kwargs, spec.scorer_name)


#: Scorer names accepted by :func:`get_explanation_scorer`, mapped to their metric:
#: greater-is-better metrics by name, losses as ``neg_<name>`` (as scikit-learn names its scorers).
#: It is a live view of the metric registry (see :func:`~skexplain.metrics.get_metric`).
SCORERS = _ScorerNames()


def get_explanation_scorer(name, **kwargs):
    """Return a scorer by its scikit-learn style name, e.g. ``"neg_infidelity"``.

    Parameters
    ----------
    name : str
        A key of :data:`SCORERS`: a metric name, prefixed with ``"neg_"`` for losses.
    **kwargs
        Passed to the metric, as in :func:`make_explanation_scorer`.

    Returns
    -------
    ExplanationScorer
        The scorer, greater is better.

    Examples
    --------
    >>> from skexplain.metrics import get_explanation_scorer
    >>> get_explanation_scorer("neg_max_sensitivity")
    make_explanation_scorer('neg_max_sensitivity')
    """
    if name not in SCORERS:
        raise ValueError(f"scorer {name!r} does not exist; choose one of {sorted(SCORERS)}")
    return make_explanation_scorer(SCORERS[name], **kwargs)
