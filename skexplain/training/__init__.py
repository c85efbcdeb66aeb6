"""Explanation-regularized training of torch models (Yoshikawa & Iwata 2024, ID-ExpO).

:class:`IDExpOClassifier` fine-tunes a network so that the explanations of a differentiable
explainer (LIME, KernelSHAP, input gradient, or Grad-CAM on images through second-order
gradients) score well on insertion and deletion; tabular rows or flattened images
(``image_shape``, a small CNN by default). :func:`valscore` is the paper's model-selection
score as a scikit-learn scorer.
"""

from ..utils import import_optional

# The training modules are torch through and through: without the extra, say which one to install.
import_optional("torch", purpose="skexplain.training (IDExpOClassifier)")

from ._idexpo import IDExpOClassifier, valscore  # noqa: E402

__all__ = ["IDExpOClassifier", "valscore"]
