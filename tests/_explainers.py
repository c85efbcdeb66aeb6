"""One ready instance of any explainer class, built from its signature, for the checks that run
over every explainer found by :func:`skexplain.utils.discovery.all_explainers`.

Nothing here names an explainer class: a new explainer gets a width-agnostic function model (the
estimator checks use 1 to 10 features), small sample counts and a seed through the names of its
parameters, and members when it is a meta-explainer.
"""

import inspect

from skexplain import Gradient, IntegratedGradients
from skexplain.functions import SumOfSines

MODEL = SumOfSines()  # any number of features, exact gradient

# Parameters set by name wherever an explainer has them: small enough for fast checks (the
# reference packages loop over rows), and a seed so the checks compare equal runs.
FAST = {"n_samples": 8, "n_steps": 8, "n_background": 5, "random_state": 0}


def _members():
    return [("grad", Gradient()), ("ig", IntegratedGradients(n_steps=4))]


def build(cls, model=MODEL, **params):
    """``cls`` with ``model``, the ``FAST`` settings it accepts, members if it takes them, and
    ``params`` on top."""
    kwargs = {}
    for name in inspect.signature(cls).parameters:
        if name == "model":
            kwargs[name] = model
        elif name == "explainers":  # a meta-explainer over named members
            kwargs[name] = _members()
        elif name == "explainer":  # a wrapper of one explainer
            kwargs[name] = IntegratedGradients(n_steps=4)
        elif name in FAST:
            kwargs[name] = FAST[name]
    kwargs.update(params)
    return cls(**kwargs)


def is_model_specific(cls):
    """Whether ``cls`` explains one kind of model only (its tags: neither model-agnostic nor
    gradient-based), so that no width-agnostic function can be its model."""
    from sklearn.utils import get_tags

    tags = get_tags(build(cls, model=None)).explainer
    return not tags.model_agnostic and not tags.requires_gradient


def _tree_on_three_features():
    import numpy as np
    from sklearn.tree import DecisionTreeRegressor

    Z = np.random.default_rng(0).normal(size=(60, 3))
    return DecisionTreeRegressor(max_depth=3, random_state=0).fit(Z, np.sin(Z).sum(axis=1))


# A model-specific explainer is checked on a fitted model of its kind, whose width is fixed (3
# features): the estimator checks that fit other widths are expected to fail. A new one needs an
# entry here (tests/test_estimator_checks.py fails until it has one).
FIXED_WIDTH_MODELS = {"TreeShapExplainer": _tree_on_three_features}


def instance(cls):
    """``build(cls)``, on its fixed-width model (3 features) when it is model-specific."""
    if is_model_specific(cls):
        return build(cls, model=FIXED_WIDTH_MODELS[cls.__name__]())
    return build(cls)
