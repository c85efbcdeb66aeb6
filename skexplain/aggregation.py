"""AggregatingExplainer: optimized convex aggregation of explanations (Decker et al. 2024)."""

import inspect
import numbers
from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ._compat import BaseComposition, Interval, StrOptions
from ._simplex_qp import solve_simplex_qp
from .base import BaseExplainer, clone_keeping_model, fit_clone, without_model_params
from .metrics import ExplanationScorer, get_metric, get_metric_names
from .models import as_model
from .perturbations import SubsetBaseline

__all__ = [
    "AggregatingExplainer",
    "AttributionAggregator",
    "ExplainerUnion",
    "decker_settings",
    "normalize_attributions",
]

# The metrics each preset strategy minimizes (the sum, each form normalized, for "opt").
_PRESETS = {
    "robust": ("avg_sensitivity",),
    "faith": ("infidelity",),
    "opt": ("infidelity", "avg_sensitivity"),
}
# The keyword arguments of a metric that the aggregator sets itself when it builds the form.
_OWN_ARGUMENTS = ("random_state", "target", "return_quadratic", "postprocess", "per_sample")
# ... and those of a scorer that it leaves out (the scorer's evaluation draws are not the fit's).
_SCORER_ONLY = ("random_state", "n_samples", "target")
# The metric samples of each form when ``n_samples`` is None: Decker et al.'s released AGG_faith
# and AGG_robust defaults (100 infidelity draws, 50 sensitivity draws; the paper's m_agg is 50).
# Infidelity's form needs model queries only, so its draws are cheap, and the weights' estimation
# error (Theorem 4.3: O(1/sqrt(m))) is of the order of their gain over the best member at 50.
_FORM_SAMPLES = {"infidelity": 100, "avg_sensitivity": 50}
# The epsilon of "var" when none is given: the released code's constant on the variance, a
# small number on the paper's standard deviation.
_VAR_EPSILON = {"shrunk": 0.226, "released": 0.226, "paper": 1e-8}


def normalize_attributions(A, method="maxabs"):
    """Make attributions comparable across explainers, row by row (last axis: features).

    ``"maxabs"``: divided by the row's largest absolute value, signs kept (values in
    ``[-1, 1]``; scikit-learn's ``MaxAbsScaler``, per row). ``"abs_maxabs"``: the absolute
    value divided by the row's largest (values in ``[0, 1]``): Decker et al.'s normalization
    (2024, Appendix C.2), which drops every sign, so that a feature that pushes the output down
    looks like one that pushes it up. None: unchanged. A zero row stays zero.

    Parameters
    ----------
    A : ndarray of shape (..., n_features)
        Attributions, features on the last axis.
    method : {"maxabs", "abs_maxabs"} or None, default="maxabs"
        The normalization.

    Returns
    -------
    ndarray of shape (..., n_features)
        The normalized attributions.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.aggregation import normalize_attributions
    >>> normalize_attributions(np.array([[2.0, -4.0]]))
    array([[ 0.5, -1. ]])
    >>> normalize_attributions(np.array([[2.0, -4.0]]), "abs_maxabs")
    array([[0.5, 1. ]])
    """
    if method is None:
        return A
    if method not in ("maxabs", "abs_maxabs"):
        raise ValueError(f"normalize must be 'maxabs', 'abs_maxabs' or None, got {method!r}")
    top = np.abs(A).max(axis=-1, keepdims=True)
    top = np.where(top > 0, top, 1.0)
    return (np.abs(A) if method == "abs_maxabs" else A) / top


