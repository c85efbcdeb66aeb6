"""skexplain: feature-attribution explanations as scikit-learn estimators."""

from . import explainers
from ._interop import (
    from_shap_explanation,
    load_attributions,
    save_attributions,
    to_shap_explanation,
)
from ._version import __version__ as __version__
from .aggregation import AggregatingExplainer, AttributionAggregator, ExplainerUnion
from .base import BaseExplainer, ExplainerTags
from .display import AttributionDisplay, MetricDisplay

# Every pointwise explainer of `skexplain.explainers.__all__` is also a top-level name, so that a
# new explainer is exported in one place (doc/contributing.rst).
from .explainers import *  # noqa: F403
from .models import as_model
from .optimization import PropertyOptimizedExplainer

__all__ = [
    "AggregatingExplainer",
    "AttributionAggregator",
    "AttributionDisplay",
    "MetricDisplay",
    "to_shap_explanation",
    "from_shap_explanation",
    "save_attributions",
    "load_attributions",
    "ExplainerUnion",
    "BaseExplainer",
    "ExplainerTags",
    "PropertyOptimizedExplainer",
    "as_model",
    *explainers.__all__,
]
