"""The one list of explanation metrics: what each one is, how it is called, which way is better.

The scorers (:mod:`skexplain.metrics.scorer`), the validation report, the command line and the
aggregator all read this list. Adding a metric is three files: its function (in the module of
its family), one :class:`MetricSpec` entry in ``_SPECS`` below, and one line in
``doc/api.rst``.
"""

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..models import as_model
from ._validation import is_background
from .faithfulness import deletion_auc, faithfulness_correlation, insertion_auc, sensitivity_n
from .infidelity import _infidelity_quadratic_form, infidelity
from .properties import (
    complexity,
    function_matching_loss,
    gradient_matching_loss,
    robustness_loss,
    smoothness_loss,
)
from .sensitivity import (
    _avg_sensitivity_quadratic_form,
    avg_sensitivity,
    local_lipschitz,
    max_sensitivity,
    relative_input_stability,
)

__all__ = ["MetricSpec", "get_metric", "get_metric_names", "metric_scores", "split_explainer"]

#: How a metric is called (``**kwargs`` after): ``metric(model, X, attributions)``,
#: ``metric(explainer, X)`` (it re-explains perturbed rows), ``metric(X, attributions)``,
#: ``metric(attributions)``.
KINDS = ("model", "explainer", "points", "attributions")
#: The property a metric measures (Tadesse et al. 2024 name the four).
FAMILIES = ("faithfulness", "robustness", "smoothness", "complexity")


