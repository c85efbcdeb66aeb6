"""ShapleyExplainer: Shapley values of the interventional game, for any model, on shared designs."""

import contextvars
from numbers import Integral

import numpy as np

from .. import _engine
from .._compat import Interval, StrOptions
from .._masking import pair_values
from ..base import BaseExplainer
from ..models import ModelAdapter, as_model
from ..utils import check_background, fresh_random_state, is_frame, sample_background
from ._coalitions import exact_design, kernel_design, permutation_design

__all__ = ["ShapleyExplainer"]

# Largest number of players the exact method enumerates (2**20 coalitions per row).
MAX_EXACT_PLAYERS = 20
# Set by ``transform(X, return_std=True)`` for the one call it makes: where _explain leaves the
# standard errors (a context variable, so concurrent calls in threads do not mix them).
_STD_SINK = contextvars.ContextVar("shapley_std_sink", default=None)


def auto_n_samples(n_features):
    """Coalitions per row for ``n_samples="auto"``: ``2 d + 2048`` (shap's KernelExplainer)."""
    return 2 * n_features + 2048


def _coalitions_per_query(K, n_pairs, batch_size):
    """Coalitions evaluated together at every pair: the values of a block stay within
    ``SHAPLEY_VALUES_PER_BLOCK``, and a whole number of pairs fills a model call of about
    ``batch_size`` rows (2,108 coalitions in calls of 8,192 rows would leave 3 pairs, 6,324
    rows, per call; 2,048 and 60 fill them)."""
    limit = max(1, min(K, batch_size, _engine.SHAPLEY_VALUES_PER_BLOCK // max(1, n_pairs)))
    if 8 * (batch_size // limit) * limit >= 7 * batch_size:  # calls at least 7/8 full
        return limit
    return batch_size // -(-batch_size // limit)


def _pairs(n, m):
    """Row and background row of every pair ``p = i * m + b``: ``(rows, backgrounds)``."""
    return np.repeat(np.arange(n), m), np.tile(np.arange(m), n)


class ShapleyExplainer(BaseExplainer):
    """Shapley values of the interventional game, for any model, from one shared design.

    The players are the columns. The value of a coalition S at a row x is the model's mean
    output when the columns in S keep the row's values and the others take a background row's:
    ``v(S) = sum_b w_b f(x_S, b_(not S))`` (the interventional, or baseline-Shapley, game;
    Janzing et al. 2020, Sundararajan & Najmi 2020). The attributions are its Shapley values;
    they sum to ``f(x) - E_b f(b)`` (efficiency) for every method.

    One design of coalitions is drawn at ``fit`` from ``random_state`` and shared by every row
    (common random numbers): the estimator is linear in the coalition values and is factorized
    once, so a row's attributions do not depend on the other rows, their order, ``batch_size`` or
    ``n_jobs``, and ``transform`` is deterministic. The sampled "kernel" design is relabelled at
    random for each background row: every background row's game ``f(x_S, b_(not S))`` is
    estimated from its own coalitions (one factorization serves all, the regression being
    symmetric in the players), so the sampling errors of the background rows average out
    instead of repeating. The model is queried through the adapter in chunks of ``batch_size``
    evaluations (rows x background x coalitions), on the model's device for torch modules;
    composite rows that repeat (where a row and a background row agree on a column, as
    categorical and discrete columns often do) are evaluated once. Numpy's global random state
    is never used.

    Parameters
    ----------
    model : object, default=None
        The model to explain: a torch module, a fitted scikit-learn estimator or a callable.
    background : array-like of shape (n_background_rows, n_features) or None, default=None
        The background rows, equally weighted. None draws ``n_background`` of the fitting rows
        without replacement (all of them when there are fewer).
    n_background : int, default=100
        Background rows drawn from the fitting rows when ``background`` is None.
    method : {"auto", "exact", "kernel", "permutation"}, default="auto"
        "exact" evaluates all ``2**d`` coalitions (at most 20 players) and applies Shapley's
        formula. "kernel" solves the KernelSHAP regression with the efficiency constraint
        (Lundberg & Lee 2017) on a paired, size-stratified sample of coalitions drawn without
        replacement; a budget of ``2**d - 2`` coalitions enumerates them all and gives the exact
        values. "permutation" averages marginal contributions over antithetic pairs of random
        permutations (Mitchell et al. 2022). "auto" is "exact" when ``2**d - 2`` coalitions fit
        in ``n_samples``, else "kernel".
    n_samples : int or "auto", default="auto"
        Coalitions evaluated per row by the sampled methods (each costs one model evaluation per
        background row): "auto" is ``2 * n_features + 2048``, shap's default budget.
    sampling : {"leverage", "kernel"}, default="leverage"
        How the "kernel" method shares its budget between coalition sizes. Both enumerate the
        sizes the budget covers and weight the drawn coalitions so that every size keeps its
        exact Shapley-kernel mass. "leverage" gives every remaining size the same number of
        coalitions (they are proportional to the regression's leverage scores; Musco & Witter
        2025), "kernel" shares in proportion to the Shapley kernel (as optimized KernelSHAP).
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
        Seeds the background sample and the design, both drawn once at ``fit``.
    batch_size : int or None, default=None
        Model evaluations per query chunk; None uses the adapter's default (32768 on an
        accelerator) and on the CPU calls sized by its last-level cache (one input per 128
        bytes of it, ``2**20`` inputs where its size is unknown; from 8192 to 32768 rows): on a
        narrow table larger calls spare the model's per-call cost, as long as the model's
        intermediates stay in the cache.
    n_jobs : int or None, default=None
        Blocks of rows explained in parallel by joblib (blocks of about 4 million coalition
        values, rows x background rows x coalitions, and at least one block per worker). None
        means 1 unless in a ``joblib.parallel_config`` context.
    verbose : int, default=0
        Show a progress bar over the blocks of rows when positive.

    Attributes
    ----------
    model_ : ModelAdapter
    background_ : ndarray of shape (n_background_rows, n_features)
    background_weights_ : ndarray of shape (n_background_rows,)
    expected_value_ : ndarray of shape (n_outputs,)
        The base value ``E_b f(b)`` of every output; the attributions of a row explained for
        output t sum to ``f_t(x) - expected_value_[t]``.
    method_ : str
        The method used ("auto" resolved).
    n_coalitions_ : int
        Coalitions evaluated per row and background row (the "kernel" design's coalitions are
        relabelled for each background row).
    n_features_in_ : int

    See Also
    --------
    KernelShapExplainer : The reference ``shap`` package's KernelSHAP, one row per call.
    TreeShapExplainer : Exact TreeSHAP for tree ensembles, much faster on those models.

    References
    ----------
    Shapley (1953); Lundberg & Lee (2017), Theorem 2; Covert & Lee (2021), paired sampling;
    Mitchell et al. (2022), antithetic permutations; Musco & Witter (2025), "Provably accurate
    Shapley value estimation via leverage score sampling", ICLR.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain import ShapleyExplainer
    >>> X = np.random.default_rng(0).normal(size=(50, 3))
    >>> f = lambda X: X[:, 0] * X[:, 1] + X[:, 2]
    >>> explainer = ShapleyExplainer(model=f, random_state=0).fit(X)
    >>> phi = explainer.transform(X[:2])
    >>> np.allclose(phi.sum(axis=1), f(X[:2]) - explainer.expected_value_[0])
    True
    """

    _parameter_constraints = {
        **BaseExplainer._parameter_constraints,
        "background": [None, "array-like"],
        "n_background": [Interval(Integral, 1, None, closed="left")],
        "method": [StrOptions({"auto", "exact", "kernel", "permutation"})],
        "n_samples": [StrOptions({"auto"}), Interval(Integral, 2, None, closed="left")],
        "sampling": [StrOptions({"leverage", "kernel"})],
        "random_state": ["random_state"],
        "batch_size": [None, Interval(Integral, 1, None, closed="left")],
        "n_jobs": [None, Integral],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        model=None,
        *,
        background=None,
        n_background=100,
        method="auto",
        n_samples="auto",
        sampling="leverage",
        target=None,
        output="auto",
        random_state=None,
        batch_size=None,
        n_jobs=None,
        verbose=0,
    ):
        super().__init__(model, target=target, output=output)
        self.background = background
        self.n_background = n_background
        self.method = method
        self.n_samples = n_samples
        self.sampling = sampling
        self.random_state = random_state
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _rows_with_categories(self):
        # a background frame may hold categories the explained rows lack (one island's
        # penguins against all islands'): the codec learns them at fit
        return self.background if is_frame(self.background) else None

    def _fit(self, X):
        d = X.shape[1]
        batch_size = self.batch_size
        default = _engine.DEFAULT_BATCH_SIZE  # the CPU's (an accelerator's is larger)
        adapted = isinstance(self._model_to_fit(), ModelAdapter)  # its batch_size is its own
        if batch_size is None and not adapted and self.model_.batch_size == default:
            # larger calls on a narrow table, sized by the CPU's last-level cache
            batch_size = _engine.shapley_query_rows(d)
            if batch_size == default:
                batch_size = None
        if self.output is not None or batch_size is not None:
            adapter = as_model(self._model_to_fit(), output=self.output, batch_size=batch_size)
            self.model_ = adapter.with_codec(self.codec_)
        rng = fresh_random_state(self.random_state)
        if self.background is None:
            self.background_ = sample_background(X, self.n_background, rng)
        else:  # a frame's raw columns as codes
            self.background_ = check_background(self.background, d, self.codec_)
        m = self.background_.shape[0]
        self.background_weights_ = np.full(m, 1.0 / m)
        self._background_outputs = self.model_.predict_all(self.background_)  # f(b), (m, k)
        self.expected_value_ = self.background_weights_ @ self._background_outputs
        budget = auto_n_samples(d) if self.n_samples == "auto" else self.n_samples
        method = self.method
        if method == "auto":
            method = "exact" if 2**d - 2 <= budget else "kernel"
        if method == "exact":
            if d > MAX_EXACT_PLAYERS:
                raise ValueError(
                    f"method='exact' evaluates 2**d coalitions and allows at most "
                    f"{MAX_EXACT_PLAYERS} features, got {d}: use method='kernel'"
                )
            design = exact_design(d)
        elif d == 1:  # one player: its value is all of f(x) - v(empty)
            design = exact_design(1)
        elif method == "kernel":
            design = kernel_design(d, budget, rng, allocation=self.sampling, n_relabel=m)
        else:
            design = permutation_design(d, budget, rng, n_relabel=m)
        self.method_ = method
        self._design = design
        self.n_coalitions_ = design.masks.shape[0]

    def transform(self, X, return_std=False):
        """Explain every row of X, optionally with per-feature standard errors.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to explain.
        return_std : bool, default=False
            Also return the standard error of every attribution: a delete-a-group jackknife
            over the drawn coalitions ("kernel") or the spread over antithetic pairs
            ("permutation"); zeros where the values are exact.

        Returns
        -------
        attributions : ndarray of shape (n_samples, n_features)
            The Shapley values.
        std : ndarray of shape (n_samples, n_features)
            Their standard errors, only when ``return_std`` is True.
        """
        if not return_std:
            return super().transform(X)
        sink = []
        token = _STD_SINK.set(sink)
        try:
            attributions = super().transform(X)
        finally:
            _STD_SINK.reset(token)
        return attributions, sink[0]

    def _explain(self, X, target):
        n, d = X.shape
        with_std = _STD_SINK.get() is not None

        def compute(rows):
            phi, std = self._explain_block(
                X[rows], None if target is None else target[rows], with_std
            )
            return phi if std is None else np.concatenate([phi, std], axis=1)

        # Blocks of rows whose coalition values (rows x background x coalitions) fit
        # SHAPLEY_VALUES_PER_BLOCK; n_jobs spreads them (base class), at least one per worker.
        per_row = max(1, self.n_coalitions_ * self.background_.shape[0])
        budget = _engine.SHAPLEY_VALUES_PER_BLOCK
        workers = _engine.parallel_workers()
        if workers > 1:
            budget = min(budget, per_row * -(-n // workers))
        out = _engine.map_row_chunks(
            n,
            compute,
            per_row=per_row,
            budget=budget,
            empty_shape=(0, 2 * d if with_std else d),
        )
        if with_std:
            _STD_SINK.get().append(out[:, d:])
            return out[:, :d]
        return out

    def _explain_block(self, X, target, with_std):
        """Attributions ``(n, d)`` (and standard errors) of a block of rows.

        Each (row, background row) pair is a game of its own, ``g_b(S) = f(x_S, b_(not S))``,
        whose estimate is linear in its values (the design's ``coef``, ``c0``, ``cN``);
        the attributions are their weighted sum over the background rows, which for a design
        shared by all background rows is the estimate of the averaged game ``v``.
        """
        design, background = self._design, self.background_
        n, d = X.shape
        m, K = background.shape[0], design.masks.shape[0]
        rows, backgrounds = _pairs(n, m)
        f_x = self.model_.predict(X, target)[rows]
        outputs = self._background_outputs
        f_b = outputs[backgrounds, 0 if target is None else target[rows]]
        estimate = np.outer(f_b, design.c0) + np.outer(f_x, design.cN)  # (n m, d)
        replicates = None
        if with_std and design.replicates is not None:
            replicates = np.outer(f_b, design.r0) + np.outer(f_x, design.rN)  # (n m, G d)
        step = _coalitions_per_query(K, n * m, self.model_.batch_size)
        buffer = np.empty(n * m * min(K, step))  # the values of each slice of coalitions
        for start in range(0, K, step):
            kb = slice(start, min(K, start + step))
            values = pair_values(
                self.model_,
                X,
                target,
                design.masks[kb],
                background,
                design.relabel,
                out=buffer[: n * m * (kb.stop - start)].reshape(n * m, -1),
            )
            estimate += values @ design.coef[:, kb].T
            if replicates is not None:
                replicates += np.asarray(design.replicates[:, kb] @ values.T).T
        weights = self.background_weights_[backgrounds][:, None]
        phi = (self._in_columns(estimate, backgrounds) * weights).reshape(n, m, d).sum(axis=1)
        if not with_std:
            return phi, None
        if replicates is None:  # exact values
            return phi, np.zeros((n, d))
        G = design.n_groups
        reps = self._in_columns(replicates.reshape(n * m * G, d), np.repeat(backgrounds, G))
        reps = (reps.reshape(n * m, G * d) * weights).reshape(n, m, G, d).sum(axis=1)
        spread = ((reps - reps.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
        return phi, np.sqrt(design.se_scale * spread)

    def _in_columns(self, values, backgrounds):
        """Per-pair values of the design's players ``(P, d)`` as values of the columns."""
        relabel = self._design.relabel
        if relabel is None:
            return values
        return np.take_along_axis(values, relabel[backgrounds], axis=1)