def decker_settings(*, released=False):
    """The keyword arguments that give :class:`AggregatingExplainer` Decker et al.'s settings.

    The defaults of the aggregator optimize what :mod:`skexplain.metrics` scores at its own
    defaults, on the members' own scale. The paper (Decker et al. 2024, section 5 and
    Appendix C) instead normalizes the members to ``[0, 1]`` (absolute value divided by the
    row's largest), estimates every quadratic form from ``m_agg = 50`` metric samples
    (``n_samples``), measures infidelity by setting 20% of the features to the baseline 0 with
    the binary ``I`` and Yeh et al.'s optimal scale, average sensitivity with
    ``eps ~ U[-0.1, 0.1]^d``, divides the mean by the standard deviation plus a small constant
    in AGG_var and divides each quadratic form of AGG_opt by its Frobenius norm. With
    ``released=True`` the settings follow the authors' released code (thomdeck/aggopt) where it
    differs: AGG_var divides by the variance (``ddof=1``) plus 0.226, and AGG_opt, with its
    defaults (``AGGopt_explainer``: 64 infidelity draws summed in 16 batches of 4, 20
    sensitivity draws), divides each form by the Frobenius norm of its batches' matrices
    stacked. Two details of the released code stay out: AGGopt's default share of removed
    features is 0.25 (the paper's text, and AGGfaith's default, 0.2), and its optimal scale
    ``beta`` is computed per position within a batch.

    Parameters
    ----------
    released : bool, default=False
        Follow the released code where it differs from the paper's text.

    Returns
    -------
    dict
        ``normalize``, ``n_samples``, ``var_form``, ``form_normalization``,
        ``stacked_batches`` and ``metric_params``; the sensitivity radius is in the metric's
        default units (each feature's standard deviation: the paper's ``U[-0.1, 0.1]`` on
        standardized features).

    Examples
    --------
    >>> from skexplain.aggregation import decker_settings
    >>> settings = decker_settings()
    >>> settings["normalize"], settings["var_form"], settings["form_normalization"]
    ('abs_maxabs', 'paper', 'mean')
    >>> settings["n_samples"]
    50
    >>> settings["metric_params"]["infidelity"]
    {'perturbation': SubsetBaseline(baseline=0.0, fraction=0.2), 'binary_masks': True, \
'normalize': True}
    """
    settings = {
        "normalize": "abs_maxabs",
        "n_samples": 50,
        "var_form": "paper",
        "form_normalization": "mean",
        "stacked_batches": None,
        "metric_params": {
            "infidelity": {
                "perturbation": SubsetBaseline(baseline=0.0, fraction=0.2),
                "binary_masks": True,
                "normalize": True,
            },
            "avg_sensitivity": {"radius": 0.1},
        },
    }
    if released:
        settings.update(
            var_form="released", form_normalization="stacked", stacked_batches={"infidelity": 16}
        )
        settings["metric_params"]["infidelity"]["n_samples"] = 64
        settings["metric_params"]["avg_sensitivity"]["n_samples"] = 20
    return settings


def _check_named_explainers(members, owner):
    """Validate a list of (name, explainer) members as ``owner``'s (names unique, no "__")."""
    if not isinstance(members, list) or not members:
        raise ValueError("explainers must be a non-empty list of (name, explainer) tuples")
    for member in members:
        if not (isinstance(member, tuple) and len(member) == 2 and isinstance(member[0], str)):
            raise TypeError(f"explainers must be (name, explainer) tuples, got {member!r}")
        name, explainer = member
        if not isinstance(explainer, BaseExplainer):
            raise TypeError(
                f"member {name!r} must be a skexplain explainer, got {type(explainer).__name__}"
            )
    owner._validate_names([name for name, _ in members])
    return members


def _explain_member(explainer, X, target):
    """A fitted member's attributions of X for ``target``, unless it has a target of its own."""
    if explainer.target is not None:
        target = explainer.model_.resolve_target(X, explainer.target)
    return np.asarray(explainer._explain_raw_columns(X, target), dtype=np.float64)


def _check_metric_options(spec, options, where):
    """The keyword arguments ``options`` of metric ``spec``, checked against its signature."""
    if not isinstance(options, dict):
        raise TypeError(f"{where} must be a dict of keyword arguments, got {options!r}")
    reserved = sorted(set(options) & set(_OWN_ARGUMENTS))
    if reserved:
        raise ValueError(f"{where} must not set {reserved}: the aggregator sets them")
    accepted = inspect.signature(spec.function).parameters
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(f"{where}: {spec.name} has no parameters {unknown}")
    return options


_STRATEGY_CONSTRAINTS = {
    "strategy": [StrOptions({"opt", "robust", "faith", "mean", "var"}), dict, "array-like"],
    "normalize": [StrOptions({"maxabs", "abs_maxabs"}), None],
    "n_samples": [Interval(Integral, 1, None, closed="left"), None],
    "metric_params": [dict, None],
    "form_normalization": [StrOptions({"mean", "stacked"}), None],
    "stacked_batches": [dict, None],
    "var_form": [StrOptions({"shrunk", "released", "paper"})],
    # 0 divides by a zero spread wherever the members agree: NaN and inf
    "epsilon": [Interval(Real, 0, None, closed="neither"), None],
    "random_state": ["random_state"],
}