@dataclass(frozen=True)
class MetricSpec:
    """What the scorers, the report, the command line and the aggregator know of one metric.

    Parameters
    ----------
    name : str
        The metric's name; its scorer is ``name`` when greater is better, else ``neg_<name>``.
    function : callable
        The metric, returning one score per explained row.
    kind : {"model", "explainer", "points", "attributions"}
        How it is called: ``function(model, X, attributions, **kw)``,
        ``function(explainer, X, **kw)``, ``function(X, attributions, **kw)`` or
        ``function(attributions, **kw)``.
    greater_is_better : bool
        False for losses (the scorers negate them).
    family : {"faithfulness", "robustness", "smoothness", "complexity"} or None, default=None
        The property measured (the report pairs a faithfulness and a robustness metric).
    defaults : dict, default={}
        Keyword arguments the scorers and the report pass unless the user gives them.
    quadratic_form : callable or None, default=None
        For generalized L2 metrics (Decker et al. 2024, Def. 4.1): ``quadratic_form(model,
        explainers, X, members, *, target, n_samples, random_state, postprocess, per_sample,
        **options)`` returns ``Q`` of shape ``(n_samples, k, k)``, the metric of the convex
        combination with weights ``w`` being ``w^T Q w``, where ``options`` are the metric
        function's own keyword arguments (its defaults for those not given), so that ``Q`` is
        the form of the metric as :func:`metric_scores` computes it with the same arguments.
        ``members`` are the ``k`` explainers' attributions ``(n_samples, k, n_features)``;
        ``explainers`` the fitted explainers (None in the pipeline form, where only metrics of
        kind ``"model"`` have a form). With ``per_sample=True`` it returns the matrices of the
        single draws, ``(n_samples, n_draws, k, k)``, whose mean is ``Q`` (for the aggregator's
        ``form_normalization="stacked"``).
    definition : str or None, default=None
        What the metric measures, in one sentence for a reader of the report.
    range : str or None, default=None
        The values it can take (``"[0, inf)"``, ``"[-1, 1]"``, ...).
    perturbation : str or None, default=None
        The perturbation or baseline it uses, a template formatted with the metric's effective
        keyword arguments (``"{n_samples} draws"``).
    guide : str or None, default=None
        The user-guide page (and section) that explains it, relative to the documentation root.

    Attributes
    ----------
    sign : int
        1 when greater is better, -1 for a loss.
    scorer_name : str
        ``name``, or ``"neg_" + name`` for a loss.

    Examples
    --------
    >>> from skexplain.metrics import get_metric
    >>> spec = get_metric("neg_infidelity")
    >>> spec.name, spec.kind, spec.family, spec.greater_is_better, spec.scorer_name
    ('infidelity', 'model', 'faithfulness', False, 'neg_infidelity')
    """

    name: str
    function: object
    kind: str
    greater_is_better: bool
    family: str = None
    defaults: dict = field(default_factory=dict)
    quadratic_form: object = None
    definition: str = None
    range: str = None
    perturbation: str = None
    guide: str = None

    def __post_init__(self):
        if not callable(self.function):
            raise TypeError(f"function of metric {self.name!r} must be callable")
        if self.kind not in KINDS:
            raise ValueError(
                f"kind of metric {self.name!r} must be one of {KINDS}, got {self.kind!r}"
            )
        if self.family is not None and self.family not in FAMILIES:
            raise ValueError(
                f"family of metric {self.name!r} must be one of {FAMILIES} or None, "
                f"got {self.family!r}"
            )
        if not isinstance(self.greater_is_better, bool):
            raise TypeError(f"greater_is_better of metric {self.name!r} must be a bool")

    @property
    def sign(self):
        """1 when greater is better, -1 for a loss."""
        return 1 if self.greater_is_better else -1

    @property
    def scorer_name(self):
        """The scorer's name: ``name``, or ``"neg_" + name`` for a loss."""
        return self.name if self.greater_is_better else f"neg_{self.name}"

    def describe_perturbation(self, kwargs=None):
        """Return the perturbation or baseline this metric uses with ``kwargs``, in words.

        Parameters
        ----------
        kwargs : dict or None, default=None
            The user's keyword arguments (the function's defaults fill the rest).

        Returns
        -------
        str or None
            :attr:`perturbation` formatted with the effective keyword arguments.
        """
        if self.perturbation is None:
            return None
        values = {
            name: parameter.default
            for name, parameter in inspect.signature(self.function).parameters.items()
            if parameter.default is not inspect.Parameter.empty
        }
        values.update(self.defaults)
        values.update(kwargs or {})
        if values.get("perturbation") is None:
            values["perturbation"] = _DEFAULT_PERTURBATION.get(self.kind, "default draws")
        if is_background(values.get("baseline")):  # rows, not a value to print
            rows = np.shape(values["baseline"])[0]
            limit = values.get("n_background")
            used = rows if limit is None else min(rows, limit)
            values["baseline"] = f"the values of {used} background rows (output averaged)"
        return self.perturbation.format_map(_Missing(values))

    def keyword_arguments(self, kwargs, explainer, random_state=0):
        """Return the metric's keyword arguments for scoring ``explainer``.

        The registry's defaults, then the user's ``kwargs``; ``target`` defaults to the
        explainer's and ``random_state`` to ``random_state`` (the same draws for every candidate,
        fold and explainer: common random numbers).

        Parameters
        ----------
        kwargs : dict
            The user's keyword arguments.
        explainer : object
            The explainer scored (its ``target`` is used).
        random_state : int or None, default=0
            Seed given to metrics that draw.

        Returns
        -------
        dict
            The keyword arguments of :attr:`function`.
        """
        kwargs = {**self.defaults, **kwargs}
        parameters = inspect.signature(self.function).parameters
        if "target" in parameters and "target" not in kwargs:
            kwargs["target"] = getattr(explainer, "target", None)
        if "random_state" in parameters and "random_state" not in kwargs:
            kwargs["random_state"] = random_state
        return kwargs


# What perturbation=None means for the metrics that draw (their docstrings say the same).
_DEFAULT_PERTURBATION = {
    "model": "gaussian noise of standard deviation 0.1",
    "explainer": "uniform noise in the L\u221e ball",
}


class _Missing(dict):
    def __missing__(self, key):
        return f"{{{key}}}"


