"""skexplain: feature-attribution explanations as scikit-learn estimators."""

from ._interop import (
    from_shap_explanation,
    load_attributions,
    save_attributions,
    to_shap_explanation,
)
from .aggregation import AggregatingExplainer, AttributionAggregator, ExplainerUnion
from .base import BaseExplainer, ExplainerTags
from .display import AttributionDisplay, MetricDisplay
from .explainers import (
    CLIME,
    Gradient,
    InfidelityOptimal,
    InputXGradient,
    IntegratedGradients,
    KernelShapExplainer,
    KernelSmoothed,
    LimeExplainer,
    ShapleyExplainer,
    SmoothGrad,
    TreeShapExplainer,
    VarGrad,
)
from .models import as_model
from .optimization import PropertyOptimizedExplainer

__version__ = "0.1.0.dev0"

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
    "CLIME",
    "Gradient",
    "InputXGradient",
    "PropertyOptimizedExplainer",
    "InfidelityOptimal",
    "IntegratedGradients",
    "KernelSmoothed",
    "KernelShapExplainer",
    "LimeExplainer",
    "ShapleyExplainer",
    "SmoothGrad",
    "TreeShapExplainer",
    "VarGrad",
    "as_model",
]