class _Aggregation:
    """The strategies shared by the meta-estimator and the pipeline forms of aggregation.

    Subclasses hold the parameters of ``_STRATEGY_CONSTRAINTS``, ``model_`` once fitted, and
    call ``_aggregate(rows, members, target, explainers)`` with the members' attributions
    ``(n, k, d)`` (the fitted members themselves, or None in the pipeline form).
    """

    def __sklearn_clone__(self):
        # the model by reference: sklearn's clone would unfit a fitted model (GridSearchCV)
        return clone_keeping_model(self)

    def _forms(self):
        """The strategy as ``(metric spec, coefficient, keyword arguments)`` per quadratic form.

        None for the strategies without one (fixed, uniform or ``"var"``). The keyword
        arguments are ``metric_params``'s for the metric, updated by a scorer's own.
        """
        strategy = self.strategy
        if isinstance(strategy, str):
            if strategy not in _PRESETS:
                return None
            items = [(name, 1.0) for name in _PRESETS[strategy]]
        elif isinstance(strategy, dict):
            items = list(strategy.items())
        else:
            return None
        params = self.metric_params or {}
        forms = []
        for key, coefficient in items:
            if isinstance(key, ExplanationScorer):
                spec = key._spec()
                own = {k: v for k, v in key.kwargs.items() if k not in _SCORER_ONLY}
                options = {**params.get(spec.name, {}), **own}
            else:
                spec = get_metric(key)
                options = params.get(spec.name, {})
            forms.append((spec, coefficient, options))
        return forms

    def _check_strategy(self, k):
        quadratic = get_metric_names(quadratic=True)
        for name, batches in (self.stacked_batches or {}).items():
            if name not in quadratic:
                raise ValueError(
                    f"stacked_batches keys must be generalized L2 metrics {tuple(quadratic)}, "
                    f"got {name!r}"
                )
            if not isinstance(batches, numbers.Integral) or isinstance(batches, bool):
                raise TypeError(f"stacked_batches[{name!r}] must be an int, got {batches!r}")
            if batches < 1:
                raise ValueError(f"stacked_batches[{name!r}] must be positive, got {batches}")
        for name, options in (self.metric_params or {}).items():
            if name not in quadratic:
                raise ValueError(
                    f"metric_params keys must be generalized L2 metrics {tuple(quadratic)}, "
                    f"got {name!r}"
                )
            _check_metric_options(get_metric(name), options, f"metric_params[{name!r}]")
        strategy = self.strategy
        if isinstance(strategy, str):
            return
        if isinstance(strategy, dict):
            names = [
                key._spec().name if isinstance(key, ExplanationScorer) else key for key in strategy
            ]
            if not strategy or not all(isinstance(name, str) for name in names):
                raise ValueError(
                    f"a strategy dict weighs generalized L2 metrics {tuple(quadratic)} (names or "
                    f"their scorers), got keys {list(strategy)!r}"
                )
            if set(names) - set(quadratic):
                raise ValueError(
                    f"a strategy dict weighs generalized L2 metrics {tuple(quadratic)} (names or "
                    f"their scorers), got keys {sorted(names)}"
                )
            for key, coefficient in strategy.items():
                name = key._spec().name if isinstance(key, ExplanationScorer) else key
                valid = isinstance(coefficient, numbers.Real) and not isinstance(coefficient, bool)
                if not valid or not 0 <= coefficient < np.inf:
                    raise ValueError(
                        f"strategy weight of {name!r} must be a non-negative finite number, "
                        f"got {coefficient!r}"
                    )
                if isinstance(key, ExplanationScorer):
                    own = {k: v for k, v in key.kwargs.items() if k not in _SCORER_ONLY}
                    _check_metric_options(key._spec(), own, f"the scorer {key!r}")
            if not any(coefficient > 0 for coefficient in strategy.values()):
                raise ValueError(
                    f"a strategy dict needs at least one positive weight, got {strategy!r}"
                )
            return
        weights = np.asarray(strategy, dtype=np.float64)
        if weights.shape != (k,):
            raise ValueError(
                f"fixed strategy weights must have shape ({k},), one per explainer, got "
                f"shape {weights.shape}"
            )
        if not np.all(np.isfinite(weights) & (weights >= 0)) or not np.isclose(weights.sum(), 1):
            raise ValueError("fixed strategy weights must be non-negative and sum to one")

    def _quadratic_form(self, X, members, forms, target, explainers):
        """The weighted sum of the metrics' quadratic forms, each normalized as asked."""
        names = get_metric_names(quadratic=True)
        # one seed per registered metric: a metric gets the same draws in every strategy
        seeds = check_random_state(self.random_state).randint(
            np.iinfo(np.int32).max, size=len(names)
        )
        postprocess = None
        if self.normalize is not None:
            postprocess = partial(normalize_attributions, method=self.normalize)
        stacked = self.form_normalization == "stacked"
        total = 0.0
        for spec, coefficient, options in forms:
            if coefficient == 0:
                continue
            Q = spec.quadratic_form(
                self.model_,
                explainers,
                X,
                members,
                target=target,
                random_state=int(seeds[names.index(spec.name)]),
                postprocess=postprocess,
                per_sample=stacked,
                **{"n_samples": self._form_samples(spec.name), **options},
            )
            if stacked:
                if Q.ndim != 4:
                    raise ValueError(
                        "form_normalization='stacked' needs the matrices of every draw; the "
                        f"quadratic form of {spec.name!r} returned shape {Q.shape}"
                    )
                Q = self._batched(Q, spec.name)
                # Decker et al.'s released code: the Frobenius norm of the (batches') matrices
                # stacked, one number per row, dividing their mean
                norm = np.sqrt(np.einsum("nmij,nmij->n", Q, Q))
                Q = Q.mean(axis=1)
            elif self.form_normalization == "mean":
                norm = np.linalg.norm(Q, axis=(1, 2))  # the paper's ||Gamma^T Gamma||_F
            else:
                norm = np.ones(Q.shape[0])
            total = total + coefficient * Q / np.where(norm > 0, norm, 1.0)[:, None, None]
        return total

    def _form_samples(self, name):
        """The metric samples of ``name``'s form: ``n_samples``, or the metric's own default."""
        return _FORM_SAMPLES.get(name, 50) if self.n_samples is None else self.n_samples

    def _batched(self, Q, name):
        """The draws' matrices ``(n, m, k, k)`` summed in ``stacked_batches[name]`` batches."""
        batches = (self.stacked_batches or {}).get(name)
        if batches is None:
            return Q
        n, m, k, _ = Q.shape
        if m % batches:
            raise ValueError(
                f"stacked_batches[{name!r}] = {batches} must divide the {m} draws of {name}"
            )
        return Q.reshape(n, batches, m // batches, k, k).sum(axis=2)

    def _weights(self, X, members, target, explainers):
        k = members.shape[1]
        forms = self._forms()
        if forms is not None:
            return solve_simplex_qp(self._quadratic_form(X, members, forms, target, explainers))
        if isinstance(self.strategy, str):  # "mean" and "var"
            return np.full((X.shape[0], k), 1.0 / k)
        return np.tile(np.asarray(self.strategy, dtype=np.float64), (X.shape[0], 1))

    def _var(self, members):
        """AGG_var of the (normalized) members ``(n, k, d)``: see ``var_form``."""
        k = members.shape[1]
        epsilon = _VAR_EPSILON[self.var_form] if self.epsilon is None else self.epsilon
        mean = members.mean(axis=1)
        if self.var_form == "paper":  # Decker et al. eq. 2: sigma + epsilon
            return mean / (members.std(axis=1) + epsilon)
        variance = members.var(axis=1, ddof=1 if k > 1 else 0)  # the released code's ddof
        if self.var_form == "released":
            return mean / (variance + epsilon)
        # "shrunk": epsilon * s^2 / (variance + epsilon * s^2) times the mean, s the row's
        # largest attribution: the released form rescaled so that it is the mean where the
        # members agree, and the same whatever the members' units
        floor = epsilon * np.abs(members).max(axis=(1, 2)) ** 2
        return mean / (1.0 + variance / np.where(floor > 0, floor, 1.0)[:, None])

    def _aggregate(self, X, members, target, explainers):
        members = normalize_attributions(members, self.normalize)
        if isinstance(self.strategy, str) and self.strategy == "var":
            return self._var(members)
        weights = self._weights(X, members, target, explainers)
        return np.einsum("nk,nkd->nd", weights, members)


class _NamedExplainers(BaseComposition):
    """Named members as ``StackingClassifier`` holds them: nested parameters ``name__param``.

    The members' ``model`` parameters stay opaque (``without_model_params``) and a clone keeps
    the model by reference, as :class:`~skexplain.base.BaseExplainer` does.
    """

    def __sklearn_clone__(self):
        # sklearn's clone would unfit a fitted model (GridSearchCV) or deep-copy a torch module
        return clone_keeping_model(self)

    def get_params(self, deep=True):
        """Get the parameters, with the members' nested ones as ``name__param``.

        Parameters
        ----------
        deep : bool, default=True
            Also return the members and their parameters (``model`` stays opaque).

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        return without_model_params(self._get_params("explainers", deep=deep))

    def set_params(self, **params):
        """Set parameters, the members' included (``sg__noise_scale``, or a member by name).

        Parameters
        ----------
        **params : dict
            Parameter names mapped to their new values.

        Returns
        -------
        self : object
            The estimator.
        """
        self._set_params("explainers", **params)
        return self


class AggregatingExplainer(_Aggregation, _NamedExplainers, BaseExplainer):
    """Combine several explainers with per-row convex weights chosen by explanation metrics.

    For each row, the aggregate is ``sum_i w_i phi_i`` with ``w`` on the simplex minimizing a
    generalized L2 metric of the aggregate, ``w^T Q w`` (Decker et al. 2024, eq. 6), where ``Q``
    is the metric's quadratic form estimated from ``n_samples`` metric samples. By Theorem 4.2
    the aggregate's metric is never worse than the weighted average of its members' metrics on
    those samples, and so never worse than its best member there.

    By default the forms are those of :func:`skexplain.metrics.infidelity` and
    :func:`skexplain.metrics.avg_sensitivity` at the functions' own defaults (gaussian noise
    with ``I = x - x~`` and no rescaling; uniform noise in the L-infinity ball of radius 0.1),
    built from the members as they are (``normalize=None``): the aggregate is a convex
    combination of the members' own attributions, in their units, and its score with those
    metrics, called as a user calls them, is the minimized objective. Decker et al.'s settings
    are :func:`decker_settings`.

    Parameters
    ----------
    explainers : list of (str, explainer) tuples
        The members, named as in ``StackingClassifier``; nested parameters such as
        ``sg__noise_scale`` are tunable. Members without a model use ``model``. The pipeline
        form of the same aggregation is an :class:`ExplainerUnion` followed by an
        :class:`AttributionAggregator`.
    model : object, default=None
        The model to explain (see :func:`skexplain.models.as_model`); None takes the first
        member's.
    strategy : {"opt", "robust", "faith", "mean", "var"}, dict or array-like, default="opt"
        ``"robust"``: minimize average sensitivity (SENS_AVG); ``"faith"``: minimize infidelity;
        ``"opt"``: both, each quadratic form normalized (``form_normalization``); ``"mean"``:
        the average; ``"var"``: the average damped where the members disagree (``var_form``;
        Decker et al.'s AGG_var). A dict weighs metrics as the user chooses,
        ``{"infidelity": a, "avg_sensitivity": b}``: its keys are metrics of
        :func:`skexplain.metrics.get_metric_names` with ``quadratic=True``, or scorers of them
        (:func:`~skexplain.metrics.make_explanation_scorer`), whose keyword arguments are then
        the metric's, all but ``random_state``, ``n_samples`` and ``target`` (the aggregator's
        own). An array of ``k`` non-negative weights summing to one is a fixed combination.
    normalize : {"maxabs", "abs_maxabs"} or None, default=None
        How the members' attributions are made comparable before they are combined (see
        :func:`normalize_attributions`): None combines them as they are, so the aggregate has
        their units and scale; ``"maxabs"`` divides each member's row by its largest absolute
        value, keeping signs, for members on different scales (the aggregate then has largest
        value at most 1, so score it with scale-free metrics such as infidelity with
        ``normalize=True``); ``"abs_maxabs"`` also takes absolute values, as Decker et al. do
        (every sign is lost).
    n_samples : int or None, default=None
        Metric samples for the quadratic forms (the paper's ``m_agg``), unless ``metric_params``
        sets a metric's own; evaluate the result on fresh samples with :mod:`skexplain.metrics`.
        None means 100 for infidelity and 50 for average sensitivity, the defaults of Decker et
        al.'s released AGG_faith and AGG_robust (the paper's ``m_agg`` is 50 for both:
        :func:`decker_settings`). Infidelity's form costs model queries only, and its weights'
        estimation error shrinks as ``1 / sqrt(n_samples)`` (Theorem 4.3): with 50 draws it is
        of the order of the aggregate's gain over its best member when the members are nearly
        infidelity-optimal already (Gradient and SmoothGrad of a smooth network), so that the
        gain on fresh draws depends on the seed; each sensitivity draw re-explains a copy with
        every member.
    metric_params : dict or None, default=None
        Keyword arguments of the metrics whose forms are built, by metric name, such as
        ``{"infidelity": {"perturbation": SubsetBaseline(fraction=0.2)}, "avg_sensitivity":
        {"radius": 0.05}}``; the metric functions' own defaults fill in the rest. For
        infidelity, ``normalize=True`` scales each member by its own optimal
        ``beta = E[I^T phi D] / E[(I^T phi)^2] >= 0`` before the weights are solved (Decker et
        al.'s released code: the scale-free infidelity, whose combination is not a quadratic
        form otherwise), and unless ``antithetic`` is given the draws come in mirrored pairs
        (``x + eps`` and ``x - eps``) whenever the perturbation is symmetric about the row
        (gaussian or uniform noise): the same expected form, estimated with far less noise in
        the weights (the first-order change times the model's even remainder cancels in
        pairs), so that the aggregate keeps its gain on fresh draws.
    form_normalization : {"mean", "stacked"} or None, default="mean"
        How each quadratic form is scaled before a strategy adds them (``"opt"``, a dict):
        ``"mean"`` divides ``Q = E[Gamma^T Gamma]`` by its Frobenius norm, row by row (the
        paper's Appendix C.2); ``"stacked"`` divides the mean of the matrices
        ``Gamma^T Gamma`` of the single draws (or of their batches, ``stacked_batches``) by the
        Frobenius norm of all of them stacked, as Decker et al.'s released code does: a metric
        weighs less the more matrices it stacks and the more they disagree; None adds the
        metrics as they are, ``sum_j a_j metric_j``. A single metric's weights do not depend on
        it. On the paper's tabular example (10 rows of breast_cancer and of wine) the released
        code's batches weigh infidelity 1.1-1.3 times more than ``"mean"`` (median over the
        rows), and one matrix per draw with equal draws 0.7 times as much.
    stacked_batches : dict or None, default=None
        With ``form_normalization="stacked"``, the number of batches that a metric's draws are
        summed in before they are stacked, by metric name; None stacks one matrix per draw.
        The released code's AGG_opt sums its 64 infidelity draws in 16 batches of 4, so that
        its form is the mean of the batch sums (4 times the mean of the draws).
    var_form : {"shrunk", "released", "paper"}, default="shrunk"
        The ``"var"`` aggregate, from the feature-wise mean ``m`` and variance ``v`` (``ddof=1``)
        of the members: ``"shrunk"``, ``m / (1 + v / (epsilon s^2))`` with ``s`` the row's
        largest absolute attribution, is ``m`` where the members agree and shrinks it where they
        disagree, finite and in the members' units (on normalized members, ``s = 1``, it is
        ``epsilon`` times the released form); ``"released"``, ``m / (v + epsilon)``, Decker et
        al.'s released code (epsilon 0.226); ``"paper"``, ``m / (sigma + epsilon)`` with
        ``sigma`` the standard deviation (``ddof=0``), the paper's eq. 2: with a small epsilon
        its scale is ``1 / epsilon`` wherever the members agree, as they do on the top feature
        of max-normalized members.
    epsilon : float or None, default=None
        The constant of ``var_form``; None means 0.226 for ``"shrunk"`` and ``"released"``
        (the released code's), 1e-8 for ``"paper"``.
    target : int or None, default=None
        Output to explain; None explains a single output, or each row's predicted class.
    random_state : int, RandomState instance or None, default=None
        Seeds the metric samples.
    n_jobs : int or None, default=None
        Parallel jobs over chunks of rows (joblib, so a Dask or Ray cluster through
        ``joblib.parallel_config``); the attributions equal those of ``n_jobs=1``.
    verbose : int, default=0
        Show a progress bar over the chunks of rows when positive.

    Attributes
    ----------
    explainers_ : list of (str, explainer)
        The fitted clones of the members.
    named_explainers_ : dict
    model_ : ModelAdapter
    n_features_in_ : int

    See Also
    --------
    AttributionAggregator : The same aggregation as the last step of a Pipeline.
    decker_settings : The paper's settings.

    Notes
    -----
    The weights are solved at every explained row, so an aggregate's sensitivity as
    :func:`~skexplain.metrics.avg_sensitivity` measures it (re-explaining perturbed copies)
    includes the movement of the weights; Theorem 4.2 bounds it with the weights fixed at the
    row. Both promises are for the draws the weights were fitted on; on fresh draws
    (another ``random_state`` of the metric) they hold in expectation.

    References
    ----------
    Decker, Bhattarai, Gu, Tresp, Buettner (2024), Provably better explanations with optimized
    aggregation of feature attributions.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain import AggregatingExplainer, Gradient, SmoothGrad
    >>> from skexplain.functions import SumOfSines
    >>> X = np.random.default_rng(0).normal(size=(4, 3))
    >>> agg = AggregatingExplainer([("grad", Gradient()), ("sg", SmoothGrad(random_state=0))],
    ...                            model=SumOfSines(), strategy="faith", random_state=0)
    >>> W = agg.fit(X).weights(X)
    >>> W.shape, bool(np.allclose(W.sum(axis=1), 1.0))
    ((4, 2), True)

    Decker et al.'s settings:

    >>> from skexplain.aggregation import decker_settings
    >>> paper = AggregatingExplainer(agg.explainers, model=SumOfSines(), strategy="opt",
    ...                              random_state=0, **decker_settings()).fit(X)
    >>> bool((paper.transform(X) >= 0).all())  # absolute values, as in the paper
    True
    """

    _parameter_constraints = {
        **BaseExplainer._parameter_constraints,
        **_STRATEGY_CONSTRAINTS,
        "explainers": [list],
    }

    def __init__(
        self,
        explainers,
        model=None,
        *,
        strategy="opt",
        normalize=None,
        n_samples=None,
        metric_params=None,
        form_normalization="mean",
        stacked_batches=None,
        var_form="shrunk",
        epsilon=None,
        target=None,
        random_state=None,
        n_jobs=None,
        verbose=0,
    ):
        self.explainers = explainers
        self.model = model
        self.strategy = strategy
        self.normalize = normalize
        self.n_samples = n_samples
        self.metric_params = metric_params
        self.form_normalization = form_normalization
        self.stacked_batches = stacked_batches
        self.var_form = var_form
        self.epsilon = epsilon
        self.target = target
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    @property
    def named_explainers_(self):
        """The fitted members, as a dict from name to explainer."""
        check_is_fitted(self)
        return dict(self.explainers_)

    def _fit(self, X):
        members = _check_named_explainers(self.explainers, self)
        self._check_strategy(len(members))
        self.explainers_ = [
            (name, fit_clone(explainer, X, model=self.model_, target=self.target))
            for name, explainer in members
        ]

    def _model_to_fit(self):
        if self.model is not None:
            return self.model
        for _, explainer in _check_named_explainers(self.explainers, self):
            if explainer.model is not None:
                return explainer.model
        return None

    def _members(self, X, target):
        """The members' attributions ``(n, k, d)``, every one for ``target``.

        ``target`` is one output per row, or None: the output resolved at the rows, kept when
        the rows are perturbed copies that a metric re-explains.
        """
        return np.stack([_explain_member(e, X, target) for _, e in self.explainers_], axis=1)

    def weights(self, X):
        """The per-row convex weights of the members, shape ``(n_samples, k)``.

        For ``"mean"`` and ``"var"`` these are uniform (``"var"`` then rescales feature-wise).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to explain.

        Returns
        -------
        ndarray of shape (n_samples, n_explainers)
            Non-negative weights summing to one on every row.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        target = self.model_.resolve_target(X, self.target)
        members = normalize_attributions(self._members(X, target), self.normalize)
        return self._weights(X, members, target, [e for _, e in self.explainers_])

    def _explain(self, X, target):
        explainers = [e for _, e in self.explainers_]
        return self._aggregate(X, self._members(X, target), target, explainers)


class AttributionAggregator(_Aggregation, TransformerMixin, BaseEstimator):
    """The last step of the pipeline form of :class:`AggregatingExplainer`.

    Its input is the output of an :class:`ExplainerUnion` of ``n_explainers`` explainers: the
    rows followed by their attributions, ``[X, phi_1(X), ..., phi_k(X)]``; its output is the
    aggregate, shape ``(n_samples, n_features)``, with the same per-row convex weights as
    ``AggregatingExplainer`` given the same members and parameters. It sees the members'
    attributions only, not the members: strategies that re-explain perturbed rows with them
    (average sensitivity: ``"robust"``, ``"opt"``) need the meta-estimator form and raise here.

    Parameters
    ----------
    n_explainers : int
        The number ``k`` of explainers of the union before it.
    model : object
        The model explained (see :func:`skexplain.models.as_model`), for infidelity's queries
        and the explained class.
    strategy : {"faith", "mean", "var"}, dict or array-like, default="faith"
        As in :class:`AggregatingExplainer`, among the strategies that need no re-explanation.
    normalize : {"maxabs", "abs_maxabs"} or None, default=None
        How members' attributions are made comparable (see :class:`AggregatingExplainer`).
    n_samples : int or None, default=None
        Metric samples for the quadratic forms; None means each metric's default (see
        :class:`AggregatingExplainer`).
    metric_params : dict or None, default=None
        Keyword arguments of the metrics, by name (see :class:`AggregatingExplainer`).
    form_normalization : {"mean", "stacked"} or None, default="mean"
        How each quadratic form is scaled before they are added (see
        :class:`AggregatingExplainer`).
    stacked_batches : dict or None, default=None
        Batches of draws stacked by ``"stacked"`` (see :class:`AggregatingExplainer`).
    var_form : {"shrunk", "released", "paper"}, default="shrunk"
        The ``"var"`` aggregate (see :class:`AggregatingExplainer`).
    epsilon : float or None, default=None
        The constant of ``var_form`` (see :class:`AggregatingExplainer`).
    target : int or None, default=None
        Output to explain; None explains a single output, or each row's predicted class.
    random_state : int, RandomState instance or None, default=None
        Seeds the metric samples.

    Attributes
    ----------
    model_ : ModelAdapter
    n_features_in_ : int
        ``(n_explainers + 1) * n_features``.

    See Also
    --------
    ExplainerUnion : The step before it.
    AggregatingExplainer : The meta-estimator form, which supports every strategy.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from skexplain import AttributionAggregator, ExplainerUnion, Gradient, InputXGradient
    >>> from skexplain.functions import SumOfSines
    >>> X = np.random.default_rng(0).normal(size=(5, 3))
    >>> members = [("grad", Gradient()), ("ixg", InputXGradient())]
    >>> pipe = make_pipeline(ExplainerUnion(members, model=SumOfSines()),
    ...                      AttributionAggregator(2, model=SumOfSines(), random_state=0))
    >>> pipe.fit(X).transform(X).shape
    (5, 3)
    """

    _parameter_constraints = {
        **_STRATEGY_CONSTRAINTS,
        "n_explainers": [Interval(Integral, 1, None, closed="left")],
        "model": "no_validation",
        "target": [None, Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_explainers,
        model=None,
        *,
        strategy="faith",
        normalize=None,
        n_samples=None,
        metric_params=None,
        form_normalization="mean",
        stacked_batches=None,
        var_form="shrunk",
        epsilon=None,
        target=None,
        random_state=None,
    ):
        self.n_explainers = n_explainers
        self.model = model
        self.strategy = strategy
        self.normalize = normalize
        self.n_samples = n_samples
        self.metric_params = metric_params
        self.form_normalization = form_normalization
        self.stacked_batches = stacked_batches
        self.var_form = var_form
        self.epsilon = epsilon
        self.target = target
        self.random_state = random_state

    def fit(self, X, y=None):
        """Validate the parameters and the width of X, and adapt the model.

        Parameters
        ----------
        X : array-like of shape (n_samples, (n_explainers + 1) * n_features)
            The output of the :class:`ExplainerUnion` before it.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted aggregator.
        """
        self._validate_params()
        X = validate_data(self, X, dtype=np.float64)
        k = self.n_explainers
        if X.shape[1] % (k + 1):
            raise ValueError(
                f"with n_explainers={k}, X must hold the rows and {k} attributions side by side "
                f"((k + 1) * n_features columns), got {X.shape[1]} columns"
            )
        self._check_strategy(k)
        needs_members = [
            spec.name
            for spec, coefficient, _ in (self._forms() or [])
            if coefficient and spec.kind == "explainer"
        ]
        if needs_members:
            raise ValueError(
                f"strategy {self.strategy!r} uses {', '.join(needs_members)}, which re-explains "
                "perturbed rows with the members: use the meta-estimator form "
                "AggregatingExplainer([(name, explainer), ...]) for it"
            )
        if self.model is None:
            raise ValueError(
                "AttributionAggregator needs a model: pass model=<torch module, fitted "
                "scikit-learn estimator or callable>"
            )
        self.model_ = as_model(self.model)
        return self

    def _split(self, X):
        """The rows ``(n, d)`` and the members' attributions ``(n, k, d)`` of the union's output."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        d = X.shape[1] // (self.n_explainers + 1)
        rows = X[:, :d]
        target = self.model_.resolve_target(rows, self.target)
        return rows, X[:, d:].reshape(X.shape[0], self.n_explainers, d), target

    def weights(self, X):
        """The per-row convex weights of the members, shape ``(n_samples, n_explainers)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, (n_explainers + 1) * n_features)
            The output of the :class:`ExplainerUnion` before it.

        Returns
        -------
        ndarray of shape (n_samples, n_explainers)
            Non-negative weights summing to one on every row.
        """
        rows, members, target = self._split(X)
        members = normalize_attributions(members, self.normalize)
        return self._weights(rows, members, target, None)

    def transform(self, X):
        """The aggregate attributions of the rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, (n_explainers + 1) * n_features)
            The output of the :class:`ExplainerUnion` before it.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            The aggregate attributions.
        """
        rows, members, target = self._split(X)
        return self._aggregate(rows, members, target, None)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


class ExplainerUnion(_NamedExplainers, TransformerMixin, BaseEstimator):
    """Several explainers side by side, after the rows: the input of a pipeline aggregator.

    ``transform(X)`` returns ``[X, phi_1(X), ..., phi_k(X)]``, shape ``(n, (k + 1) d)``, for an
    :class:`AttributionAggregator` of ``k`` explainers as the next Pipeline step. Nested
    parameters (``sg__noise_scale``) are tunable as in ``FeatureUnion``.

    Parameters
    ----------
    explainers : list of (str, explainer) tuples
        The named members, as in ``FeatureUnion``.
    model : object, default=None
        The model, for members without one.

    Attributes
    ----------
    explainers_ : list of (str, explainer)
    model_ : ModelAdapter
        The model explained (``model``, else the first member's): the metrics' scorers find
        where a Pipeline's explanation starts by this attribute.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from skexplain import AggregatingExplainer, AttributionAggregator, ExplainerUnion
    >>> from skexplain import Gradient, InputXGradient
    >>> from skexplain.functions import SumOfSines
    >>> X = np.random.default_rng(0).normal(size=(5, 3))
    >>> members = [("grad", Gradient()), ("ixg", InputXGradient())]
    >>> pipe = make_pipeline(ExplainerUnion(members, model=SumOfSines()),
    ...                      AttributionAggregator(2, model=SumOfSines(), strategy="mean"))
    >>> meta = AggregatingExplainer(members, model=SumOfSines(), strategy="mean")
    >>> np.allclose(pipe.fit(X).transform(X), meta.fit(X).transform(X))
    True
    """

    def __init__(self, explainers, model=None):
        self.explainers = explainers
        self.model = model

    def fit(self, X, y=None):
        """Fit a clone of every member on X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows like those to be explained.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted union.
        """
        X = validate_data(self, X, dtype=np.float64)
        members = _check_named_explainers(self.explainers, self)
        fitted = [(name, fit_clone(explainer, X, model=self.model)) for name, explainer in members]
        self.explainers_ = fitted
        self.model_ = fitted[0][1].model_ if self.model is None else as_model(self.model)
        return self

    def transform(self, X):
        """The rows followed by every member's attributions, shape ``(n, (k + 1) d)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows to explain.

        Returns
        -------
        ndarray of shape (n_samples, (n_explainers + 1) * n_features)
            ``X`` followed by each member's attributions, in member order.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return np.hstack([X] + [e.transform(X) for _, e in self.explainers_])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
