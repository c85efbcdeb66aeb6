"""BaseExplainer: the fit/transform contract shared by every explainer."""

import numbers
from abc import ABCMeta, abstractmethod
from dataclasses import dataclass, fields
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, clone
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted, validate_data

from ._compat import StrOptions, validate_parameter_constraints
from ._engine import (
    explain_perturbed,  # re-exported: its documented home
    parallel_rows,
)
from .models import as_model
from .utils import (
    ColumnCodec,
    check_differentiable,
    import_optional,
    is_dask_collection,
    is_frame,
    map_row_blocks,
)

__all__ = ["BaseExplainer", "ExplainerTags", "explain_perturbed"]

# The outputs an explainer can explain (skexplain.models.as_model); "auto" is the package default.
_OUTPUTS = {
    "auto",
    "logit",
    "probability",
    "log_probability",
    "decision_function",
    "predict",
    "raw",
}


@dataclass(slots=True)
class ExplainerTags:
    """What an explainer needs from the model and the data; read with ``get_tags(e).explainer``.

    The report and the command line choose default explainers for a model from these tags.

    Parameters
    ----------
    requires_gradient : bool, default=False
        The explainer queries the model's gradient (or, like C-LIME, its local slope): it
        refuses piecewise-constant models (trees, forests, boosting, kNN), whose gradient is
        zero almost everywhere, with an error that names the model and the alternatives.
    model_agnostic : bool, default=True
        The explainer only needs the model's outputs (any model, any differentiability).
    categorical : {"occlusion", "native"}, default="native"
        How categorical columns of a frame are explained: ``"native"``, as one player of a
        masking game or a category of the reference package; ``"occlusion"``, by the output
        change when the row's category is replaced by the column's baseline category (the
        finite difference of a one-hot step, i.e. Input x Gradient on the one-hot encoding
        relative to the baseline category), since a category has no gradient.

    Examples
    --------
    >>> from sklearn.utils import get_tags
    >>> from skexplain import Gradient, KernelShapExplainer
    >>> get_tags(Gradient()).explainer.requires_gradient
    True
    >>> get_tags(KernelShapExplainer()).explainer.requires_gradient
    False
    """

    requires_gradient: bool = False
    model_agnostic: bool = True
    categorical: str = "native"


@dataclass(slots=True)
class _Tags(Tags):
    """scikit-learn's tags and the explainer's own (``Tags`` has slots: no new attributes)."""

    explainer: ExplainerTags | None = None


def _float_frame(codec, Z, X):
    """Encoded rows as a float frame with the raw column names and the index of X."""
    pd = import_optional("pandas", purpose="explaining a DataFrame")
    return pd.DataFrame(Z, columns=codec.columns_, index=getattr(X, "index", None))


def without_model_params(params):
    """The parameters less those nested in a ``model`` (``model__*``): the model stays opaque.

    Exposing them would let ``set_params`` (and so a grid search) change the fitted model that
    clones share by reference.
    """
    return {k: v for k, v in params.items() if "model" not in k.split("__")[:-1]}


