"""The adapter for plain callables on numpy arrays, with an optional exact gradient."""

import numpy as np

from ._numpy import _NumpyModel


class CallableModel(_NumpyModel):
    """Adapter for a callable on numpy arrays, ``f(X) -> (n,)`` or ``(n, k)``.

    ``gradient(X) -> (n, d)`` (single output) or ``(n, k, d)`` gives exact gradients; without it
    gradients are batched central finite differences.

    Parameters
    ----------
    function : callable
        The model, ``function(X) -> (n,)`` or ``(n, k)`` on numpy arrays.
    gradient : callable or None, default=None
        Its exact gradient, ``gradient(X) -> (n, d)`` or ``(n, k, d)``.
    output : {"raw"} or None, default=None
        The explained output: the function's value.
    batch_size : int or None, default=None
        Model evaluations per query chunk; None uses 8192.

    See Also
    --------
    as_model : Picks this adapter for callables.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.models import CallableModel
    >>> model = CallableModel(lambda X: np.sin(X).sum(axis=1), gradient=np.cos)
    >>> model.gradient(np.zeros((1, 2)))
    array([[1., 1.]])
    """

    def __init__(self, function, *, gradient=None, output=None, batch_size=None):
        super().__init__(batch_size)
        if output not in (None, "raw"):
            raise ValueError(f"output must be None or 'raw' for a callable, got {output!r}")
        if gradient is not None and not callable(gradient):
            raise TypeError(f"gradient must be callable or None, got {type(gradient).__name__}")
        self.function = function
        self.gradient_function = gradient
        self.output = "raw"

    def _call(self, X):
        return self.function(X)

    @property
    def uses_finite_differences(self):
        """Whether gradients are finite differences (no gradient callable was given)."""
        return self.gradient_function is None

    def _exact_gradient(self, X, target):
        if self.gradient_function is None:
            return None
        grad = np.asarray(self.gradient_function(self._model_input(X)), dtype=np.float64)
        if grad.ndim == 2 and grad.shape == X.shape:
            if target is not None and np.any(target != 0):
                raise ValueError("target must be 0 or None for a single-output gradient")
            return grad
        if grad.ndim == 3 and grad.shape[0] == X.shape[0] and grad.shape[2] == X.shape[1]:
            if target is None:
                if grad.shape[1] != 1:
                    raise ValueError("the model has several outputs: pass target")
                return grad[:, 0]
            return grad[np.arange(X.shape[0]), target]
        raise ValueError(
            f"the model's gradient must have shape {X.shape} or ({X.shape[0]}, n_outputs, "
            f"{X.shape[1]}), got shape {grad.shape}"
        )
