"""KernelShapExplainer: the reference ``shap`` package's KernelSHAP as a scikit-learn estimator."""

import copy
import re
import threading
from contextlib import contextmanager
from functools import partial
from numbers import Integral, Real

import numpy as np

from .._compat import Interval, StrOptions
from ..base import BaseExplainer
from ..utils import import_optional
from ._rowwise import _call_seed, _explain_rows, _ScalarOutput

__all__ = ["KernelShapExplainer"]

_NUM_FEATURES = re.compile(r"num_features\((\d+)\)")

# shap's KernelExplainer draws its coalitions from numpy's global random state. Seeding that
# state is process-wide, so the seeded sections are serialized: rows explained in threads wait
# for one another (process-based joblib backends, the default, run in parallel).
_GLOBAL_NUMPY_LOCK = threading.RLock()


@contextmanager
def _seeded_global_numpy(seed):
    """Seed numpy's global random state for the block, then restore what it was."""
    with _GLOBAL_NUMPY_LOCK:
        # Deliberately the legacy global state: it is the one shap draws from.
        state = np.random.get_state()  # noqa: NPY002
        np.random.seed(seed)  # noqa: NPY002
        try:
            yield
        finally:
            np.random.set_state(state)  # noqa: NPY002


def _check_l1_reg(l1_reg):
    """The checks of ``l1_reg`` that parameter constraints cannot express."""
    if l1_reg is True:
        raise ValueError(
            "l1_reg=True is ambiguous: pass False (no selection), 'aic', 'bic', "
            "'num_features(k)' or a positive Lasso alpha"
        )
    if isinstance(l1_reg, str) and l1_reg not in ("aic", "bic"):
        match = _NUM_FEATURES.fullmatch(l1_reg)
        if match is None or int(match.group(1)) < 1:
            raise ValueError(
                "l1_reg must be False, 'aic', 'bic', 'num_features(k)' with an integer k >= 1 "
                f"or a positive float, got {l1_reg!r}"
            )


