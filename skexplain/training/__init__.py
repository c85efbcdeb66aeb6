"""Explanation-regularized training of torch models (Yoshikawa & Iwata 2024, ID-ExpO).

:class:`IDExpOClassifier` fine-tunes a network so that the explanations of a differentiable
explainer (LIME, KernelSHAP, input gradient) score well on insertion and deletion;
:func:`valscore` is the paper's model-selection score as a scikit-learn scorer.
"""

from ._idexpo import IDExpOClassifier, valscore

__all__ = ["IDExpOClassifier", "valscore"]
