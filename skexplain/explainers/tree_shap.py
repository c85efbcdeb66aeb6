"""TreeShapExplainer: exact TreeSHAP of tree ensembles, in raw columns for pipelines."""

import warnings
from numbers import Integral

import numpy as np
from sklearn.pipeline import Pipeline

from .._compat import Interval, StrOptions
from ..base import BaseExplainer
from ..models import as_model
from ..utils import fresh_random_state, import_optional

__all__ = ["TreeShapExplainer"]

# Model classes shap's TreeExplainer reads, by module prefix and class name.
_SKLEARN_TREES = {
    "DecisionTreeClassifier",
    "DecisionTreeRegressor",
    "ExtraTreeClassifier",
    "ExtraTreeRegressor",
    "RandomForestClassifier",
    "RandomForestRegressor",
    "ExtraTreesClassifier",
    "ExtraTreesRegressor",
    "GradientBoostingClassifier",
    "GradientBoostingRegressor",
    "HistGradientBoostingClassifier",
    "HistGradientBoostingRegressor",
    "IsolationForest",
}
_NATIVE = {"xgboost": "XGBoost", "lightgbm": "LightGBM"}


def _family(estimator):
    """ "sklearn", "xgboost" or "lightgbm" for a supported tree model, else None."""
    module = type(estimator).__module__.split(".")[0]
    name = type(estimator).__name__
    if module == "sklearn" and name in _SKLEARN_TREES:
        return "sklearn"
    if module in _NATIVE and name.endswith(("Classifier", "Regressor", "Ranker")):
        return module
    return None


def _split_pipeline(model):
    """The preprocessing steps (a Pipeline or None) and the final tree model."""
    if isinstance(model, Pipeline):
        prefix = model[:-1] if len(model.steps) > 1 else None
        return prefix, model.steps[-1][1]
    return None, model


def _one_hot_widths(encoder, n_in):
    """Output columns per input column of a fitted OneHotEncoder-like transformer."""
    widths = getattr(encoder, "_n_features_outs", None)  # sklearn >= 1.1, counts drops/infrequent
    if widths is None:
        drop = getattr(encoder, "drop_idx_", None)
        widths = [
            len(c) - (drop is not None and drop[i] is not None)
            for i, c in enumerate(encoder.categories_)
        ]
    widths = [int(w) for w in widths]
    if len(widths) != n_in:
        raise ValueError(f"{type(encoder).__name__} has {len(widths)} inputs, expected {n_in}")
    return widths


def _output_width(transformer, n_in):
    if transformer in ("passthrough", None):
        return n_in
    if transformer == "drop":
        return 0
    try:
        return len(transformer.get_feature_names_out())
    except (AttributeError, ValueError, TypeError):
        return n_in


