"""BaseExplainer: the fit/transform contract shared by every explainer."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted, validate_data

from ._compat import Interval, validate_parameter_constraints
from .models import as_model

__all__ = ["BaseExplainer"]


class BaseExplainer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Base class of skexplain's explainers: scikit-learn transformers from rows to attributions.

    ``fit(X)`` validates the parameters and ``X``, wraps ``model`` into ``model_`` with
    :func:`skexplain.models.as_model` and stores what the method needs (subclasses override
    ``_fit``); ``transform(X)`` returns the attributions, a float64 array of the shape of ``X``.
    The explained output is chosen by ``target``: None explains a single-output model, or the class
    a classifier predicts for each row; an integer explains that output for every row.

    Subclasses define ``_parameter_constraints`` and ``_explain(X, target)``.

    Cloning keeps ``model`` by reference (scikit-learn's ``clone`` would otherwise return an
    unfitted copy of a fitted estimator, or deep-copy a torch module on every fold).
    """

    _parameter_constraints = {
        "model": "no_validation",
        "target": [None, Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, model=None, *, target=None):
        self.model = model
        self.target = target

    # -- contract -------------------------------------------------------------------------------
    def fit(self, X, y=None):
        """Validate the parameters and X, and prepare the model for queries.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows like those to be explained (background or inducing rows for some methods).
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        validate_parameter_constraints(
            self._parameter_constraints, self.get_params(deep=False), type(self).__name__
        )
        X = validate_data(self, X, dtype=np.float64)
        if self.model is None:
            raise ValueError(
                f"{type(self).__name__} needs a model: pass model=<torch module, fitted "
                "scikit-learn estimator or callable>"
            )
        self.model_ = as_model(self.model)
        self._fit(X)
        return self

    def transform(self, X):
        """Explain every row of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        attributions : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        target = self.model_.resolve_target(X, self.target)
        attributions = np.asarray(self._explain(X, target), dtype=np.float64)
        if attributions.shape != X.shape:  # a bug in a subclass, not a user error
            raise RuntimeError(
                f"{type(self).__name__} returned attributions of shape {attributions.shape} "
                f"for X of shape {X.shape}"
            )
        return attributions

    # -- hooks ----------------------------------------------------------------------------------
    def _fit(self, X):
        """Store what the method needs from the fitting rows; nothing by default."""

    def _explain(self, X, target):
        raise NotImplementedError

    # -- scikit-learn plumbing ------------------------------------------------------------------
    def __sklearn_clone__(self):
        params = self.get_params(deep=False)
        return type(self)(
            **{k: v if k == "model" else clone(v, safe=False) for k, v in params.items()}
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags
