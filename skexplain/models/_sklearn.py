"""The adapter for fitted scikit-learn estimators."""

import numpy as np

from ..utils import ColumnCodec, votes_as_probabilities
from ._numpy import _NumpyModel

_SKLEARN_OUTPUTS = ("logit", "probability", "log_probability", "decision_function", "predict")


def _column_owners(step, n_inputs):
    """The input column each output column of a fitted step is computed from alone, ``(n_out,)``
    ints; None where the step is not known to map every column by itself.

    Known: ``"passthrough"`` (or an identity ``FunctionTransformer``), scikit-learn's scalers,
    ``OrdinalEncoder``, ``OneHotEncoder``
    (without dropped or infrequent categories: one output per category of its column), and
    Pipelines and ColumnTransformers of these.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import (
        FunctionTransformer,
        MaxAbsScaler,
        MinMaxScaler,
        OneHotEncoder,
        OrdinalEncoder,
        PowerTransformer,
        QuantileTransformer,
        RobustScaler,
        StandardScaler,
    )

    one_to_one = (
        StandardScaler,
        MinMaxScaler,
        MaxAbsScaler,
        RobustScaler,
        QuantileTransformer,
        PowerTransformer,
        OrdinalEncoder,
    )
    if step is None or (isinstance(step, str) and step == "passthrough"):
        return np.arange(n_inputs)
    # a ColumnTransformer's remainder="passthrough" is an identity FunctionTransformer
    identity = isinstance(step, FunctionTransformer) and step.func is None
    if identity or isinstance(step, one_to_one):
        return np.arange(n_inputs)
    if isinstance(step, OneHotEncoder):
        infrequent = getattr(step, "infrequent_categories_", None) or []
        if getattr(step, "drop_idx_", None) is not None or any(c is not None for c in infrequent):
            return None
        return np.repeat(np.arange(n_inputs), [len(c) for c in step.categories_])
    if isinstance(step, Pipeline):
        owners = np.arange(n_inputs)
        for _, inner in step.steps:
            inner_owners = _column_owners(inner, owners.size)
            if inner_owners is None:
                return None
            owners = owners[inner_owners]
        return owners
    if isinstance(step, ColumnTransformer):
        inputs = getattr(step, "_transformer_to_input_indices", None)
        if inputs is None:
            return None
        parts = []
        for name, transformer, _ in step.transformers_:
            if (
                name not in step.output_indices_
                or isinstance(transformer, str)
                and (transformer == "drop")
            ):
                continue
            columns = np.asarray(inputs[name], dtype=np.intp)
            inner_owners = _column_owners(transformer, columns.size)
            where = step.output_indices_[name]
            if inner_owners is None or inner_owners.size != where.stop - where.start:
                return None
            parts.append((where.start, columns[inner_owners]))
        parts.sort(key=lambda part: part[0])
        return np.concatenate([o for _, o in parts]) if parts else np.zeros(0, dtype=np.intp)
    return None


class SklearnModel(_NumpyModel):
    """Adapter for a fitted scikit-learn estimator (or Pipeline).

    The explained output is, for classifiers by default, the log-odds of a class,
    ``log(p / (1 - p))`` (``"logit"``, the package-wide default: unlike a probability it does not
    saturate, so a confident classifier keeps informative gradients), or a ``predict_proba``
    column, its log, a ``decision_function`` column or ``predict``. Classifiers whose
    probabilities are fractions of votes (decision trees, forests, bagged trees, nearest
    neighbours) explain the probability by default: it is exactly 0 or 1 wherever the votes
    agree, where the log-odds are infinite. Gradients are exact for
    linear models explained through ``decision_function`` or ``predict``, and batched central
    finite differences otherwise.

    Parameters
    ----------
    estimator : estimator object
        A fitted scikit-learn estimator.
    output : {"auto", "logit", "probability", "log_probability", "decision_function", \
"predict"} or None, default=None
        The explained output; None or "auto" picks ``"logit"`` when the estimator has
        ``predict_proba`` (``"probability"`` for trees, forests and neighbours, whose
        probabilities are votes), else ``"decision_function"``, else ``"predict"``.
    batch_size : int or None, default=None
        Model evaluations per query chunk; None uses 8192.

    See Also
    --------
    as_model : Picks this adapter for scikit-learn estimators.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from skexplain.models import SklearnModel
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> model = SklearnModel(LinearRegression().fit(X, X @ [2.0, -1.0]))
    >>> model.gradient(X[:1]).round(6)
    array([[ 2., -1.]])
    """

    def __init__(self, estimator, *, output=None, batch_size=None):
        super().__init__(batch_size)
        if output in (None, "auto"):
            if hasattr(estimator, "predict_proba"):
                # Votes (trees, forests, neighbours) are 0 or 1 wherever they agree: their
                # log-odds are infinite there, so the probability is explained instead.
                output = "probability" if votes_as_probabilities(estimator) else "logit"
            elif hasattr(estimator, "decision_function"):
                output = "decision_function"
            else:
                output = "predict"
        if output not in _SKLEARN_OUTPUTS:
            raise ValueError(
                f"output must be one of {_SKLEARN_OUTPUTS} or 'auto' for a scikit-learn "
                f"estimator, got {output!r}"
            )
        method = {
            "probability": "predict_proba",
            "log_probability": "predict_log_proba",
            "logit": "predict_proba",
        }.get(output, output)
        if not hasattr(estimator, method):
            raise ValueError(
                f"output={output!r} needs the estimator's {method} method, which "
                f"{type(estimator).__name__} does not have"
            )
        self.estimator = estimator
        self.output = output
        self._method = method
        names = self.model_columns
        if names is not None:
            # A model fitted on a frame is queried with a frame of its columns, also when the
            # rows come as an array in the model's column order (no feature-name warning).
            self.codec = ColumnCodec(model_columns=names).fit(np.zeros((0, len(names))))

    _accepts_frames = True

    @property
    def _outputs_are_classes(self):
        # predict of a multi-output regressor: no "largest output" to pick (issue 12, cause 4)
        return self.output != "predict"

    @property
    def classes_(self):
        """The class labels of a classifier's outputs, or None."""
        if self.output == "predict":
            return None
        return getattr(self.estimator, "classes_", None)

    @property
    def model_columns(self):
        """The column names the estimator was fitted on (``feature_names_in_``), or None."""
        names = getattr(self.estimator, "feature_names_in_", None)
        return None if names is None else list(names)

    @property
    def uses_finite_differences(self):
        """Whether gradients are finite differences (not a linear model's exact ones)."""
        from sklearn.linear_model._base import LinearClassifierMixin, LinearModel

        if isinstance(self.estimator, LinearClassifierMixin):
            return self.output != "decision_function"
        return not (isinstance(self.estimator, LinearModel) and self.output == "predict")

    def _call(self, X):
        if self.output == "logit":
            return self._log_odds(X)
        return getattr(self.estimator, self._method)(X)

    def _log_odds(self, X):
        """``log p_k - log(1 - p_k)`` for every class k, without cancellation near p_k = 1.

        A binary classifier with ``decision_function`` gives it directly (``[-d, d]``, exact
        for logistic models). Otherwise ``1 - p_k`` is summed from the other classes'
        probabilities, which keep their relative precision when tiny, so a saturated
        classifier (``p`` within 1e-12 of 1) still has finite, informative log-odds.
        """
        estimator = self.estimator
        classes = getattr(estimator, "classes_", None)
        if classes is not None and len(classes) == 2 and hasattr(estimator, "decision_function"):
            d = np.asarray(estimator.decision_function(X), dtype=np.float64).reshape(-1)
            return np.stack([-d, d], axis=1)
        P = np.asarray(estimator.predict_proba(X), dtype=np.float64)
        k = P.shape[1]
        others = P @ (1.0 - np.eye(k))  # sum over j != k, no subtraction from 1
        tiny = np.finfo(np.float64).tiny
        return np.log(np.maximum(P, tiny)) - np.log(np.maximum(others, tiny))

    def masking_inputs(self, X, background):
        """The rest of a Pipeline after its leading per-column steps, and the rows through them.

        The steps recognized map every column by a fitted function of that column alone:
        scikit-learn's scalers (``StandardScaler``, ``MinMaxScaler``, ``MaxAbsScaler``,
        ``RobustScaler``, ``QuantileTransformer``, ``PowerTransformer``), ``OrdinalEncoder``,
        ``OneHotEncoder`` (without dropped or infrequent categories), ``"passthrough"``, and
        ColumnTransformers and Pipelines of these. A composite's transform is then the
        composite of the transformed rows, each raw column carrying its encoded columns, so the
        model's output is unchanged (:meth:`ModelAdapter.masking_inputs`). This is checked on
        16 composites of the first rows given, value for value, and their outputs, before it is
        used; any other step, or a failed check, queries the Pipeline whole.

        Parameters
        ----------
        X : ndarray of shape (n, d)
            The explained rows (encoded).
        background : ndarray of shape (m, d)
            The background rows (encoded).

        Returns
        -------
        model : ModelAdapter
            The adapter of the Pipeline's remaining steps, or this adapter.
        X, background : ndarray of shape (n, D) and (m, D)
            The rows and background rows through the leading steps (as given where none).
        owners : ndarray of shape (D,) or None
            The column of X each transformed column comes from; None where each comes from
            the column at its own position (scalers, or no leading step).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LinearRegression
        >>> from sklearn.pipeline import make_pipeline
        >>> from sklearn.preprocessing import StandardScaler
        >>> from skexplain.models import as_model
        >>> X = np.array([[0.0, 10.0], [2.0, 30.0], [4.0, 20.0]])
        >>> model = as_model(make_pipeline(StandardScaler(), LinearRegression()).fit(X, X[:, 0]))
        >>> rest, Xt, Bt, owners = model.masking_inputs(X, X[:1])
        >>> type(rest.estimator[0]).__name__, Xt[:, 0].round(4), owners
        ('LinearRegression', array([-1.2247,  0.    ,  1.2247]), None)
        """
        from sklearn.pipeline import Pipeline

        whole = self, X, background, None
        estimator = self.estimator
        if not isinstance(estimator, Pipeline) or X.shape[0] == 0 or background.shape[0] == 0:
            return whole
        d, owners, leading = X.shape[1], np.arange(X.shape[1]), 0
        for _, step in estimator.steps[:-1]:
            step_owners = _column_owners(step, owners.size)
            if step_owners is None:
                break
            owners, leading = owners[step_owners], leading + 1
        if leading == 0:
            return whole
        head = estimator[:leading]
        Xt, Bt = self._transformed(head, X), self._transformed(head, background)
        if Xt.shape[1] != owners.size or Bt.shape[1] != owners.size:
            return whole
        rest = SklearnModel(estimator[leading:], output=self.output, batch_size=self.batch_size)
        # Checked once per mapping and codec (a refitted encoder with other categories anew)
        checked = self.__dict__.setdefault("_masking_checked", {})
        key = (leading, owners.tobytes(), id(self.codec))
        if key not in checked:
            checked[key] = self._composites_agree(head, rest, owners, X, background, Xt, Bt)
        if not checked[key]:
            return whole
        identity = owners.size == d and bool((owners == np.arange(d)).all())
        return rest, Xt, Bt, None if identity else owners

    def _composites_agree(self, head, rest, owners, X, background, Xt, Bt):
        """Whether 16 composites of the rows, through ``head`` and through the Pipeline, equal
        the composites of the transformed rows and their outputs through ``rest`` (a fixed
        generator: numpy's global state is left alone)."""
        rng = np.random.default_rng(0)
        i, b = rng.integers(0, X.shape[0], 16), rng.integers(0, background.shape[0], 16)
        held = rng.random((16, X.shape[1])) < 0.5
        composites = np.where(held, X[i], background[b])
        composed = np.where(held[:, owners], Xt[i], Bt[b])
        if not np.array_equal(self._transformed(head, composites), composed, equal_nan=True):
            return False
        # the outputs too: the rest may read more than values (a frame's dtypes, say)
        outputs = self._outputs_native(composites)
        return np.array_equal(rest._outputs_native(composed), outputs, equal_nan=True)

    def _transformed(self, head, X):
        """Encoded rows through the leading steps ``head``, as a dense float array."""
        Z = head.transform(self._model_input(X))
        Z = Z.toarray() if hasattr(Z, "toarray") else Z
        return np.asarray(Z, dtype=np.float64)

    def _exact_gradient(self, X, target):
        from sklearn.linear_model._base import LinearClassifierMixin, LinearModel

        # Exact only where the explained output is the linear function itself: a linear
        # classifier's decision function, or a linear regressor's prediction (a classifier's
        # predicted label is piecewise constant, its probabilities are not linear).
        if isinstance(self.estimator, LinearClassifierMixin):
            if self.output != "decision_function":
                return None
        elif not (isinstance(self.estimator, LinearModel) and self.output == "predict"):
            return None
        coef = np.atleast_2d(np.asarray(self.estimator.coef_, dtype=np.float64))
        if target is None:
            if coef.shape[0] != 1:
                return None  # let _select raise its error about the missing target
            return np.broadcast_to(coef[0], X.shape).copy()
        if target.size and int(target.max()) >= coef.shape[0]:
            raise ValueError(
                f"target index {int(target.max())} is out of range for {coef.shape[0]} outputs"
            )
        return coef[target]
