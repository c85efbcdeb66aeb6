"""Integrated Gradients: the path integral of the gradient from a baseline to the input."""

from numbers import Integral, Real

import numpy as np

from .._compat import Interval, StrOptions
from ..base import BaseExplainer
from ..utils import check_baseline

__all__ = ["IntegratedGradients"]


def _quadrature(method, n_steps):
    """Nodes in [0, 1] and weights of the path integral's quadrature rule."""
    if method == "gausslegendre":
        nodes, weights = np.polynomial.legendre.leggauss(n_steps)
        return 0.5 * (nodes + 1.0), 0.5 * weights
    if method == "riemann_trapezoid":
        nodes = np.linspace(0.0, 1.0, n_steps)
        if n_steps == 1:
            return nodes, np.ones(1)
        weights = np.full(n_steps, 1.0 / (n_steps - 1))
        weights[[0, -1]] /= 2.0
        return nodes, weights
    offset = {"riemann_left": 0.0, "riemann_right": 1.0, "riemann_middle": 0.5}[method]
    return (np.arange(n_steps) + offset) / n_steps, np.full(n_steps, 1.0 / n_steps)


class IntegratedGradients(BaseExplainer):
    """Integrate the gradient along the straight path from a baseline (Sundararajan et al. 2017).

    ``(x - b) * integral_0^1 grad f(b + a (x - b)) da``, by a quadrature rule over ``n_steps``
    points; the attributions sum to ``f(x) - f(b)`` up to the quadrature error (completeness).

    Parameters
    ----------
    model : object, default=None
        The model to explain: a torch module, a fitted scikit-learn estimator or a callable.
    baseline : float or array-like of shape (n_features,), default=0.0
        The reference input.
    n_steps : int, default=50
        Quadrature points along the path.
    method : {"gausslegendre", "riemann_trapezoid", "riemann_left", "riemann_right", \
"riemann_middle"}, default="gausslegendre"
        Quadrature rule; Gauss-Legendre (Captum's default) is exact for polynomial paths of
        degree up to ``2 n_steps - 1``.
    multiply_by_inputs : bool, default=True
        Multiply the path-averaged gradient by ``x - b`` (the "global" attribution, which is
        complete). With False, return the path-averaged gradient itself, the "local" form that
        Yeh et al. (2019, Table 1) compare with the gradient (Captum's option of the same name).
    target : "predicted", int, label or None, default=None
        Output to explain: None or "predicted" explains a single output, or each row's
        predicted class; an int is an output index; any other value is a class label of the
        model's ``classes_`` (``target="barolo"``). :meth:`explain` takes one target per row.
    output : str, default="auto"
        The model output explained, passed to :func:`skexplain.models.as_model`: "auto" (the
        package default: a classifier's log-odds ``"logit"``, which does not saturate, a
        regressor's prediction, a torch module's raw output), "logit", "probability",
        "log_probability", "decision_function" or "predict".
    n_jobs : int or None, default=None
        Parallel jobs over chunks of rows (joblib, so a Dask or Ray cluster through
        ``joblib.parallel_config``); the attributions equal those of ``n_jobs=1``.
    verbose : int, default=0
        Show a progress bar over the chunks of rows when positive.

    Attributes
    ----------
    model_ : ModelAdapter
    baseline_ : ndarray of shape (n_features,)
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain import IntegratedGradients
    >>> from skexplain.functions import Polynomial
    >>> X = np.array([[1.0, 2.0]])
    >>> IntegratedGradients(model=Polynomial(degree=3)).fit(X).transform(X).round(6)
    array([[1., 8.]])
    """

    _parameter_constraints = {
        **BaseExplainer._parameter_constraints,
        "baseline": [Real, "array-like"],
        "n_steps": [Interval(Integral, 1, None, closed="left")],
        "multiply_by_inputs": ["boolean"],
        "method": [
            StrOptions(
                {
                    "gausslegendre",
                    "riemann_trapezoid",
                    "riemann_left",
                    "riemann_right",
                    "riemann_middle",
                }
            )
        ],
    }

    _requires_gradient = True
    _categorical = "occlusion"

    def __init__(
        self,
        model=None,
        *,
        baseline=0.0,
        n_steps=50,
        method="gausslegendre",
        multiply_by_inputs=True,
        target=None,
        output="auto",
        n_jobs=None,
        verbose=0,
    ):
        super().__init__(model, target=target, output=output)
        self.baseline = baseline
        self.n_steps = n_steps
        self.method = method
        self.multiply_by_inputs = multiply_by_inputs
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _fit(self, X):
        self.baseline_ = check_baseline(self.baseline, X.shape[1])

    def _explain(self, X, target):
        nodes, weights = _quadrature(self.method, self.n_steps)
        model = self.model_
        baseline = model.to_native(self.baseline_)
        alphas = model.to_native(nodes)[None, :, None]
        w = model.to_native(weights)[None, :, None]

        def expand(Xc, rows):
            return baseline + alphas * (Xc[:, None, :] - baseline)

        def reduce(G, Z, Xc, rows):
            average = (w * G).sum(axis=1)
            return (Xc - baseline) * average if self.multiply_by_inputs else average

        return model.query_perturbed(
            X, target, expand, reduce, n_per_row=self.n_steps, kind="gradient"
        )
