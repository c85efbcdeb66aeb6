"""The synthetic functions of the papers, for any number of features, with analytic gradients.

Tadesse et al. (2024, section 5) explain these on grids in (-5, 5)^D; Agarwal et al. (2021) use
``sum_d sin(x_d)`` for Theorem 1. They serve as test oracles (exact gradients), benchmark models and
the width-agnostic models that let scikit-learn's estimator checks run with any feature count.
Each is a callable on ``(n, d)`` numpy arrays returning ``(n,)``, with ``gradient(X) -> (n, d)``,
so :func:`skexplain.models.as_model` uses the exact gradient.
"""

import numpy as np

__all__ = [
    "SyntheticFunction",
    "Linear",
    "Polynomial",
    "QuadraticInteraction",
    "SumOfSines",
    "SinExp",
    "LinearSinExp",
    "LinearSin",
    "QuadraticSin",
    "SumOfExp",
    "grid",
]


def _as_2d(X):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array (n_samples, n_features), got shape {X.shape}")
    return X


class SyntheticFunction:
    """An additive function ``f(x) = sum_d g(x_d)`` with its analytic gradient ``g'(x_d)``.

    Subclasses define ``_g`` and ``_dg`` elementwise; non-additive ones override ``__call__`` and
    ``gradient``. Calling the function on ``(n, d)`` rows returns ``(n,)`` values; because it has
    a ``gradient`` method, :func:`skexplain.models.as_model` uses the exact gradient.

    See Also
    --------
    skexplain.models.as_model : Adapts these functions as models with exact gradients.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.functions import SyntheticFunction
    >>> class Cubes(SyntheticFunction):
    ...     def _g(self, X):
    ...         return X**3
    ...     def _dg(self, X):
    ...         return 3 * X**2
    >>> f = Cubes()
    >>> f(np.array([[1.0, 2.0]])), f.gradient(np.array([[1.0, 2.0]]))
    (array([9.]), array([[ 3., 12.]]))
    """

    def __call__(self, X):
        return self._g(_as_2d(X)).sum(axis=1)

    def gradient(self, X):
        """Return the analytic gradient.

        Parameters
        ----------
        X : array-like of shape (n, d)
            Points at which to differentiate.

        Returns
        -------
        ndarray of shape (n, d)
            The gradient at every row.
        """
        return self._dg(_as_2d(X))

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({params})"


class Linear(SyntheticFunction):
    """``f(x) = coef^T x + intercept``; every explainer here should return ``coef`` for it.

    Parameters
    ----------
    coef : array-like of shape (n_features,)
        The slope.
    intercept : float, default=0.0
        The value at the origin.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.functions import Linear
    >>> Linear([1.0, 2.0], intercept=1.0)(np.array([[1.0, 1.0]]))
    array([4.])
    """

    def __init__(self, coef, intercept=0.0):
        self.coef = coef
        self.intercept = intercept

    def _coef(self, X):
        coef = np.asarray(self.coef, dtype=np.float64)
        if coef.shape != (X.shape[1],):
            raise ValueError(f"X has {X.shape[1]} features but coef has shape {coef.shape}")
        return coef

    def __call__(self, X):
        X = _as_2d(X)
        return X @ self._coef(X) + self.intercept

    def gradient(self, X):
        """Return ``coef`` at every row.

        Parameters
        ----------
        X : array-like of shape (n, d)
            Points at which to differentiate.

        Returns
        -------
        ndarray of shape (n, d)
            ``coef``, repeated on every row.
        """
        X = _as_2d(X)
        return np.broadcast_to(self._coef(X), X.shape).copy()


class Polynomial(SyntheticFunction):
    """``f(x) = sum_d x_d^degree`` (Tadesse et al. use degrees 2, 3 and 7).

    Parameters
    ----------
    degree : int, default=3
        The exponent.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.functions import Polynomial
    >>> Polynomial(degree=3).gradient(np.array([[1.0, -2.0]]))
    array([[ 3., 12.]])
    """

    def __init__(self, degree=3):
        self.degree = degree

    def _g(self, X):
        return X**self.degree

    def _dg(self, X):
        return self.degree * X ** (self.degree - 1)


