"""AggregatingExplainer: optimized convex aggregation of explanations (Decker et al. 2024)."""

import numbers
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ._compat import BaseComposition, Interval, StrOptions
from ._simplex_qp import solve_simplex_qp
from .base import BaseExplainer, clone_keeping_model, fit_clone, without_model_params
from .metrics import get_metric, get_metric_names
from .models import as_model
from .perturbations import Perturbation, SubsetBaseline, UniformBall

__all__ = [
    "AggregatingExplainer",
    "AttributionAggregator",
    "ExplainerUnion",
    "normalize_attributions",
]

_PRESETS = {"robust": {"avg_sensitivity": 1.0}, "faith": {"infidelity": 1.0}}
_PRESETS["opt"] = {"infidelity": 1.0, "avg_sensitivity": 1.0}


def normalize_attributions(A, method="absmax"):
    """Make attributions comparable across explainers, row by row (last axis: features).

    ``"absmax"``: absolute value divided by the row's largest (Decker et al. 2024, section 5);
    ``"max"``: divided by the largest absolute value, sign kept; None: unchanged. A zero row stays
    zero.

    Parameters
    ----------
    A : ndarray of shape (..., n_features)
        Attributions, features on the last axis.
    method : {"absmax", "max"} or None, default="absmax"
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
    array([[0.5, 1. ]])
    """
    if method is None:
        return A
    top = np.abs(A).max(axis=-1, keepdims=True)
    top = np.where(top > 0, top, 1.0)
    if method == "absmax":
        return np.abs(A) / top
    if method == "max":
        return A / top
    raise ValueError(f"normalize must be 'absmax', 'max' or None, got {method!r}")


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


