"""scikit-learn's estimator checks over every public explainer, found by discovery.

Each class of :func:`skexplain.utils.discovery.all_explainers` is checked with an instance built
from its signature (``tests/_explainers.py``), so a new explainer is checked without editing a
list here; a few variants add the parameter values that take another code path.
"""

from _explainers import FIXED_WIDTH_MODELS, MODEL, build, is_model_specific
from sklearn.utils.estimator_checks import parametrize_with_checks

from skexplain import CLIME, InfidelityOptimal, ShapleyExplainer, SmoothGrad
from skexplain.perturbations import NoisyBaseline
from skexplain.utils.discovery import all_explainers

EXPLAINERS = all_explainers()
AGNOSTIC = [cls for _, cls in EXPLAINERS if not is_model_specific(cls)]
SPECIFIC = [cls for _, cls in EXPLAINERS if is_model_specific(cls)]

# Other code paths of some explainers (another noise, a ridge penalty, a masking perturbation).
VARIANTS = [
    SmoothGrad(model=MODEL, noise="uniform", n_samples=8, random_state=0),
    CLIME(model=MODEL, n_samples=64, alpha=0.1, random_state=0),
    InfidelityOptimal(model=MODEL, perturbation=NoisyBaseline(), n_samples=32, random_state=0),
    ShapleyExplainer(model=MODEL, method="kernel", n_samples=20, n_background=5, random_state=0),
    ShapleyExplainer(
        model=MODEL, method="permutation", n_samples=20, n_background=5, random_state=0
    ),
]


def test_discovery_finds_every_explainer():
    # Guards the walk: a broken discovery would leave the checks below with nothing to check.
    names = {name for name, _ in EXPLAINERS}
    assert {"Gradient", "SmoothGrad", "AggregatingExplainer", "PropertyOptimizedExplainer"} <= names
    assert "BaseExplainer" not in names and len(names) >= 12


@parametrize_with_checks([build(cls) for cls in AGNOSTIC] + VARIANTS)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_every_model_specific_explainer_has_a_model():
    missing = [cls.__name__ for cls in SPECIFIC if cls.__name__ not in FIXED_WIDTH_MODELS]
    assert not missing, (
        f"add a fitted model for {missing} to FIXED_WIDTH_MODELS (tests/_explainers.py)"
    )


# The checks that fit or transform rows of another width than the model's 3 features.
_OTHER_WIDTHS = "the model has 3 features; this check uses rows of another width"
WIDTH_CHECKS = [
    "check_dtype_object",
    "check_estimators_dtypes",
    "check_estimators_fit_returns_self",
    "check_estimators_overwrite_params",
    "check_fit2d_1feature",
    "check_fit2d_1sample",
    "check_fit_check_is_fitted",
    "check_fit_idempotent",
    "check_n_features_in",
    "check_n_features_in_after_fitting",
    "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input",
]


@parametrize_with_checks(
    [
        build(cls, model=FIXED_WIDTH_MODELS[cls.__name__]())
        for cls in SPECIFIC
        if cls.__name__ in FIXED_WIDTH_MODELS
    ],
    expected_failed_checks=lambda estimator: dict.fromkeys(WIDTH_CHECKS, _OTHER_WIDTHS),
)
def test_model_specific_sklearn_compatible(estimator, check):
    check(estimator)
