"""Model awareness: which models have no useful gradient.

Trees, forests, gradient boosting (scikit-learn's, XGBoost's, LightGBM's, CatBoost's) and nearest
neighbours are piecewise constant in their inputs: the gradient is zero almost everywhere and
undefined on the splits, so gradient explainers return zeros, and finite differences that
straddle a split return spikes. Gradient explainers refuse them with an error that says what
to use instead.
"""

import numpy as np

__all__ = ["check_differentiable", "piecewise_constant_part", "votes_as_probabilities"]

# Module prefixes of the gradient-boosting libraries' scikit-learn wrappers (not imported here).
_TREE_LIBRARIES = ("xgboost", "lightgbm", "catboost")

_ALTERNATIVES = (
    "use an explainer that only queries outputs: ShapleyExplainer or KernelShapExplainer "
    "(Shapley values of the raw columns), LimeExplainer, or CLIME with a real noise scale "
    "(e.g. CLIME(noise_scale=0.5), in standard deviations of each column)"
)


def _final_step(estimator):
    """The estimator at the end of Pipelines (and of wrappers holding ``estimator``)."""
    seen = 0
    while seen < 10:
        seen += 1
        steps = getattr(estimator, "steps", None)
        if steps:
            estimator = steps[-1][1]
            continue
        inner = getattr(estimator, "estimator", None)
        if (
            inner is not None
            and hasattr(estimator, "fit")
            and type(estimator).__name__
            in (
                "FrozenEstimator",
                "TransformedTargetRegressor",
            )
        ):
            estimator = inner
            continue
        regressor = getattr(estimator, "regressor_", None)
        if regressor is not None:
            estimator = regressor
            continue
        break
    return estimator


def piecewise_constant_part(estimator):
    """The piecewise-constant model at the end of ``estimator``, or None.

    Parameters
    ----------
    estimator : object
        A fitted estimator or Pipeline.

    Returns
    -------
    object or None
        The tree, ensemble or neighbours model that makes ``estimator`` piecewise constant.
    """
    from sklearn.ensemble import (
        AdaBoostClassifier,
        AdaBoostRegressor,
        BaseEnsemble,
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
    )
    from sklearn.neighbors._base import NeighborsBase
    from sklearn.tree import BaseDecisionTree

    final = _final_step(estimator)
    if isinstance(final, (BaseDecisionTree, NeighborsBase)):
        return final
    if isinstance(final, (HistGradientBoostingClassifier, HistGradientBoostingRegressor)):
        return final
    if isinstance(final, BaseEnsemble) and not isinstance(
        final, (AdaBoostClassifier, AdaBoostRegressor)
    ):
        return final  # forests, extra trees, gradient boosting, isolation forest, bagging of trees
    if isinstance(final, (AdaBoostClassifier, AdaBoostRegressor)):
        base = getattr(final, "estimator_", None)
        return final if base is None or piecewise_constant_part(base) is not None else None
    if type(final).__module__.split(".")[0] in _TREE_LIBRARIES:
        return final
    return None


def votes_as_probabilities(estimator):
    """Whether ``estimator``'s probabilities are fractions of votes (trees, forests, neighbours).

    A decision tree's probabilities are the class frequencies of a leaf, a forest's (or a
    bagging of trees') their mean over the trees, a nearest-neighbours classifier's the share of
    neighbours: all are exactly 0 or 1 wherever the votes agree, so their log-odds are infinite
    there. Boosted trees are not counted: their probabilities are a sigmoid or softmax of a
    margin, whose log-odds are finite.

    Parameters
    ----------
    estimator : object
        A fitted classifier or Pipeline.

    Returns
    -------
    bool
    """
    from sklearn.ensemble import BaggingClassifier
    from sklearn.ensemble._forest import ForestClassifier
    from sklearn.neighbors._base import NeighborsBase
    from sklearn.tree import BaseDecisionTree

    final = _final_step(estimator)
    if isinstance(final, BaggingClassifier):
        base = getattr(final, "estimator_", None)
        return base is None or votes_as_probabilities(base)
    return isinstance(final, (BaseDecisionTree, ForestClassifier, NeighborsBase))


def check_differentiable(adapter, explainer_name, gradients=None):
    """Raise when an explainer that needs gradients meets a piecewise-constant model.

    Parameters
    ----------
    adapter : ModelAdapter
        The adapted model; its ``estimator`` (scikit-learn models) is inspected.
    explainer_name : str
        Named in the message.
    gradients : ndarray or None, default=None
        The attributions computed from finite-difference gradients on the explained rows: if
        every one is exactly zero, the model is piecewise constant there, whatever its type.
    """
    estimator = getattr(adapter, "estimator", None)
    model_name = type(estimator).__name__ if estimator is not None else type(adapter).__name__
    part = None if estimator is None else piecewise_constant_part(estimator)
    if part is not None:
        inside = "" if part is estimator else f" (its {type(part).__name__} step)"
        raise ValueError(
            f"{explainer_name} needs gradients, but {model_name}{inside} is piecewise constant: "
            "its gradient is zero almost everywhere and finite differences across a split are "
            f"spikes. {_ALTERNATIVES[0].upper()}{_ALTERNATIVES[1:]}."
        )
    if (
        gradients is not None
        and getattr(adapter, "uses_finite_differences", False)
        and gradients.size
        and not np.any(gradients)
    ):
        raise ValueError(
            f"{explainer_name} needs gradients, but the finite-difference gradients of "
            f"{model_name} vanish on every explained row: the model is piecewise constant "
            f"there. {_ALTERNATIVES[0].upper()}{_ALTERNATIVES[1:]}."
        )
