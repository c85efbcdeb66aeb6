"""Black-box model adapters: one way to ask f(X) and grad f(X), batched, on a device.

Every explainer, metric and solver in skexplain queries the model it explains through an adapter
returned by :func:`as_model`: :class:`SklearnModel` for fitted scikit-learn estimators,
:class:`CallableModel` for functions on numpy arrays and :class:`TorchModel` for torch modules
(imported with torch, on first use), all built on :class:`ModelAdapter`.
"""

from .._engine import ACCELERATOR_BATCH_SIZE as ACCELERATOR_BATCH_SIZE
from .._engine import DEFAULT_BATCH_SIZE as DEFAULT_BATCH_SIZE
from ..utils import is_module
from ._base import ModelAdapter
from ._callable import CallableModel
from ._sklearn import SklearnModel

# TorchModel is resolved lazily by the module __getattr__ (torch is imported on first use).
__all__ = ["ModelAdapter", "SklearnModel", "CallableModel", "TorchModel", "as_model"]  # noqa: F822


def __getattr__(name):  # TorchModel is imported with torch, on first use
    if name == "TorchModel":
        from ._torch import TorchModel

        return TorchModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def as_model(obj, *, output=None, gradient=None, device="auto", batch_size=None):
    """Wrap a model so that skexplain can ask for its outputs and gradients in batches.

    Parameters
    ----------
    obj : torch.nn.Module, fitted scikit-learn estimator, callable or ModelAdapter
        The model. A callable takes a numpy array ``(n, d)`` and returns ``(n,)`` or ``(n, k)``;
        if it has a callable ``gradient`` attribute (as the functions of
        :mod:`skexplain.functions` do), that gives its exact gradient.
    output : str or None, default=None
        The output to explain; None and ``"auto"`` (the package-wide default) choose per model.
        Torch modules: ``"raw"`` (auto), ``"probability"`` (softmax, or sigmoid for one output)
        or ``"log_probability"``. scikit-learn estimators: ``"logit"`` (auto when
        ``predict_proba`` exists: the log-odds ``log(p / (1 - p))`` of the explained class, which
        does not saturate, so a confident classifier keeps informative gradients; trees,
        forests and nearest neighbours, whose probabilities are votes and reach 0 and 1, explain
        ``"probability"`` instead), ``"probability"``, ``"log_probability"``,
        ``"decision_function"`` (auto without ``predict_proba``) or ``"predict"``. Callables:
        ``"raw"``.
    gradient : callable or None, default=None
        Exact gradient of a callable model, ``gradient(X) -> (n, d)`` or ``(n, k, d)``.
    device : str or torch.device, default="auto"
        Device of a torch module; ``"auto"`` keeps a module already on a GPU there and otherwise
        uses CUDA when available.
    batch_size : int or None, default=None
        Model evaluations per query chunk (None: 8192 on the CPU, 32768 on a GPU): memory
        stays bounded whatever the number of rows and perturbation samples.

    Returns
    -------
    ModelAdapter
        An adapter with ``predict(X, target=None)`` and ``gradient(X, target=None)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.models import as_model
    >>> model = as_model(lambda X: (X**2).sum(axis=1))
    >>> model.gradient(np.array([[1.0, -2.0]])).round(6)
    array([[ 2., -4.]])
    """
    if isinstance(obj, ModelAdapter):
        if output in ("auto", getattr(obj, "output", None)):
            output = None
        if output is not None or gradient is not None or batch_size is not None:
            raise ValueError("obj is already a ModelAdapter: pass its options to as_model once")
        return obj
    if is_module(obj):
        from ._torch import TorchModel

        if gradient is not None:
            raise ValueError("gradient is only used for callables; torch modules use autograd")
        output = None if output == "auto" else output
        return TorchModel(obj, output=output, device=device, batch_size=batch_size)
    if hasattr(obj, "fit") and (hasattr(obj, "predict") or hasattr(obj, "predict_proba")):
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(obj)
        if gradient is not None:
            raise ValueError("gradient is only used for callables; estimators use their own")
        return SklearnModel(obj, output=output, batch_size=batch_size)
    if callable(obj):
        if gradient is None:
            candidate = getattr(obj, "gradient", None)
            gradient = candidate if callable(candidate) else None
        output = None if output == "auto" else output
        return CallableModel(obj, gradient=gradient, output=output, batch_size=batch_size)
    raise TypeError(
        "model must be a torch.nn.Module, a fitted scikit-learn estimator, a callable or a "
        f"ModelAdapter, got {type(obj).__name__}"
    )
