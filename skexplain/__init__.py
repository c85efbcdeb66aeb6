"""skexplain: feature-attribution explanations as scikit-learn estimators."""

from .aggregation import AggregatingExplainer, ExplainerUnion
from .base import BaseExplainer
from .explainers import (
    CLIME,
    Gradient,
    InfidelityOptimal,
    InputXGradient,
    IntegratedGradients,
    KernelShapExplainer,
    KernelSmoothed,
    LimeExplainer,
    SmoothGrad,
    VarGrad,
)
from .models import as_model
from .optimization import PropertyOptimizedExplainer

__version__ = "0.1.0.dev0"

__all__ = [
    "AggregatingExplainer",
    "ExplainerUnion",
    "BaseExplainer",
    "CLIME",
    "Gradient",
    "InputXGradient",
    "PropertyOptimizedExplainer",
    "InfidelityOptimal",
    "IntegratedGradients",
    "KernelSmoothed",
    "KernelShapExplainer",
    "LimeExplainer",
    "SmoothGrad",
    "VarGrad",
    "as_model",
]