_SPECS = (
    # faithfulness, in the report's order of preference
    MetricSpec(
        "infidelity",
        infidelity,
        "model",
        False,
        "faithfulness",
        quadratic_form=_infidelity_quadratic_form,
        definition="Expected squared error when the attributions predict how the output changes "
        "under random perturbations I of the row: E[(I\u00b7\u03c6(x) - (f(x) - f(x - I)))\u00b2] "
        "(Yeh et al. 2019).",
        range="[0, \u221e)",
        perturbation="{perturbation}, {n_samples} draws per row",
        guide="user_guide/infidelity.html#infidelity",
    ),
    MetricSpec(
        "faithfulness_correlation",
        faithfulness_correlation,
        "model",
        True,
        "faithfulness",
        definition="Pearson correlation, over random feature subsets set to the baseline, between "
        "the subset's summed attribution and the drop in output it causes (Bhatt et al. 2020).",
        range="[-1, 1]",
        perturbation="random subsets of {subset_fraction} of the features set to baseline "
        "{baseline}, {n_samples} subsets per row",
        guide="user_guide/metrics.html",
    ),
    MetricSpec(
        "insertion_auc",
        insertion_auc,
        "model",
        True,
        "faithfulness",
        definition="Mean explained output while the top-ranked features are inserted into the "
        "baseline, most important first (Petsiuk et al. 2018); an area under the model's output, "
        "in its units: negative for a log-probability.",
        range="the explained output's range",
        perturbation="features inserted into baseline {baseline}, {step} at a time, up to "
        "{fraction} of them",
        guide="user_guide/idexpo.html#insertion-and-deletion",
    ),
    MetricSpec(
        "deletion_auc",
        deletion_auc,
        "model",
        False,
        "faithfulness",
        definition="Mean explained output while the top-ranked features are set to the baseline, "
        "most important first: a faithful ranking makes the output fall fast.",
        range="the explained output's range",
        perturbation="features set to baseline {baseline}, {step} at a time, up to {fraction} "
        "of them",
        guide="user_guide/idexpo.html#insertion-and-deletion",
    ),
    MetricSpec(
        "sensitivity_n",
        sensitivity_n,
        "model",
        True,
        "faithfulness",
        definition="Correlation between the summed attribution of random subsets of n features "
        "and the output drop when they are set to the baseline (Ancona et al. 2018).",
        range="[-1, 1]",
        perturbation="subsets of n features set to baseline {baseline}, {n_samples} per row",
        guide="user_guide/metrics.html",
    ),
    MetricSpec(
        "gradient_matching_loss",
        gradient_matching_loss,
        "model",
        False,
        "faithfulness",
        definition="Squared distance between the attributions and the model's gradient at the "
        "row (Tadesse et al. 2024).",
        range="[0, \u221e)",
        perturbation="none (the gradient at the row)",
        guide="user_guide/property_optimization.html",
    ),
    MetricSpec(
        "function_matching_loss",
        function_matching_loss,
        "model",
        False,
        "faithfulness",
        definition="Squared error of the attributions read as a linear model, W\u00b7x, in "
        "predicting the output f(x) (Tadesse et al. 2024).",
        range="[0, \u221e)",
        perturbation="none (the output at the row)",
        guide="user_guide/property_optimization.html",
    ),
    # robustness
    MetricSpec(
        "max_sensitivity",
        max_sensitivity,
        "explainer",
        False,
        "robustness",
        definition="Largest change of the explanation (norm of the difference) when the row is "
        "moved within a small ball (Yeh et al. 2019).",
        range="[0, \u221e)",
        perturbation="{perturbation}, radius {radius}, {n_samples} draws per row",
        guide="user_guide/infidelity.html#sensitivity-and-smoothing",
    ),
    MetricSpec(
        "avg_sensitivity",
        avg_sensitivity,
        "explainer",
        False,
        "robustness",
        quadratic_form=_avg_sensitivity_quadratic_form,
        definition="Mean squared change of the explanation over perturbed copies of the row "
        "(Decker et al. 2024).",
        range="[0, \u221e)",
        perturbation="{perturbation}, radius {radius}, {n_samples} draws per row",
        guide="user_guide/infidelity.html#sensitivity-and-smoothing",
    ),
    MetricSpec(
        "local_lipschitz",
        local_lipschitz,
        "explainer",
        False,
        "robustness",
        definition="Largest ratio of explanation change to input change over perturbed copies "
        "of the row (Alvarez-Melis & Jaakkola 2018).",
        range="[0, \u221e)",
        perturbation="{perturbation}, radius {radius}, {n_samples} draws per row",
        guide="user_guide/metrics.html",
    ),
    MetricSpec(
        "relative_input_stability",
        relative_input_stability,
        "explainer",
        False,
        "robustness",
        definition="Largest relative change of the explanation divided by the relative change "
        "of the input, over perturbed copies (Agarwal et al. 2022).",
        range="[0, \u221e)",
        perturbation="{perturbation}, radius {radius}, {n_samples} draws per row",
        guide="user_guide/metrics.html",
    ),
    MetricSpec(
        "robustness_loss",
        robustness_loss,
        "points",
        False,
        "robustness",
        definition="Kernel-weighted squared differences between the explanations of nearby rows "
        "(Tadesse et al. 2024).",
        range="[0, \u221e)",
        perturbation="none ({kernel} kernel over the rows, length scale {length_scale})",
        guide="user_guide/property_optimization.html",
    ),
    # smoothness and complexity
    MetricSpec(
        "smoothness_loss",
        smoothness_loss,
        "attributions",
        False,
        "smoothness",
        definition="Squared differences between the attributions of similar features "
        "(Tadesse et al. 2024).",
        range="[0, \u221e)",
        perturbation="none",
        guide="user_guide/property_optimization.html",
    ),
    MetricSpec(
        "complexity",
        complexity,
        "attributions",
        False,
        "complexity",
        definition="L1 norm of the attributions: lower is sparser, and an all-zero explanation "
        "scores a perfect 0 while explaining nothing.",
        range="[0, \u221e)",
        perturbation="none",
        guide="user_guide/metrics.html",
    ),
)
_METRICS = {spec.name: spec for spec in _SPECS}