_STRATEGY_CONSTRAINTS = {
    "strategy": [StrOptions({"opt", "robust", "faith", "mean", "var"}), dict, "array-like"],
    "normalize": [StrOptions({"absmax", "max"}), None],
    "n_samples": [Interval(Integral, 1, None, closed="left")],
    "infidelity_perturbation": [Perturbation, None],
    "infidelity_masks": [StrOptions({"binary", "difference"})],
    "infidelity_normalize": ["boolean"],
    # 0 divides by a zero spread wherever the members agree: NaN and inf
    "epsilon": [Interval(Real, 0, None, closed="neither")],
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

    def _coefficients(self):
        """The strategy as metric name -> coefficient, or None for a fixed or uniform one."""
        strategy = self.strategy
        if isinstance(strategy, dict):
            return strategy
        if isinstance(strategy, str) and strategy in _PRESETS:
            return _PRESETS[strategy]
        return None

    def _check_strategy(self, k):
        strategy = self.strategy
        if isinstance(strategy, str):
            return
        if isinstance(strategy, dict):
            quadratic = get_metric_names(quadratic=True)
            if set(strategy) - set(quadratic) or not strategy:
                raise ValueError(
                    f"a strategy dict weighs generalized L2 metrics {tuple(quadratic)}, got keys "
                    f"{sorted(strategy)}"
                )
            for name, coefficient in strategy.items():
                valid = isinstance(coefficient, numbers.Real) and not isinstance(coefficient, bool)
                if not valid or not 0 <= coefficient < np.inf:
                    raise ValueError(
                        f"strategy weight of {name!r} must be a non-negative finite number, "
                        f"got {coefficient!r}"
                    )
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

    def _metric_options(self, name):
        """This aggregator's settings of the metric ``name``'s quadratic form."""
        if name == "infidelity":
            perturbation = self.infidelity_perturbation
            if perturbation is None:
                perturbation = SubsetBaseline(baseline=0.0, fraction=0.2)
            return {
                "perturbation": perturbation,
                "binary_masks": self.infidelity_masks == "binary",
                "normalize": self.infidelity_normalize,
            }
        if name == "avg_sensitivity":
            return {"perturbation": UniformBall(radius=self.sensitivity_radius, norm="inf")}
        return {}

    def _quadratic_form(self, X, members, coefficients, target, explainers):
        """The weighted sum of the metrics' quadratic forms, each divided by its Frobenius norm."""
        names = get_metric_names(quadratic=True)
        seeds = check_random_state(self.random_state).randint(
            np.iinfo(np.int32).max, size=len(names)
        )
        total = 0.0
        for name, seed in zip(names, seeds, strict=True):
            coefficient = coefficients.get(name, 0)
            if coefficient == 0:
                continue
            Q = get_metric(name).quadratic_form(
                self.model_,
                explainers,
                X,
                members,
                target=target,
                n_samples=self.n_samples,
                random_state=int(seed),
                postprocess=lambda A: normalize_attributions(A, self.normalize),
                **self._metric_options(name),
            )
            norm = np.linalg.norm(Q, axis=(1, 2), keepdims=True)
            total = total + coefficient * Q / np.where(norm > 0, norm, 1.0)
        return total

    def _weights(self, X, members, target, explainers):
        k = members.shape[1]
        coefficients = self._coefficients()
        if coefficients is not None:
            return solve_simplex_qp(
                self._quadratic_form(X, members, coefficients, target, explainers)
            )
        if isinstance(self.strategy, str):  # "mean" and "var"
            return np.full((X.shape[0], k), 1.0 / k)
        return np.tile(np.asarray(self.strategy, dtype=np.float64), (X.shape[0], 1))

    def _aggregate(self, X, members, target, explainers):
        members = normalize_attributions(members, self.normalize)
        if isinstance(self.strategy, str) and self.strategy == "var":
            spread = members.std(axis=1) + self.epsilon
            return members.mean(axis=1) / spread
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
    is the metric's quadratic form estimated from ``n_samples`` metric samples. The members'
    attributions are first made comparable (``normalize``). By Theorem 4.2 the aggregate's metric
    is never worse than the weighted average of its members' metrics.

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
        ``"opt"``: both, each quadratic form divided by its Frobenius norm; ``"mean"``: the
        average; ``"var"``: the average divided by the feature-wise standard deviation across
        members plus ``epsilon`` (the paper's AGG_var; the released code divides by the variance).
        A dict ``{"infidelity": a, "avg_sensitivity": b}`` weighs the Frobenius-normalized forms
        as the user chooses (any metric of :func:`skexplain.metrics.get_metric_names` with
        ``quadratic=True``); an array of ``k`` non-negative weights summing to one is a fixed
        combination.
    normalize : {"absmax", "max"} or None, default="absmax"
        How members' attributions are made comparable (see :func:`normalize_attributions`).
    n_samples : int, default=50
        Metric samples for the quadratic forms (the paper's ``m_agg``); evaluate the result on
        fresh samples with :mod:`skexplain.metrics`.
    sensitivity_radius : float, default=0.1
        Radius of the uniform L-infinity noise of average sensitivity (``U[-0.1, 0.1]``).
    infidelity_perturbation : Perturbation or None, default=None
        The perturbation of infidelity; None means 20% of the features set to 0
        (``SubsetBaseline``), as Decker et al.
    infidelity_masks : {"binary", "difference"}, default="binary"
        The ``I`` of infidelity: the indicator of the removed features (Decker et al.'s
        convention, natural for normalized attributions: ``I^T phi`` sums the attributions of the
        removed features) or ``x - x~`` (see :func:`skexplain.metrics.infidelity`).
    infidelity_normalize : bool, default=True
        Optimize the scale-free infidelity that Decker et al. evaluate (Yeh et al.'s optimal
        ``beta``), as their released code does: each member's column of ``Gamma`` is scaled by
        that member's own optimal ``beta >= 0`` before the weights are solved. With False the
        plain quadratic form ``w^T Q w`` of the unnormalized infidelity is minimized.
    epsilon : float, default=1e-8
        Added to the standard deviation of ``"var"``.
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
    """

    _parameter_constraints = {
        **BaseExplainer._parameter_constraints,
        **_STRATEGY_CONSTRAINTS,
        "explainers": [list],
        "sensitivity_radius": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        explainers,
        model=None,
        *,
        strategy="opt",
        normalize="absmax",
        n_samples=50,
        sensitivity_radius=0.1,
        infidelity_perturbation=None,
        infidelity_masks="binary",
        infidelity_normalize=True,
        epsilon=1e-8,
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
        self.sensitivity_radius = sensitivity_radius
        self.infidelity_perturbation = infidelity_perturbation
        self.infidelity_masks = infidelity_masks
        self.infidelity_normalize = infidelity_normalize
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
    normalize : {"absmax", "max"} or None, default="absmax"
        How members' attributions are made comparable (see :func:`normalize_attributions`).
    n_samples : int, default=50
        Metric samples for the quadratic forms.
    infidelity_perturbation : Perturbation or None, default=None
        The perturbation of infidelity; None means 20% of the features set to 0.
    infidelity_masks : {"binary", "difference"}, default="binary"
        The ``I`` of infidelity (see :class:`AggregatingExplainer`).
    infidelity_normalize : bool, default=True
        Optimize the scale-free infidelity (see :class:`AggregatingExplainer`).
    epsilon : float, default=1e-8
        Added to the standard deviation of ``"var"``.
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
        normalize="absmax",
        n_samples=50,
        infidelity_perturbation=None,
        infidelity_masks="binary",
        infidelity_normalize=True,
        epsilon=1e-8,
        target=None,
        random_state=None,
    ):
        self.n_explainers = n_explainers
        self.model = model
        self.strategy = strategy
        self.normalize = normalize
        self.n_samples = n_samples
        self.infidelity_perturbation = infidelity_perturbation
        self.infidelity_masks = infidelity_masks
        self.infidelity_normalize = infidelity_normalize
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
            name
            for name, coefficient in (self._coefficients() or {}).items()
            if coefficient and get_metric(name).kind == "explainer"
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
