"""Gradient and Input x Gradient: the model's own local slopes."""

from ..base import BaseExplainer

__all__ = ["Gradient", "InputXGradient"]


class Gradient(BaseExplainer):
    """The gradient of the explained output at each row (Simonyan et al. 2014).

    Parameters
    ----------
    model : object, default=None
        The model to explain: a torch module, a fitted scikit-learn estimator or a callable
        (see :func:`skexplain.models.as_model`).
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
        The adapted model.
    n_features_in_ : int
        Number of features seen in fit.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain import Gradient
    >>> from skexplain.functions import SumOfSines
    >>> X = np.array([[0.0, np.pi]])
    >>> Gradient(model=SumOfSines()).fit(X).transform(X).round(6)
    array([[ 1., -1.]])
    """

    # What the values are, for displays: local slopes are not additive attributions.
    _values_are = "slopes"
    _requires_gradient = True
    _categorical = "occlusion"

    def __init__(self, model=None, *, target=None, output="auto", n_jobs=None, verbose=0):
        super().__init__(model, target=target, output=output)
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _explain(self, X, target):
        return self.model_.gradient(X, target)


class InputXGradient(Gradient):
    """The input times the gradient, feature by feature (Shrikumar et al. 2016).

    Parameters
    ----------
    model : object, default=None
        The model to explain (see :func:`skexplain.models.as_model`).
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
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain import InputXGradient
    >>> from skexplain.functions import Polynomial
    >>> X = np.array([[1.0, 2.0]])
    >>> InputXGradient(model=Polynomial(degree=2)).fit(X).transform(X).round(6)
    array([[2., 8.]])
    """

    # What the values are, for displays: local slopes are not additive attributions.
    _values_are = "attributions"

    def _explain(self, X, target):
        return X * self.model_.gradient(X, target)
