"""Explanation metrics, one score per explained row, and scorers for model selection.

Three shapes of signature (DESIGN.md): model-based ``metric(model, X, attributions, ...)``,
explainer-based ``metric(explainer, X, ...)`` for metrics that re-explain perturbed rows, and the
property losses of Tadesse et al. (2024). One registry (:func:`get_metric`) describes every
metric for the scorers, the report, the command line and the aggregator.
"""

from ._model_scorer import ModelExplanationScorer
from ._registry import MetricSpec, get_metric, get_metric_names, metric_scores, split_explainer
from .scorer import SCORERS, ExplanationScorer, get_explanation_scorer, make_explanation_scorer

__all__ = [
    "MetricSpec",
    "get_metric",
    "get_metric_names",
    "metric_scores",
    "split_explainer",
    "SCORERS",
    "ExplanationScorer",
    "ModelExplanationScorer",
    "get_explanation_scorer",
    "make_explanation_scorer",
]

# Every registered metric is public here under its function's name: adding a metric is its
# function, its registry entry and its line in doc/api.rst, not an import in this file too.
_FUNCTIONS = {
    get_metric(name).function.__name__: get_metric(name).function for name in get_metric_names()
}
globals().update(_FUNCTIONS)
__all__ += sorted(_FUNCTIONS)