def get_metric_names(*, family=None, quadratic=None):
    """Return the names of the registered metrics, in the registry's order.

    Parameters
    ----------
    family : {"faithfulness", "robustness", "smoothness", "complexity"} or None, default=None
        Only the metrics of this family.
    quadratic : bool or None, default=None
        True: only generalized L2 metrics (those with a quadratic form, which
        :class:`~skexplain.AggregatingExplainer` can optimize); False: only the others.

    Returns
    -------
    list of str
        The metric names (not the ``neg_`` scorer names; see
        :data:`~skexplain.metrics.scorer.SCORERS` for those).

    Examples
    --------
    >>> from skexplain.metrics import get_metric_names
    >>> get_metric_names(quadratic=True)
    ['infidelity', 'avg_sensitivity']
    """
    if family is not None and family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES} or None, got {family!r}")
    return [
        name
        for name, spec in _METRICS.items()
        if (family is None or spec.family == family)
        and (quadratic is None or (spec.quadratic_form is not None) == bool(quadratic))
    ]


def get_metric(name):
    """Return the :class:`MetricSpec` of a metric, by name or scorer name (``"neg_infidelity"``).

    Parameters
    ----------
    name : str
        A metric name; losses may carry the ``"neg_"`` prefix of their scorer.

    Returns
    -------
    MetricSpec
        The metric's entry in the registry.

    Raises
    ------
    ValueError
        For an unknown name, or ``"neg_"`` in front of a greater-is-better metric.

    Examples
    --------
    >>> from skexplain.metrics import get_metric
    >>> get_metric("complexity").greater_is_better
    False
    """
    if not isinstance(name, str):
        raise TypeError(f"metric must be a metric name or a callable, got {type(name).__name__}")
    key = name[4:] if name.startswith("neg_") and name not in _METRICS else name
    if key not in _METRICS:
        raise ValueError(
            f"metric {name!r} does not exist; choose a callable or one of {sorted(_METRICS)}"
        )
    spec = _METRICS[key]
    if key != name and spec.greater_is_better:
        raise ValueError(f"{key!r} is greater-is-better already: use {key!r}, not {name!r}")
    return spec


class _ScorerNames(Mapping):
    """Scorer name -> metric name, a live view of the registry."""

    def __getitem__(self, name):
        for spec in _METRICS.values():
            if spec.scorer_name == name:
                return spec.name
        raise KeyError(name)

    def __iter__(self):
        return (spec.scorer_name for spec in _METRICS.values())

    def __len__(self):
        return len(_METRICS)

    def __repr__(self):
        return repr(dict(self))


def split_explainer(estimator, X):
    """Split a (possibly pipelined) explainer into the parts that a metric needs.

    In a Pipeline, the explanation starts at the first step that holds a model (``model_``):
    the steps before it prepare the rows (a scaler), the steps from it on explain them (one
    explainer, or an :class:`~skexplain.ExplainerUnion` and an aggregator).

    Parameters
    ----------
    estimator : fitted explainer or Pipeline
        What is scored.
    X : array-like of shape (n_samples, n_columns)
        The input of ``estimator``.

    Returns
    -------
    explainer : object
        The last step: its ``model_`` and ``target`` are the metric's.
    rows : array-like of shape (n_samples, n_features)
        The rows explained.
    explaining : object
        What maps ``rows`` to attributions: the explainer itself, or the explaining steps as a
        Pipeline when there are several.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skexplain import Gradient
    >>> from skexplain.metrics import split_explainer
    >>> X = np.array([[0.0, 1.0], [2.0, 3.0]])
    >>> pipe = make_pipeline(StandardScaler(), Gradient(model=lambda Z: Z.sum(axis=1))).fit(X)
    >>> explainer, rows, explaining = split_explainer(pipe, X)
    >>> explainer is explaining is pipe[-1], rows.tolist()
    (True, [[-1.0, -1.0], [1.0, 1.0]])
    """
    steps = getattr(estimator, "steps", None)
    if steps is None:
        return estimator, X, estimator
    first = next(
        (i for i, (_, step) in enumerate(steps) if hasattr(step, "model_")), len(steps) - 1
    )
    rows = estimator[:first].transform(X) if first else X
    explaining = steps[-1][1] if first == len(steps) - 1 else estimator[first:]
    return steps[-1][1], rows, explaining


def metric_scores(
    spec, estimator, X, kwargs=None, *, model=None, random_state=0, attributions=None
):
    """Compute the metric ``spec`` of ``estimator`` on every row of ``X``, before any sign.

    The one dispatch of the scorers and the report: the explainer is reached through a
    Pipeline (:func:`split_explainer`), ``target`` and ``random_state`` get their defaults
    (:meth:`MetricSpec.keyword_arguments`) and the metric is called as its ``kind`` says.

    Parameters
    ----------
    spec : MetricSpec
        The metric.
    estimator : fitted explainer or Pipeline
        What is scored.
    X : array-like of shape (n_samples, n_columns)
        The input of ``estimator``.
    kwargs : dict or None, default=None
        The metric's keyword arguments.
    model : object, default=None
        The model of model-based metrics when the explainer has no ``model_``.
    random_state : int or None, default=0
        Seed of metrics that draw, unless ``kwargs`` sets it.
    attributions : ndarray of shape (n_samples, n_features) or None, default=None
        ``estimator.transform(X)`` when already computed.

    Returns
    -------
    ndarray of shape (n_samples,), or what the metric returns (a dict of them)
        The scores.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain import Gradient
    >>> from skexplain.functions import Linear
    >>> from skexplain.metrics import get_metric, metric_scores
    >>> X = np.ones((2, 2))
    >>> explainer = Gradient(model=Linear([1.0, -2.0])).fit(X)
    >>> metric_scores(get_metric("complexity"), explainer, X)
    array([3., 3.])
    """
    explainer, rows, explaining = split_explainer(estimator, X)
    kwargs = spec.keyword_arguments(kwargs or {}, explainer, random_state)
    if spec.kind == "explainer":
        if explaining is not explainer:
            raise ValueError(
                f"{spec.name} re-explains perturbed rows, which the {len(explaining.steps)} "
                "explaining steps of this pipeline cannot do together (their input is not only "
                "the rows): score the meta-estimator form"
            )
        return spec.function(explainer, rows, **kwargs)
    if attributions is None:
        target = kwargs.get("target")
        if np.ndim(target) == 1 and hasattr(explaining, "explain"):
            attributions = explaining.explain(rows, target=target)  # one target per row
        else:
            attributions = explaining.transform(rows)
    if spec.kind == "model":
        adapter = getattr(explainer, "model_", None)
        if adapter is None:
            if model is None:
                raise ValueError(
                    f"{spec.name} needs the model: pass model= or explainers with a model_ "
                    "attribute"
                )
            adapter = as_model(model)
        return spec.function(adapter, rows, attributions, **kwargs)
    if spec.kind == "points":
        return spec.function(rows, attributions, **kwargs)
    return spec.function(attributions, **kwargs)
