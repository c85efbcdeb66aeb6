"""LimeExplainer: the reference ``lime`` tabular explainer as a scikit-learn transformer."""

from functools import partial
from numbers import Integral, Real

import numpy as np

from .._compat import Interval, StrOptions
from ..base import BaseExplainer
from ..utils import import_optional
from ._rowwise import _call_seed, _explain_rows, _ScalarOutput

__all__ = ["LimeExplainer"]

_FEATURE_SELECTION = {"none", "auto", "forward_selection", "highest_weights", "lasso_path"}


class LimeExplainer(BaseExplainer):
    """LIME's local linear surrogate, computed by the reference ``lime`` package.

    Each row is explained by ``lime.lime_tabular.LimeTabularExplainer.explain_instance``: lime
    samples ``n_samples`` perturbations from the statistics of the fitting rows, weights them by
    an exponential kernel on their distance to the row and fits a weighted ridge regression of
    the model's output on them. The attribution of a feature is its ridge coefficient; all
    features are returned, in feature order.

    The explained output is the adapter's scalar ``model_.predict(Z, target=t)`` in lime's
    regression mode. For a classifier explained through its probabilities this is exactly what
    lime's classification mode returns for ``labels=(t,)`` with the same seed: both fit the same
    ridge regression on the same draws to the column ``t`` of ``predict_proba``.

    Parameters
    ----------
    model : object, default=None
        The model to explain: a torch module, a fitted scikit-learn estimator or a callable.
    n_samples : int, default=5000
        Perturbations per row (lime's ``num_samples``; 5000 is lime's default).
    kernel_width : float or None, default=None
        Width of lime's exponential kernel on the distance in standardized (or, with
        discretization, binary) feature space; None uses lime's default
        ``0.75 * sqrt(n_features)``.
    discretize_continuous : bool, default=True
        Whether lime discretizes every feature into the quartiles of the fitting rows. True is
        lime's default and what lime's users and papers report, so it is kept: the attribution of
        feature ``j`` is then the change in the output when ``x_j`` is in the row's own quartile
        rather than drawn from the others (a signed, unit-free effect). With False, lime draws
        gaussian perturbations around the feature means of the fitting rows (not around the row)
        and the attribution is a slope per standard deviation of the feature.
    feature_selection : {"none", "auto", "forward_selection", "highest_weights", \
"lasso_path"}, default="none"
        lime's method for choosing the ``max_features`` features in the surrogate. "none" fits
        all features (lime's own default, "auto", selects features before fitting, which with
        all features kept only costs time).
    max_features : int or None, default=None
        Number of features in the surrogate (lime's ``num_features``); the others get
        attribution 0. None keeps all features.
    target : "predicted", int, label or None, default=None
        Output to explain: None or "predicted" explains a single output, or each row's
        predicted class; an int is an output index; any other value is a class label of the
        model's ``classes_`` (``target="barolo"``). :meth:`explain` takes one target per row.
    output : str, default="auto"
        The model output explained, passed to :func:`skexplain.models.as_model`: "auto" (the
        package default: a classifier's log-odds ``"logit"``, which does not saturate, a
        regressor's prediction, a torch module's raw output), "logit", "probability",
        "log_probability", "decision_function" or "predict".
    random_state : int, RandomState instance or None, default=None
        Seeds lime's sampling. Every row is explained by lime seeded afresh with the same seed,
        so a row's attributions do not depend on the other rows of the batch and ``transform``
        returns the same answer each call; with an integer the result equals a new
        ``LimeTabularExplainer(..., random_state=random_state)`` explaining that row.
    n_jobs : int or None, default=None
        Rows explained in parallel by joblib (lime explains one row per call). None means 1
        unless in a ``joblib.parallel_config`` context; -1 uses all processors.
    verbose : int, default=0
        Show a progress bar over the rows when positive.

    Attributes
    ----------
    model_ : ModelAdapter
    training_data_ : ndarray of shape (n_fit_samples, n_features)
        The fitting rows, from which lime computes feature statistics and quartiles.
    n_features_in_ : int

    See Also
    --------
    CLIME : Continuous LIME with gaussian noise around the row, vectorized over rows.
    KernelShapExplainer : The reference ``shap`` package's KernelSHAP.
    ShapleyExplainer : Shapley values of any model, vectorized over rows.

    Notes
    -----
    lime explains one row per call: its perturbations of a row go to the model in one call, but
    the sampling, discretization and ridge fit run in Python per row. :class:`CLIME` (gaussian
    perturbations around the row, one query for all rows) and :class:`ShapleyExplainer` are
    faster whenever more than a few rows are explained; keep this wrapper to reproduce lime.

    References
    ----------
    Ribeiro, Singh and Guestrin (2016), "Why should I trust you?": explaining the predictions of
    any classifier. https://github.com/marcotcr/lime

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain import LimeExplainer
    >>> from skexplain.functions import Linear
    >>> X = np.random.RandomState(0).normal(size=(200, 3))
    >>> lime = LimeExplainer(model=Linear([2.0, 0.0, -1.0]), n_samples=500,
    ...                      random_state=0).fit(X)
    >>> W = lime.transform(X[:2])
    >>> W.shape
    (2, 3)
    >>> bool(np.all(np.abs(W[:, 1]) < np.abs(W[:, 0])))  # the unused feature weighs least
    True
    """

    _parameter_constraints = {
        **BaseExplainer._parameter_constraints,
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "kernel_width": [None, Interval(Real, 0, None, closed="neither")],
        "discretize_continuous": ["boolean"],
        "feature_selection": [StrOptions(_FEATURE_SELECTION)],
        "max_features": [None, Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [None, Integral],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        model=None,
        *,
        n_samples=5000,
        kernel_width=None,
        discretize_continuous=True,
        feature_selection="none",
        max_features=None,
        target=None,
        output="auto",
        random_state=None,
        n_jobs=None,
        verbose=0,
    ):
        super().__init__(model, target=target, output=output)
        self.n_samples = n_samples
        self.kernel_width = kernel_width
        self.discretize_continuous = discretize_continuous
        self.feature_selection = feature_selection
        self.max_features = max_features
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _fit(self, X):
        # fail at fit, with the install hint, rather than at transform
        import_optional("lime.lime_tabular", purpose="LimeExplainer")
        self.training_data_ = np.array(X, dtype=np.float64, copy=True)

    def _explain(self, X, target):
        seed = _call_seed(self.random_state)
        return _explain_rows(
            partial(self._explain_chunk, seed),
            X,
            target,
            n_jobs=self.n_jobs,
            verbose=self.verbose,
            desc=type(self).__name__,
        )

    def _lime_explainer(self):
        lime_tabular = import_optional("lime.lime_tabular", purpose="LimeExplainer")
        return lime_tabular.LimeTabularExplainer(
            self.training_data_,
            mode="regression",
            kernel_width=self.kernel_width,
            feature_selection=self.feature_selection,
            discretize_continuous=self.discretize_continuous,
            # A frame's categorical columns (integer codes): lime samples them from their
            # frequencies in the fitting rows and weighs "the row's category" as one feature.
            categorical_features=np.flatnonzero(self.codec_.categorical_).tolist() or None,
        )

    def _explain_chunk(self, seed, X, target, progress):
        # One lime explainer per chunk (its statistics of the fitting rows are computed once),
        # re-seeded before every row. Building the quartile discretizer draws no random numbers,
        # so this equals a fresh LimeTabularExplainer(random_state=seed) for each row.
        explainer = self._lime_explainer()
        n, d = X.shape
        num_features = d if self.max_features is None else self.max_features
        functions = {}
        attributions = np.zeros((n, d))
        for i in range(n):
            t = None if target is None else int(target[i])
            if t not in functions:
                functions[t] = _ScalarOutput(self.model_, t)
            # lime's explainer, its LimeBase and its discretizer share one RandomState: give
            # them all the same fresh one (lime_tabular.py and lime_base.py draw from it).
            rng = np.random.RandomState(seed)
            explainer.random_state = rng
            explainer.base.random_state = rng
            if explainer.discretizer is not None:
                explainer.discretizer.random_state = rng
            explanation = explainer.explain_instance(
                X[i], functions[t], num_features=num_features, num_samples=self.n_samples
            )
            # In regression mode lime stores the coefficients under label 1 (label 0 holds
            # their negatives, for its plots).
            for feature, weight in explanation.local_exp[1]:
                attributions[i, feature] = weight
            if progress is not None:
                progress(1)
        return attributions
