"""BaseExplainer: the fit/transform contract shared by every explainer."""

import copy
from abc import ABCMeta, abstractmethod
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted, validate_data

from ._compat import Interval, validate_parameter_constraints
from .models import as_model

__all__ = ["BaseExplainer", "explain_perturbed"]

# Perturbed rows explained per call: bounds the memory of the copies and their explanations.
ROWS_PER_CALL = 8192


class BaseExplainer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class of skexplain's explainers: scikit-learn transformers from rows to attributions.

    ``fit(X)`` validates the parameters and ``X``, wraps ``model`` into ``model_`` with
    :func:`skexplain.models.as_model` and stores what the method needs (subclasses override
    ``_fit``); ``transform(X)`` returns the attributions, a float64 array of the shape of ``X``.
    The explained output is chosen by ``target``: None explains a single-output model, or the class
    a classifier predicts for each row; an integer explains that output for every row.

    Subclasses define ``_parameter_constraints`` and ``_explain(X, target)``.

    Cloning keeps ``model`` by reference (scikit-learn's ``clone`` would otherwise return an
    unfitted copy of a fitted estimator, or deep-copy a torch module on every fold).

    Parameters
    ----------
    model : object, default=None
        The model to explain: a torch module, a fitted scikit-learn estimator or a callable.
    target : int or None, default=None
        Output to explain; None explains a single output, or each row's predicted class.

    Attributes
    ----------
    model_ : ModelAdapter
        The adapter returned by :func:`skexplain.models.as_model`.
    n_features_in_ : int
        Number of features seen by ``fit``.

    Examples
    --------
    A new explainer defines ``_explain(X, target)``; ``fit``, ``transform``, validation,
    cloning and ``set_output`` come from the base class.

    >>> import numpy as np
    >>> from skexplain import BaseExplainer
    >>> class HalfGradient(BaseExplainer):
    ...     def _explain(self, X, target):
    ...         return 0.5 * self.model_.gradient(X, target)
    >>> X = np.array([[1.0, 2.0]])
    >>> HalfGradient(model=lambda X: (X**2).sum(axis=1)).fit(X).transform(X).round(6)
    array([[1., 2.]])
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
            The fitted explainer.
        """
        validate_parameter_constraints(
            self._parameter_constraints, self.get_params(deep=False), type(self).__name__
        )
        X = validate_data(self, X, dtype=np.float64)
        model = self._model_to_fit()
        if model is None:
            raise ValueError(
                f"{type(self).__name__} needs a model: pass model=<torch module, fitted "
                "scikit-learn estimator or callable>"
            )
        self.model_ = as_model(model)
        self._fit(X)
        return self

    def transform(self, X):
        """Explain every row of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to explain.

        Returns
        -------
        attributions : ndarray of shape (n_samples, n_features)
            One attribution per feature of every row.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        rows = self.explained_rows(X)
        target = self.model_.resolve_target(rows, self.target)
        attributions = np.asarray(self._explain(X, target), dtype=np.float64)
        if attributions.shape != rows.shape:  # a bug in a subclass, not a user error
            raise RuntimeError(
                f"{type(self).__name__} returned attributions of shape {attributions.shape} "
                f"for rows of shape {rows.shape}"
            )
        return attributions

    def explained_rows(self, X):
        """Return the rows that ``transform(X)`` explains.

        These are X itself, except for explainers whose input carries more than the rows (the
        pipeline form of :class:`~skexplain.AggregatingExplainer`).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_columns)
            The input of ``transform`` (``n_features_in_`` columns).

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            The explained rows.
        """
        return X

    # -- hooks ----------------------------------------------------------------------------------
    def _model_to_fit(self):
        """The model object that ``fit`` adapts; meta-explainers may take a member's."""
        return self.model

    def _fit(self, X):
        """Store what the method needs from the fitting rows; nothing by default."""

    @abstractmethod
    def _explain(self, X, target):
        """Attributions ``(n, d)`` of the rows X for their targets (None: the single output)."""

    # -- scikit-learn plumbing ------------------------------------------------------------------
    def get_params(self, deep=True):
        """Get the parameters of this explainer; ``model`` is opaque.

        The model's own parameters are not the explainer's: exposing ``model__*`` would let
        ``set_params`` (and so a grid search) change the fitted model that clones share by
        reference.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of contained estimators (other than ``model``).

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        params = super().get_params(deep=deep)
        return {k: v for k, v in params.items() if "model" not in k.split("__")[:-1]}

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


def _explain_copies(explainer, X, Z, target=None):
    """Explanations ``(c, m, d)`` of perturbed copies ``Z`` of the rows ``X``.

    A skexplain explainer explains each copy for the output chosen at its original row (the
    predicted class at x is kept for every copy, as the metrics and Captum do), or for ``target``
    (one index per row) when given; any other object with ``transform`` is simply asked to
    transform the copies.
    """
    c, m, d = Z.shape
    flat = Z.reshape(c * m, d)
    if isinstance(explainer, BaseExplainer):
        check_is_fitted(explainer)
        if target is None:
            target = explainer.model_.resolve_target(X, explainer.target)
        target = None if target is None else np.repeat(target, m)
        explained = explainer._explain(flat, target)
    else:
        explained = explainer.transform(flat)
    return np.asarray(explained, dtype=np.float64).reshape(c, m, d)


def _reseeded(explainer, rng):
    """A shallow copy of a fitted explainer drawing its noise from a seed taken from ``rng``.

    The copy's ``random_state`` (where it has one) and those of its fitted inner explainers
    (attributes ending in ``_`` holding an explainer, or a list of them or of ``(name,
    explainer)`` pairs, as :class:`~skexplain.KernelSmoothed` and the aggregator keep) become new
    integers; the explainer itself is untouched. ``rng=None`` returns the explainer as it is.
    """
    if rng is None or not isinstance(explainer, BaseEstimator):
        return explainer
    fresh = copy.copy(explainer)
    if "random_state" in explainer.get_params(deep=False):
        fresh.random_state = int(rng.randint(np.iinfo(np.int32).max))
    for name, value in vars(explainer).items():
        if not name.endswith("_") or name.startswith("_"):
            continue
        if isinstance(value, BaseEstimator):
            setattr(fresh, name, _reseeded(value, rng))
        elif isinstance(value, list) and value:
            setattr(fresh, name, [_reseeded_member(member, rng) for member in value])
    return fresh


def _reseeded_member(member, rng):
    if isinstance(member, tuple) and len(member) == 2:
        return member[0], _reseeded(member[1], rng)
    return _reseeded(member, rng)


def _explain_rows(explainer, X, target):
    """Explanations of the rows themselves, for ``target`` when given (as ``transform`` else)."""
    if target is not None and isinstance(explainer, BaseExplainer):
        check_is_fitted(explainer)
        return np.asarray(explainer._explain(X, target), dtype=np.float64)
    return np.asarray(explainer.transform(X), dtype=np.float64)


def explain_perturbed(
    explainers, X, draws, n_per_row, statistic, *, at_rows=True, target=None, fresh_noise=None
):
    """Explain perturbed copies of every row with fitted explainers, chunk by chunk.

    Parameters
    ----------
    explainers : list of fitted explainers
        The explainers; the statistic sees their explanations stacked in this order.
    X : ndarray of shape (n, d)
        The rows whose copies are explained.
    draws : callable
        ``draws(rows) -> Z``, the perturbed copies ``(c, n_per_row, d)`` of ``X[rows]``.
    n_per_row : int
        Copies per row.
    statistic : callable
        ``statistic(phi_x, phi_z, X_rows, Z) -> array`` with ``phi_x`` of shape ``(c, k, d)``
        (the explanations at the rows, k explainers) and ``phi_z`` ``(c, n_per_row, k, d)``.
    at_rows : bool, default=True
        Whether the statistic needs ``phi_x``; when False it receives None.
    target : ndarray of shape (n,) or None, default=None
        Output index of each row, kept for its copies; None resolves it with each explainer's
        own ``target`` at the rows (the predicted class at x). A meta-explainer called with a
        caller's target (the copies of a metric) must pass it on here.
    fresh_noise : RandomState instance or None, default=None
        None explains the rows and all their copies with the explainers as fitted: a
        stochastic explainer with an integer ``random_state`` reuses one noise bank at x and at
        every copy (common random numbers). A RandomState draws fresh noise instead: the rows
        and each copy index are explained by a copy of the explainer (and of its fitted inner
        explainers) reseeded from it, as Yeh et al.'s code, Captum and Decker et al.'s code
        re-explain every perturbed input with new noise.

    Returns
    -------
    ndarray
        The statistics of all chunks, concatenated along the first axis.

    Examples
    --------
    The mean distance between the gradient at a row and at copies shifted by 0.1:

    >>> import numpy as np
    >>> from skexplain import Gradient
    >>> from skexplain.base import explain_perturbed
    >>> X = np.array([[0.0, 1.0], [2.0, 3.0]])
    >>> grad = Gradient(model=lambda X: (X**2).sum(axis=1)).fit(X)
    >>> def statistic(phi_x, phi_z, X_rows, Z):
    ...     return np.linalg.norm(phi_z - phi_x[:, None], axis=-1).mean(axis=(1, 2))
    >>> explain_perturbed([grad], X, lambda rows: X[rows, None] + 0.1, 1, statistic).round(6)
    array([0.282843, 0.282843])
    """
    n = X.shape[0]
    rows_per_chunk = max(1, ROWS_PER_CALL // n_per_row)
    parts = []
    for start in range(0, n, rows_per_chunk):
        rows = slice(start, min(start + rows_per_chunk, n))
        Xc = X[rows]
        Z = np.asarray(draws(rows), dtype=np.float64)
        t = None if target is None else target[rows]
        phi_x = None
        if at_rows:
            phi_x = np.stack(
                [_explain_rows(_reseeded(e, fresh_noise), Xc, t) for e in explainers], axis=1
            )
        if fresh_noise is None:
            phi_z = np.stack([_explain_copies(e, Xc, Z, t) for e in explainers], axis=2)
        else:  # one reseeded explainer per copy index: every copy of a row gets its own noise
            phi_z = np.stack(
                [
                    np.concatenate(
                        [
                            _explain_copies(_reseeded(e, fresh_noise), Xc, Z[:, j : j + 1], t)
                            for j in range(Z.shape[1])
                        ],
                        axis=1,
                    )
                    for e in explainers
                ],
                axis=2,
            )
        parts.append(statistic(phi_x, phi_z, Xc, Z))
    if not parts:
        return np.zeros((0,))
    return np.concatenate(parts, axis=0)
