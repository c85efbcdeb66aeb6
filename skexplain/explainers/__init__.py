"""Pointwise explainers: each row explained on its own, all rows in one batched query."""

from .clime import CLIME
from .gradient import Gradient, InputXGradient
from .integrated_gradients import IntegratedGradients
from .smoothgrad import SmoothGrad, VarGrad

__all__ = [
    "CLIME",
    "Gradient",
    "InputXGradient",
    "IntegratedGradients",
    "SmoothGrad",
    "VarGrad",
]
