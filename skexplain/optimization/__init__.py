"""Explanations optimized directly for chosen properties (Tadesse et al. 2024)."""

from ._property_optimized import PropertyOptimizedExplainer

__all__ = ["PropertyOptimizedExplainer"]