class KernelShapExplainer(BaseExplainer):
    """Shapley values by KernelSHAP, computed by the reference ``shap`` package.

    Each row is explained by ``shap.KernelExplainer(f, background, link=link).shap_values``,
    where ``f`` is the adapter's scalar ``model_.predict(Z, target=t)``: shap evaluates ``f`` on
    coalitions of the row's features completed by the background rows and fits the weighted
    linear regression of Lundberg and Lee (2017, Theorem 2) whose solution is the Shapley value
    of the game ``v(S) = E_b[f(x_S, b_(not S))]`` over the (weighted) background. The
    attributions satisfy efficiency: they sum to ``link(f(x)) - link(E_b f(b))``.

    Parameters
    ----------
    model : object, default=None
        The model to explain: a torch module, a fitted scikit-learn estimator or a callable.
    n_samples : int or "auto", default="auto"
        Coalitions evaluated per row (shap's ``nsamples``); each costs one model evaluation per
        background row. "auto" is shap's ``2 * n_features + 2048``. shap never uses more than
        the ``2**n_features - 2`` coalitions there are: with that many, every coalition is
        enumerated and the result is the exact Shapley value.
    l1_reg : False, "aic", "bic", "num_features(k)" or float, default=False
        Feature selection before the regression, passed to shap. The default is False: every
        feature is estimated and the regression is the exact Shapley regression (with all
        coalitions enumerated it returns the exact Shapley values). shap's own default, since
        0.47, is "num_features(10)", which keeps at most 10 features with a LARS path and sets
        the others to 0 even when all coalitions are enumerated, so on wider data it returns a
        sparse approximation rather than Shapley values; ask for that explicitly if wanted.
        "aic"/"bic" select features by that criterion and a float is the alpha of a Lasso.
    n_background : int, default=100
        The size of the background (reference) set. When the fitting rows are at most this
        many they are the background, equally weighted; otherwise they are summarized by
        ``shap.kmeans(X, n_background)``: k-means centres (each coordinate snapped to the
        nearest value of the feature in X) weighted by their cluster sizes. shap recommends
        this summary for KernelSHAP; it keeps the weighted background mean equal to the k-means
        estimate of the data mean with far less variance than a random sample of the same
        size, and it is deterministic (shap fixes the k-means seed).
    link : {"identity", "logit"}, default="identity"
        The link under which attributions are additive; "logit" suits probabilities.
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
        Seeds shap's sampling of coalitions (unused when all are enumerated). shap draws from
        numpy's global random state: each row is explained with that state seeded afresh with
        the same seed, and the state is restored afterwards, so a row's attributions do not
        depend on the other rows of the batch and ``transform`` returns the same answer each
        call; with an integer the result equals ``np.random.seed(random_state)`` followed by
        shap's ``shap_values`` on that row.
    n_jobs : int or None, default=None
        Rows explained in parallel by joblib (shap explains one row per call). None means 1
        unless in a ``joblib.parallel_config`` context; -1 uses all processors. Use a process
        backend (joblib's default): with threads, seeding the global state serializes the rows.
    verbose : int, default=0
        Show a progress bar over the rows when positive.

    Attributes
    ----------
    model_ : ModelAdapter
    background_ : ndarray of shape (n_background_rows, n_features)
        The background rows.
    background_weights_ : ndarray of shape (n_background_rows,)
        Their weights, summing to 1.
    n_features_in_ : int

    See Also
    --------
    ShapleyExplainer : The same Shapley values computed natively, for all rows at once.
    TreeShapExplainer : Exact values for tree ensembles.
    LimeExplainer : The reference ``lime`` package's local linear surrogate.

    Notes
    -----
    This wrapper is the reference: shap explains one row per call (two model calls per row,
    with all of the row's coalitions in one) and draws from numpy's global random state.
    :class:`ShapleyExplainer` explains the same game faster whenever more than a few rows are
    explained: one coalition design shared by all rows, paired and size-stratified sampling
    that reaches a given error with fewer model evaluations, and no per-row Python work
    (``benchmarks/bench_shapley.py`` prints the ratios); for tree models
    :class:`TreeShapExplainer` is exact and faster still.

    References
    ----------
    Lundberg and Lee (2017), A unified approach to interpreting model predictions, Theorem 2.
    https://github.com/shap/shap

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain import KernelShapExplainer
    >>> from skexplain.functions import Linear
    >>> X = np.random.RandomState(0).normal(size=(20, 3))
    >>> explainer = KernelShapExplainer(model=Linear([2.0, 0.0, -1.0]), random_state=0)
    >>> W = explainer.fit(X).transform(X[:2])
    >>> # linear model: phi_j = coef_j * (x_j - background mean of x_j)
    >>> np.allclose(W, [2.0, 0.0, -1.0] * (X[:2] - X.mean(axis=0)))
    True
    """

    _parameter_constraints = {
        **BaseExplainer._parameter_constraints,
        "n_samples": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "l1_reg": [
            "boolean",
            StrOptions({"aic", "bic"}),
            str,
            Interval(Real, 0, None, closed="neither"),
        ],
        "n_background": [Interval(Integral, 1, None, closed="left")],
        "link": [StrOptions({"identity", "logit"})],
        "random_state": ["random_state"],
        "n_jobs": [None, Integral],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        model=None,
        *,
        n_samples="auto",
        l1_reg=False,
        n_background=100,
        link="identity",
        target=None,
        output="auto",
        random_state=None,
        n_jobs=None,
        verbose=0,
    ):
        super().__init__(model, target=target, output=output)
        self.n_samples = n_samples
        self.l1_reg = l1_reg
        self.n_background = n_background
        self.link = link
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _fit(self, X):
        _check_l1_reg(self.l1_reg)
        shap = import_optional("shap", purpose="KernelShapExplainer")
        if X.shape[0] <= self.n_background:
            self.background_ = np.array(X, dtype=np.float64, copy=True)
            self.background_weights_ = np.full(X.shape[0], 1.0 / X.shape[0])
            self._shap_background = None
        else:
            # no more clusters than distinct rows: shap.kmeans would leave some empty and fail
            # on its own weights ("# of weights must match data matrix!")
            n_clusters = min(self.n_background, np.unique(X, axis=0).shape[0])
            summary = shap.kmeans(X, n_clusters)
            self.background_ = np.asarray(summary.data, dtype=np.float64)
            self.background_weights_ = np.asarray(summary.weights, dtype=np.float64)
            self._shap_background = summary

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

    def _background_data(self):
        """The background as shap takes it, on fresh writable arrays.

        shap's compiled code refuses read-only buffers, which is what a fitted explainer loaded
        by joblib with memory mapping holds.
        """
        if self._shap_background is None:  # the fitting rows themselves, equally weighted
            return np.array(self.background_)
        # shap.kmeans's weighted summary: KernelExplainer reads its `data` and `weights`
        summary = copy.copy(self._shap_background)
        summary.data = np.array(self.background_)
        summary.weights = np.array(self.background_weights_)
        return summary

    def _explain_chunk(self, seed, X, target, progress):
        shap = import_optional("shap", purpose="KernelShapExplainer")
        n, d = X.shape
        explainers = {}  # one per target: shap computes E_b f(b) for that output at construction
        attributions = np.empty((n, d))
        for i in range(n):
            t = None if target is None else int(target[i])
            if t not in explainers:
                function = _ScalarOutput(self.model_, t)
                if self.link == "logit":
                    function = _Probability(function)
                explainers[t] = shap.KernelExplainer(
                    function, self._background_data(), link=self.link
                )
            with _seeded_global_numpy(seed):
                values = explainers[t].shap_values(
                    X[i : i + 1], nsamples=self.n_samples, l1_reg=self.l1_reg, silent=True
                )
            attributions[i] = np.asarray(values, dtype=np.float64).reshape(d)
            if progress is not None:
                progress(1)
        return attributions


class _Probability:
    """The explained output, refused unless it lies in (0, 1): the logit link needs that."""

    def __init__(self, function):
        self.function = function

    def __call__(self, Z):
        values = self.function(Z)
        if values.size and not (values.min() > 0 and values.max() < 1):
            raise ValueError(
                "link='logit' needs the explained output to be a probability in (0, 1); the "
                f"model returned values in [{values.min():.6g}, {values.max():.6g}]: use "
                "link='identity', or explain a probability (output='probability')"
            )
        return values