class QuadraticInteraction(SyntheticFunction):
    """``f(x) = sum_d x_d^2 + sum_{d, d'} x_d x_d' = ||x||^2 + (sum_d x_d)^2``.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.functions import QuadraticInteraction
    >>> QuadraticInteraction()(np.array([[1.0, 2.0]]))
    array([14.])
    """

    def __call__(self, X):
        X = _as_2d(X)
        return (X**2).sum(axis=1) + X.sum(axis=1) ** 2

    def gradient(self, X):
        """Return the analytic gradient, ``2 x + 2 sum_d x_d``.

        Parameters
        ----------
        X : array-like of shape (n, d)
            Points at which to differentiate.

        Returns
        -------
        ndarray of shape (n, d)
            The gradient at every row.
        """
        X = _as_2d(X)
        return 2 * X + 2 * X.sum(axis=1, keepdims=True)


class SumOfSines(SyntheticFunction):
    """``f(x) = sum_d sin(x_d)``; SmoothGrad and C-LIME of it converge to ``cos(x) exp(-s^2/2)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.functions import SumOfSines
    >>> SumOfSines().gradient(np.zeros((1, 2)))
    array([[1., 1.]])
    """

    def _g(self, X):
        return np.sin(X)

    def _dg(self, X):
        return np.cos(X)


class SinExp(SyntheticFunction):
    """``f(x) = sum_d sin(exp(x_d))``, quasi-periodic.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.functions import SinExp
    >>> SinExp().gradient(np.zeros((1, 1))).round(6)
    array([[0.540302]])
    """

    def _g(self, X):
        return np.sin(np.exp(X))

    def _dg(self, X):
        return np.cos(np.exp(X)) * np.exp(X)


class LinearSinExp(SinExp):
    """``f(x) = sum_d x_d + sin(exp(x_d))`` (Tadesse et al., appendix).

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.functions import LinearSinExp
    >>> LinearSinExp().gradient(np.zeros((1, 1))).round(6)
    array([[1.540302]])
    """

    def _g(self, X):
        return X + super()._g(X)

    def _dg(self, X):
        return 1.0 + super()._dg(X)


class LinearSin(SyntheticFunction):
    """``f(x) = sum_d x_d + sin(frequency x_d)``, frequency 3 in Tadesse et al.

    Parameters
    ----------
    frequency : float, default=3.0
        Frequency of the sine.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.functions import LinearSin
    >>> LinearSin().gradient(np.zeros((1, 2)))
    array([[4., 4.]])
    """

    def __init__(self, frequency=3.0):
        self.frequency = frequency

    def _g(self, X):
        return X + np.sin(self.frequency * X)

    def _dg(self, X):
        return 1.0 + self.frequency * np.cos(self.frequency * X)


class QuadraticSin(SyntheticFunction):
    """``f(x) = sum_d x_d^2 / 10 + sin(frequency x_d)``, frequency 3 in Tadesse et al.

    Parameters
    ----------
    frequency : float, default=3.0
        Frequency of the sine.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.functions import QuadraticSin
    >>> QuadraticSin().gradient(np.zeros((1, 1)))
    array([[3.]])
    """

    def __init__(self, frequency=3.0):
        self.frequency = frequency

    def _g(self, X):
        return X**2 / 10 + np.sin(self.frequency * X)

    def _dg(self, X):
        return X / 5 + self.frequency * np.cos(self.frequency * X)


class SumOfExp(SyntheticFunction):
    """``f(x) = sum_d exp(x_d)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.functions import SumOfExp
    >>> SumOfExp()(np.zeros((1, 3)))
    array([3.])
    """

    def _g(self, X):
        return np.exp(X)

    def _dg(self, X):
        return np.exp(X)


def grid(n_features, n_per_axis, low=-5.0, high=5.0):
    """Return the points of a regular grid in ``(low, high)^n_features``.

    The points are cell centres, so they lie strictly inside the open box.

    Parameters
    ----------
    n_features : int
        Dimension ``d`` of the points.
    n_per_axis : int
        Points along each axis.
    low, high : float, default=-5.0, 5.0
        Bounds of the box on every axis.

    Returns
    -------
    ndarray of shape (n_per_axis ** n_features, n_features)
        The points, the last feature varying fastest.

    Examples
    --------
    >>> from skexplain.functions import grid
    >>> grid(2, 2, low=0.0, high=1.0)
    array([[0.25, 0.25],
           [0.25, 0.75],
           [0.75, 0.25],
           [0.75, 0.75]])
    """
    if n_features < 1 or n_per_axis < 1:
        raise ValueError("n_features and n_per_axis must be positive integers")
    if not high > low:
        raise ValueError(f"high must exceed low, got low={low!r}, high={high!r}")
    axis = low + (np.arange(n_per_axis) + 0.5) * (high - low) / n_per_axis
    mesh = np.meshgrid(*([axis] * n_features), indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)