def column_map(transformer, n_in, n_out):
    """0/1 matrix ``(n_in, n_out)``: which input column each output column of a transformer is.

    Understood: "passthrough", "drop", a ColumnTransformer (through its fitted column lists and
    output slices), a Pipeline (its steps composed), a one-hot encoder (``categories_``), any
    transformer of one input column, and column-wise transformers that keep the width (scalers,
    imputers, ordinal encoders). Transformers that mix columns raise a ValueError.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import FunctionTransformer

    if transformer == "drop":
        return np.zeros((n_in, 0))
    if transformer == "passthrough" or transformer is None:
        return np.eye(n_in)
    if isinstance(transformer, ColumnTransformer):
        G = np.zeros((n_in, n_out))
        inputs = transformer._transformer_to_input_indices
        for name, inner, _ in transformer.transformers_:
            if inner == "drop" or name not in transformer.output_indices_:
                continue
            out = transformer.output_indices_[name]
            columns = np.asarray(inputs[name], dtype=np.int64)
            width = out.stop - out.start
            if width == 0:
                continue
            G[np.ix_(columns, np.arange(out.start, out.stop))] = column_map(
                inner, len(columns), width
            )
        return G
    if isinstance(transformer, Pipeline):
        G, width = np.eye(n_in), n_in
        for _, step in transformer.steps:
            nxt = _output_width(step, width)
            G, width = G @ column_map(step, width, nxt), nxt
        if width != n_out:
            raise ValueError(
                f"cannot follow the columns through {transformer!r}: {width} outputs "
                f"predicted, {n_out} found"
            )
        return G
    if n_in == 1:
        return np.ones((1, n_out))
    if isinstance(transformer, FunctionTransformer) and transformer.func is None:
        return np.eye(n_in)
    if (
        hasattr(transformer, "categories_")
        and type(transformer).__name__ != "OrdinalEncoder"
        and sum(_one_hot_widths(transformer, n_in)) == n_out
    ):
        widths = _one_hot_widths(transformer, n_in)
        return np.repeat(np.eye(n_in), widths, axis=1)
    if n_out == n_in and not hasattr(transformer, "components_"):
        return np.eye(n_in)
    raise ValueError(
        f"cannot map the {n_out} output columns of {type(transformer).__name__} to its {n_in} "
        "input columns: TreeShapExplainer sums encoded columns per raw column for column-wise "
        "transformers and one-hot encoders only; explain the final model on encoded columns, or "
        "use ShapleyExplainer on the pipeline"
    )


class TreeShapExplainer(BaseExplainer):
    """Exact Shapley values of tree ensembles by TreeSHAP, in raw columns for pipelines.

    The values are computed by the field's implementations: shap's ``TreeExplainer`` (Lundberg et
    al. 2020), and XGBoost's or LightGBM's own ``pred_contribs`` for the path-dependent game when
    ``algorithm`` allows. Supported: scikit-learn decision trees, random forests, extra trees,
    gradient boosting and histogram gradient boosting, XGBoost and LightGBM models.

    ``feature_perturbation="interventional"`` (the default) explains the same game as
    :class:`ShapleyExplainer`, ``v(S) = mean_b f(x_S, b_(not S))`` over a background drawn from the
    fitting rows, exactly and in time linear in the trees' leaves; "tree_path_dependent" uses the
    trees' own training covers instead of a background (Lundberg et al. 2020, Algorithm 2).

    For a Pipeline whose last step is a tree model, the model is explained on the encoded
    columns its preprocessing produces and the values of the encoded columns of each raw column
    are summed (a ColumnTransformer's column lists say which are whose). The sums still add up to
    the model's output minus the base value (efficiency); each is the Shapley value of the raw
    column where it maps to one encoded column, and the sum of its encoded columns' values
    otherwise (one-hot columns are separate players of the encoded game).

    The explained output is the trees' raw output (``output="raw"``): the margin (log-odds) of
    boosted classifiers, the class probabilities of forests, the prediction of regressors. For a
    binary classifier with one margin, class 0 is explained by the negated margin (its
    log-odds). ``output="probability"`` explains probabilities, with the interventional game only.

    Parameters
    ----------
    model : object, default=None
        A fitted tree model, or a Pipeline ending in one.
    background : array-like of shape (n_background_rows, n_features) or None, default=None
        Background rows for the interventional game (raw columns); None draws ``n_background``
        of the fitting rows.
    n_background : int, default=100
        Background rows drawn from the fitting rows when ``background`` is None.
    feature_perturbation : {"interventional", "tree_path_dependent"}, default="interventional"
        The game explained (see above).
    output : {"raw", "probability"}, default="raw"
        The explained output.
    algorithm : {"auto", "shap", "native"}, default="auto"
        "native" uses XGBoost's / LightGBM's own path-dependent contributions (needs
        ``feature_perturbation="tree_path_dependent"`` and such a model); "shap" uses shap's
        TreeExplainer; "auto" picks native where it applies.
    target : "predicted", int, label or None, default=None
        Output to explain: None or "predicted" explains a single output, or each row's
        predicted class; an int is an output index; any other value is a class label of the
        model's ``classes_`` (``target="barolo"``). :meth:`explain` takes one target per row.
    random_state : int, RandomState instance or None, default=None
        Seeds the background sample.
    n_jobs : int or None, default=None
        Parallel jobs over chunks of rows (joblib, so a Dask or Ray cluster through
        ``joblib.parallel_config``); the attributions equal those of ``n_jobs=1``.
    verbose : int, default=0
        Show a progress bar over the chunks of rows when positive.

    Attributes
    ----------
    model_ : ModelAdapter
    background_ : ndarray of shape (n_background_rows, n_features) or None
        The background rows (None for the path-dependent game).
    expected_value_ : ndarray of shape (n_outputs,)
        The base value of every explained output.
    algorithm_ : str
        "shap" or "native".
    column_map_ : ndarray of shape (n_features, n_encoded) or None
        For pipelines, which encoded columns belong to each raw column.
    n_features_in_ : int

    See Also
    --------
    ShapleyExplainer : Shapley values of any model (not only trees).

    References
    ----------
    Lundberg et al. (2020), From local explanations to global understanding with explainable AI
    for trees, Nature Machine Intelligence 2, 56-67.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from skexplain import TreeShapExplainer
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> forest = RandomForestRegressor(n_estimators=10, random_state=0).fit(X, X[:, 0] * X[:, 1])
    >>> explainer = TreeShapExplainer(model=forest, n_background=20, random_state=0).fit(X)
    >>> phi = explainer.transform(X[:3])
    >>> np.allclose(phi.sum(axis=1), forest.predict(X[:3]) - explainer.expected_value_[0])
    True
    """

    _model_agnostic = False  # tree ensembles only

    _parameter_constraints = {
        **BaseExplainer._parameter_constraints,
        "background": [None, "array-like"],
        "n_background": [Interval(Integral, 1, None, closed="left")],
        "feature_perturbation": [StrOptions({"interventional", "tree_path_dependent"})],
        "output": [StrOptions({"raw", "probability"})],
        "algorithm": [StrOptions({"auto", "shap", "native"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        model=None,
        *,
        background=None,
        n_background=100,
        feature_perturbation="interventional",
        output="raw",
        algorithm="auto",
        target=None,
        random_state=None,
        n_jobs=None,
        verbose=0,
    ):
        super().__init__(model, target=target, output=output)
        self.background = background
        self.n_background = n_background
        self.feature_perturbation = feature_perturbation
        self.output = output
        self.algorithm = algorithm
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _explained_output(self):
        """The adapter output that :meth:`_adapter_output` resolves to for this model."""
        return as_model(self._model_to_fit(), output=self._adapter_output()).output

    def _adapter_output(self):
        # The adapter (metrics, displays, the predicted class) must see the output the values
        # explain: the probability, or the raw output, which "auto" already is for forests
        # (their votes), regressors and binary boosting (the log-odds are the margin); for
        # scikit-learn's multi-class boosting the raw output is the decision function.
        if self.output == "probability":
            return "probability"
        _, tree = _split_pipeline(self._model_to_fit())
        classes = getattr(tree, "classes_", None)
        if (
            _family(tree) == "sklearn"
            and classes is not None
            and len(classes) > 2
            and hasattr(tree, "decision_function")
        ):
            return "decision_function"
        return "auto"

    def _fit(self, X):
        prefix, tree = _split_pipeline(self._model_to_fit())
        family = _family(tree)
        if family is None:
            raise TypeError(
                f"TreeShapExplainer explains tree ensembles (scikit-learn trees, forests and "
                f"gradient boosting, XGBoost, LightGBM), got {type(tree).__name__}: use "
                "ShapleyExplainer for other models"
            )
        if any(
            node["is_categorical"].any()
            for trees in getattr(tree, "_predictors", [])
            for node in (p.nodes for p in trees)
            if "is_categorical" in node.dtype.names
        ):
            raise ValueError(
                "shap's TreeExplainer ignores the categorical splits of "
                f"{type(tree).__name__} (categorical_features): its values would not be the "
                "model's; use ShapleyExplainer, or one-hot or ordinal codes without "
                "categorical_features"
            )
        path = self.feature_perturbation == "tree_path_dependent"
        if self.output == "probability" and path:
            raise ValueError(
                "output='probability' needs feature_perturbation='interventional' (TreeSHAP's "
                "path-dependent algorithm explains the raw output only)"
            )
        native = family != "sklearn" and path and self.output == "raw"
        if self.algorithm == "native" and not native:
            raise ValueError(
                "algorithm='native' needs an XGBoost or LightGBM model, "
                "feature_perturbation='tree_path_dependent' and output='raw'"
            )
        self.algorithm_ = "native" if native and self.algorithm != "shap" else "shap"
        self._prefix, self._tree, self._family = prefix, tree, family
        d = X.shape[1]
        if path:
            self.background_ = None
        elif self.background is None:
            rng = fresh_random_state(self.random_state)
            rows = np.arange(X.shape[0])
            if X.shape[0] > self.n_background:
                rows = np.sort(rng.choice(X.shape[0], size=self.n_background, replace=False))
            self.background_ = np.array(X[rows], copy=True)
        else:
            background = self.codec_.encode(self.background)  # a frame's raw columns as codes
            if background.ndim != 2 or background.shape[1] != d or background.shape[0] == 0:
                raise ValueError(
                    f"background must be a non-empty 2-D array with {d} columns (as X), got "
                    f"shape {background.shape}"
                )
            self.background_ = background.copy()
        probe = self._encode(X[:1])
        self.column_map_ = None
        if prefix is not None:
            names = getattr(prefix, "feature_names_in_", None)
            raw = self.codec_.columns_
            if names is None or raw is None:
                self.column_map_ = column_map(prefix, d, probe.shape[1])
            else:  # the pipeline's columns in its own order; the rows' in theirs
                inner = column_map(prefix, len(names), probe.shape[1])
                position = {name: i for i, name in enumerate(names)}
                self.column_map_ = np.zeros((d, probe.shape[1]))
                for j, name in enumerate(raw):
                    if name in position:
                        self.column_map_[j] = inner[position[name]]
        if self.algorithm_ == "shap":
            shap = import_optional("shap", purpose="TreeShapExplainer")
            data = None if path else self._shap_input(self._encode(self.background_))
            self._shap = shap.TreeExplainer(
                tree,
                data=data,
                feature_perturbation=self.feature_perturbation,
                model_output="probability" if self.output == "probability" else "raw",
            )
            base = np.atleast_1d(np.asarray(self._shap.expected_value, dtype=np.float64))
        else:
            base = self._native_contributions(probe)[1][0]
        if not path:  # E_b f(b) from the model itself (shap's is off for some models)
            base = self._raw_output(self._encode(self.background_)).mean(axis=0)
        # A binary classifier explained through one output (boosting's log-odds, or the
        # probability, of class 1): class 0 is explained by its negation.
        self._one_output = base.shape[0] == 1 and self.model_.predict_all(X[:1]).shape[1] == 2
        if self._one_output:
            base = np.array([(1.0 if self.output == "probability" else 0.0) - base[0], base[0]])
        self.expected_value_ = base

    def _model_input(self, X):
        """The coded rows as the pipeline's first step takes them (its frame, when it has one)."""
        return self.codec_.decode(X)

    def _encode(self, X):
        if self._prefix is None:
            return X
        encoded = self._prefix.transform(self._model_input(X))
        if hasattr(encoded, "toarray"):
            encoded = encoded.toarray()
        return np.asarray(encoded, dtype=np.float64)

    def _shap_input(self, encoded):
        """The rows as scikit-learn's trees compare them: in float32.

        ``sklearn.tree`` casts its input to float32 before comparing it with its float32
        thresholds; shap compares the float64 values, so a value within float32 rounding of a
        threshold took the other branch, and the values missed the model's output (1e-4 on
        most rows of a default RandomForest over penguins; 1e-8 once cast). Rarer, larger
        misses on deep trees remain shap's (#3267: 2 of 180 row-classes, 0.05, on a forest
        over penguins' numeric columns), and are warned. HistGradientBoosting compares in
        float64.
        """
        if self._family == "sklearn" and not type(self._tree).__name__.startswith("Hist"):
            return encoded.astype(np.float32).astype(np.float64)
        return encoded

    def _native_contributions(self, encoded):
        """XGBoost's / LightGBM's path-dependent TreeSHAP: values ``(n, d[, k])`` and base."""
        n, d = encoded.shape
        if self._family == "xgboost":
            xgboost = import_optional("xgboost", purpose="TreeShapExplainer(algorithm='native')")
            booster = self._tree.get_booster() if hasattr(self._tree, "get_booster") else self._tree
            raw = booster.predict(xgboost.DMatrix(encoded), pred_contribs=True)
        else:
            raw = self._tree.predict(encoded, pred_contrib=True)
        raw = np.asarray(raw.toarray() if hasattr(raw, "toarray") else raw, dtype=np.float64)
        raw = raw.reshape(n, -1, d + 1)  # (n, k, d + 1): the last column is the bias
        return np.moveaxis(raw[:, :, :d], 1, 2), raw[:, :, d]

    def _raw_output(self, encoded):
        """The outputs TreeSHAP explains, ``(n, k)``, computed by the model itself."""
        model, name = self._tree, type(self._tree).__name__
        if self._prefix is None:  # the rows are the tree's own: its frame, if fitted on one
            encoded = self._model_input(encoded)
        if self.output == "probability":
            out = model.predict_proba(encoded)
            out = out[:, 1:] if out.shape[1] == 2 else out
        elif self._family == "xgboost":
            out = model.predict(encoded, output_margin=True)
        elif self._family == "lightgbm":
            out = model.predict(encoded, raw_score=True)
        elif name.startswith(("GradientBoosting", "HistGradientBoosting")) and hasattr(
            model, "decision_function"
        ):
            out = model.decision_function(encoded)
        elif hasattr(model, "predict_proba"):
            out = model.predict_proba(encoded)
        else:
            out = model.predict(encoded)
        out = np.asarray(out, dtype=np.float64)
        return out.reshape(out.shape[0], -1)

    def _check_additivity(self, values, encoded):
        """Warn when shap's values do not add up to the model's output (shap#3267: the
        interventional algorithm fails on deep trees)."""
        base = self.expected_value_[1:] if self._one_output else self.expected_value_
        residual = np.abs(values.sum(axis=1) + base - self._raw_output(encoded)).max()
        scale = max(1.0, float(np.abs(base).max()))
        if residual > 1e-6 * scale:
            warnings.warn(
                f"shap's TreeSHAP values miss the model's output by up to {residual:.3g} "
                "(efficiency fails; shap issue #3267 for interventional TreeSHAP on deep "
                "trees): use feature_perturbation='tree_path_dependent', shallower trees, or "
                "ShapleyExplainer",
                RuntimeWarning,
                stacklevel=3,
            )

    def _explain(self, X, target):
        encoded = self._encode(X)
        if self.algorithm_ == "native":
            values = self._native_contributions(encoded)[0]
        else:
            values = self._shap.shap_values(self._shap_input(encoded), check_additivity=False)
            values = np.asarray(values)
            values = values if values.ndim == 3 else values[:, :, None]
            self._check_additivity(values, encoded)
        n = X.shape[0]
        if values.shape[2] == 1:
            phi = values[:, :, 0]
            if target is not None and self._one_output:
                phi = np.where((np.asarray(target) == 0)[:, None], -phi, phi)
        elif target is None:
            raise ValueError("the model has several outputs: pass target")
        else:
            phi = values[np.arange(n), :, np.asarray(target)]
        if self.column_map_ is not None:
            phi = phi @ self.column_map_.T
        return phi
