"""Pointwise explainers: each row explained on its own, all rows in one batched query."""

from .clime import CLIME
from .gradient import Gradient, InputXGradient
from .infidelity_optimal import InfidelityOptimal
from .integrated_gradients import IntegratedGradients
from .kernel_shap import KernelShapExplainer
from .kernel_smoothed import KernelSmoothed
from .lime_tabular import LimeExplainer
from .shapley import ShapleyExplainer
from .smoothgrad import SmoothGrad, VarGrad
from .tree_shap import TreeShapExplainer

__all__ = [
    "CLIME",
    "Gradient",
    "InputXGradient",
    "InfidelityOptimal",
    "IntegratedGradients",
    "KernelSmoothed",
    "KernelShapExplainer",
    "LimeExplainer",
    "ShapleyExplainer",
    "SmoothGrad",
    "TreeShapExplainer",
    "VarGrad",
]
