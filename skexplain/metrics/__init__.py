"""Explanation metrics, one score per explained row, and scorers for model selection.

Three shapes of signature (DESIGN.md): model-based ``metric(model, X, attributions, ...)``,
explainer-based ``metric(explainer, X, ...)`` for metrics that re-explain perturbed rows, and the
property losses of Tadesse et al. (2024). One registry (:func:`get_metric`) describes every
metric for the scorers, the report, the command line and the aggregator.
"""

from ._model_scorer import ModelExplanationScorer
from ._registry import MetricSpec, get_metric, get_metric_names, metric_scores, split_explainer
from .faithfulness import deletion_auc, faithfulness_correlation, insertion_auc, sensitivity_n
from .infidelity import infidelity
from .properties import (
    complexity,
    function_matching_loss,
    gradient_matching_loss,
    robustness_loss,
    smoothness_loss,
)
from .scorer import SCORERS, ExplanationScorer, get_explanation_scorer, make_explanation_scorer
from .sensitivity import avg_sensitivity, local_lipschitz, max_sensitivity, relative_input_stability

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
    "complexity",
    "function_matching_loss",
    "gradient_matching_loss",
    "robustness_loss",
    "smoothness_loss",
    "deletion_auc",
    "faithfulness_correlation",
    "insertion_auc",
    "sensitivity_n",
    "avg_sensitivity",
    "infidelity",
    "local_lipschitz",
    "max_sensitivity",
    "relative_input_stability",
]
