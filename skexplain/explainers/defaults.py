"""The explainers the report and the command line compare when the user names none.

They are chosen from the explainers' tags (:class:`~skexplain.base.ExplainerTags`) and the
model: explainers that need gradients only for a model they can differentiate (they refuse
piecewise-constant models, with the same check as here), explainers of one model family only
for a model of that family, and Shapley values for the models the gradient explainers cannot
explain.
"""

from sklearn.utils import get_tags

from ..models import SklearnModel, as_model
from ..utils import check_differentiable
from .clime import CLIME
from .gradient import Gradient, InputXGradient
from .integrated_gradients import IntegratedGradients
from .shapley import ShapleyExplainer
from .smoothgrad import SmoothGrad, VarGrad
from .tree_shap import TreeShapExplainer, _family, _split_pipeline

__all__ = ["default_explainers"]

# The explainers by the names the report and the command line show, with how each is built
# from the model, the noise scale (standard deviations of each column) and the seed.
_FACTORIES = {
    "Gradient": lambda model, scale, seed: Gradient(model=model),
    "InputXGradient": lambda model, scale, seed: InputXGradient(model=model),
    "SmoothGrad": lambda model, scale, seed: SmoothGrad(
        model=model, noise_scale=scale, random_state=seed
    ),
    "VarGrad": lambda model, scale, seed: VarGrad(
        model=model, noise_scale=scale, random_state=seed
    ),
    "IntegratedGradients": lambda model, scale, seed: IntegratedGradients(model=model),
    "C-LIME": lambda model, scale, seed: CLIME(model=model, noise_scale=scale, random_state=seed),
    "Shapley": lambda model, scale, seed: ShapleyExplainer(model=model, random_state=seed),
    "TreeSHAP": lambda model, scale, seed: TreeShapExplainer(
        model=_estimator(model), random_state=seed
    ),
}
#: Names of the explainers :func:`make_explainer` builds (the command line's choices).
EXPLAINER_NAMES = tuple(_FACTORIES)

# For a differentiable model: gradients, their smoothed and path-integrated forms, and C-LIME.
_GRADIENT_DEFAULTS = ("Gradient", "SmoothGrad", "IntegratedGradients", "C-LIME")
# Noise of SmoothGrad, VarGrad and C-LIME in standard deviations of each column: small for a
# smooth model (a local slope); for a piecewise-constant one, large enough that the noise crosses
# the model's steps (at 0.1 most draws stay on one step and C-LIME's slopes are mostly zero).
SMOOTH_NOISE_SCALE = 0.1
STEP_NOISE_SCALE = 0.5


def make_explainer(name, model, *, noise_scale=SMOOTH_NOISE_SCALE, random_state=None):
    """The explainer named ``name`` (one of :data:`EXPLAINER_NAMES`), unfitted, for ``model``.

    Parameters
    ----------
    name : str
        "Gradient", "InputXGradient", "SmoothGrad", "VarGrad", "IntegratedGradients", "C-LIME",
        "Shapley" (:class:`~skexplain.ShapleyExplainer`) or "TreeSHAP"
        (:class:`~skexplain.TreeShapExplainer`).
    model : object
        The model to explain.
    noise_scale : float, default=0.1
        Noise of SmoothGrad, VarGrad and C-LIME, in standard deviations of each column.
    random_state : int or None, default=None
        Seed of the stochastic explainers.

    Returns
    -------
    BaseExplainer
    """
    if name not in _FACTORIES:
        raise ValueError(f"explainer must be one of {list(EXPLAINER_NAMES)}, got {name!r}")
    return _FACTORIES[name](model, noise_scale, random_state)


def _estimator(model):
    """The estimator inside a scikit-learn adapter (TreeSHAP reads the trees themselves)."""
    return model.estimator if isinstance(model, SklearnModel) else model


def _differentiable(model):
    """Whether the gradient explainers accept the model (their own check, in ``fit``)."""
    try:
        check_differentiable(as_model(model), "the gradient explainers")
    except ValueError:
        return False
    return True


def _accepts(explainer, model):
    """Whether an explainer of one model family (tag ``model_agnostic=False``) explains ``model``
    exactly: TreeSHAP, for the tree ensembles whose interventional values shap computes right.

    shap's interventional TreeSHAP misses the exact values on HistGradientBoosting with more than
    a few levels (shap issue #3267, tests/test_tree_shap.py): those get ShapleyExplainer.
    """
    if not isinstance(explainer, TreeShapExplainer):
        return False
    _, tree = _split_pipeline(explainer.model)
    if _family(tree) is None or type(tree).__name__.startswith("HistGradientBoosting"):
        return False
    # An adapter given with a chosen output: TreeSHAP only if it explains that output.
    return not isinstance(model, SklearnModel) or model.output == explainer._explained_output()


def _usable(explainer, model, differentiable):
    """What the explainer's tags say about this model."""
    tags = get_tags(explainer).explainer
    if tags.requires_gradient:
        return differentiable
    return tags.model_agnostic or _accepts(explainer, model)


def default_explainers(model, *, noise_scale=None, random_state=None):
    """The explainers to compare on ``model`` when none are named, chosen from their tags.

    A model the gradient explainers can differentiate gets Gradient, SmoothGrad,
    IntegratedGradients and C-LIME. The gradient explainers (tag ``requires_gradient``) refuse
    piecewise-constant models (decision trees, forests, boosting, nearest neighbours); those get
    Shapley values instead: TreeSHAP (tag ``model_agnostic=False``: exact, in time linear in the
    leaves) for the tree ensembles it computes exactly, ShapleyExplainer (any model) otherwise,
    and C-LIME with noise that crosses the model's steps.

    Parameters
    ----------
    model : object
        A fitted scikit-learn estimator or Pipeline, a torch module or a callable.
    noise_scale : float or None, default=None
        Noise of SmoothGrad and C-LIME in standard deviations of each column; None means 0.1
        for a differentiable model and 0.5 for a piecewise-constant one.
    random_state : int or None, default=None
        Seed of the stochastic explainers.

    Returns
    -------
    dict
        Name -> unfitted explainer, in the order the report shows them.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from skexplain.report import default_explainers
    >>> X, y = load_iris(return_X_y=True)
    >>> list(default_explainers(RandomForestClassifier(n_estimators=5).fit(X, y)))
    ['TreeSHAP', 'C-LIME']
    >>> list(default_explainers(KNeighborsClassifier().fit(X, y)))
    ['Shapley', 'C-LIME']
    """
    differentiable = _differentiable(model)
    if noise_scale is None:
        noise_scale = SMOOTH_NOISE_SCALE if differentiable else STEP_NOISE_SCALE
    candidates = {
        name: make_explainer(name, model, noise_scale=noise_scale, random_state=random_state)
        for name in EXPLAINER_NAMES
    }
    usable = {name: e for name, e in candidates.items() if _usable(e, model, differentiable)}
    if differentiable:
        names = [name for name in _GRADIENT_DEFAULTS if name in usable]
    else:
        # Shapley values: the model-specific exact algorithm where it applies, else the
        # model-agnostic one; then C-LIME, the local linear fit, for a second view.
        names = ["TreeSHAP" if "TreeSHAP" in usable else "Shapley", "C-LIME"]
    return {name: usable[name] for name in names}