def fit_clone(explainer, X, *, model=None, target=None):
    """Fit a clone of ``explainer`` on X, lending it ``model`` and ``target`` where it has none.

    How a meta-explainer fits its members (the aggregator, kernel smoothing, the report): the
    member's own model and target win; the caller's fill in what the member leaves unset.
    """
    explainer = clone(explainer)
    if model is not None and getattr(explainer, "model", None) is None:
        explainer.set_params(model=model)
    if target is not None and getattr(explainer, "target", None) is None:
        explainer.set_params(target=target)
    return explainer.fit(X)


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
        "target": "no_validation",  # an index, a label or "predicted": see resolve_target
        "output": [None, StrOptions(_OUTPUTS)],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(self, model=None, *, target=None, output="auto", n_jobs=None, verbose=0):
        self.model = model
        self.target = target
        self.output = output
        self.n_jobs = n_jobs
        self.verbose = verbose

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
        target = getattr(self, "target", None)
        if isinstance(target, numbers.Integral) and not isinstance(target, bool) and target < 0:
            raise ValueError(
                f"The 'target' parameter of {type(self).__name__} must be None, 'predicted', a "
                f"non-negative output index or a class label. Got {target!r} instead."
            )
        model = self._model_to_fit()
        if model is None:
            raise ValueError(
                f"{type(self).__name__} needs a model: pass model=<torch module, fitted "
                "scikit-learn estimator or callable>"
            )
        adapter = as_model(model, output=self._adapter_output())
        if is_frame(X):
            codec = ColumnCodec(model_columns=adapter.model_columns)
            codec.fit(X, also=self._rows_with_categories())
            X = validate_data(self, _float_frame(codec, codec.encode(X), X), dtype=np.float64)
        else:
            X = validate_data(self, X, dtype=np.float64)
            codec = ColumnCodec(model_columns=adapter.model_columns).fit(X)
        self.codec_ = codec
        self.feature_scale_ = codec.scale_
        self.model_ = adapter.with_codec(codec)
        if self.__sklearn_tags__().explainer.requires_gradient:
            check_differentiable(self.model_, type(self).__name__)
        self._fit(X)
        return self

    def _rows_with_categories(self):
        """Rows besides X whose categories the fitted codec must know (a background frame)."""
        return None

    def _validate_rows(self, X):
        """X for transform: a frame is encoded with the fitted codec, then validated."""
        if is_frame(X) and hasattr(self, "codec_"):
            X = _float_frame(self.codec_, self.codec_.encode(X), X)
        return validate_data(self, X, dtype=np.float64, reset=False)

    def transform(self, X):
        """Explain every row of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to explain. A dask array or DataFrame is explained lazily, block by block
            of rows, with this fitted explainer entering the task graph once.

        Returns
        -------
        attributions : ndarray of shape (n_samples, n_features)
            One attribution per feature of every row (a lazy dask array for a dask input).
        """
        check_is_fitted(self)
        if is_dask_collection(X):
            names = list(self.get_feature_names_out())
            return map_row_blocks(
                _transform_rows, X, shipped=(self,), n_columns=len(names), columns=names
            )
        X = self._validate_rows(X)
        target = self.model_.resolve_target(X, self.target)
        # n_jobs and verbose, where an explainer has them, spread its chunks of rows (joblib).
        with parallel_rows(getattr(self, "n_jobs", None), getattr(self, "verbose", 0)):
            attributions = self._explain_raw_columns(X, target)
        if attributions.shape != X.shape:  # a bug in a subclass, not a user error
            raise RuntimeError(
                f"{type(self).__name__} returned attributions of shape {attributions.shape} "
                f"for rows of shape {X.shape}"
            )
        return attributions

    def explain(self, X, target="predicted"):
        """Explain every row of X for a target given with the call, e.g. each row's true label.

        ``transform(X)`` explains the explainer's own ``target``; this call takes one for all
        rows or one per row, as metrics and scorers do (``target=y``).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The rows to explain.
        target : "predicted", int, label or array-like of shape (n_samples,), \
default="predicted"
            The output of each row: its predicted class, an output index, a class label of
            the model's ``classes_``, or one index or label per row.

        Returns
        -------
        attributions : ndarray or DataFrame of shape (n_samples, n_features)
            As ``transform`` returns them (a DataFrame after ``set_output(transform="pandas")``).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skexplain import Gradient
        >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
        >>> y = np.array(["no", "no", "yes", "yes"])
        >>> clf = LogisticRegression().fit(X, y)
        >>> explainer = Gradient(model=clf).fit(X)
        >>> per_row = explainer.explain(X, target=y)  # each row's true label
        >>> yes, no = explainer.explain(X, target="yes"), explainer.explain(X, target="no")
        >>> bool(np.allclose(yes, -no))  # binary log-odds: one class's are the other's negated
        True
        """
        check_is_fitted(self)
        rows = self._validate_rows(X)
        resolved = self.model_.resolve_target(rows, target)
        with parallel_rows(getattr(self, "n_jobs", None), getattr(self, "verbose", 0)):
            attributions = self._explain_raw_columns(rows, resolved)
        if getattr(self, "_sklearn_output_config", {}).get("transform") == "pandas":
            import pandas as pd

            return pd.DataFrame(
                attributions,
                columns=self.get_feature_names_out(),
                index=getattr(X, "index", None),
            )
        return attributions

    def _explain_raw_columns(self, X, target):
        """``_explain``, then the tagged rule for categorical columns and the gradient check."""
        attributions = np.asarray(self._explain(X, target), dtype=np.float64)
        tags = self.__sklearn_tags__().explainer
        codec = getattr(self.model_, "codec", None)
        if tags.requires_gradient:
            numeric = slice(None) if codec is None else codec.numeric_
            check_differentiable(self.model_, type(self).__name__, attributions[:, numeric])
        if tags.categorical == "occlusion" and codec is not None and codec.has_categorical:
            columns = np.flatnonzero(codec.categorical_)
            attributions[:, columns] = self.model_.occlusion(X, target, columns)
        return attributions

    # -- hooks ----------------------------------------------------------------------------------
    def _model_to_fit(self):
        """The model object that ``fit`` adapts; meta-explainers may take a member's."""
        return self.model

    def _adapter_output(self):
        """The ``output`` given to :func:`~skexplain.models.as_model` in ``fit``."""
        return getattr(self, "output", "auto")

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
        return without_model_params(super().get_params(deep=deep))

    def __sklearn_clone__(self):
        return clone_keeping_model(self)

    # What the explainer needs (ExplainerTags); subclasses override these class attributes.
    _requires_gradient = False
    _model_agnostic = None  # None: any model the explainer can query (not gradient-based)
    _categorical = "native"

    def __sklearn_tags__(self):
        base = super().__sklearn_tags__()
        tags = _Tags(**{f.name: getattr(base, f.name) for f in fields(Tags)})
        tags.input_tags.allow_nan = False
        tags.transformer_tags.preserves_dtype = ["float64"]
        agnostic = self._model_agnostic
        tags.explainer = ExplainerTags(
            requires_gradient=self._requires_gradient,
            model_agnostic=not self._requires_gradient if agnostic is None else agnostic,
            categorical=self._categorical,
        )
        return tags


def _transform_rows(explainer, X_rows):
    """One block of rows of a dask collection, explained by the (shipped) fitted explainer."""
    return explainer.transform(X_rows)


def clone_keeping_model(estimator):
    """An unfitted copy of ``estimator`` whose ``model`` parameter is the same object.

    scikit-learn's ``clone`` would clone a fitted model into an unfitted one (and deep-copy a
    torch module on every fold); explainers and their unions share it by reference instead.
    """
    params = estimator.get_params(deep=False)
    return type(estimator)(
        **{k: v if k == "model" else clone(v, safe=False) for k, v in params.items()}
    )
