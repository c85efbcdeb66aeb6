"""scikit-learn's estimator checks over every explainer, with a width-agnostic function model."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skexplain import (
    CLIME,
    Gradient,
    InfidelityOptimal,
    InputXGradient,
    IntegratedGradients,
    KernelShapExplainer,
    KernelSmoothed,
    LimeExplainer,
    ShapleyExplainer,
    SmoothGrad,
    VarGrad,
)
from skexplain.functions import SumOfSines
from skexplain.perturbations import NoisyBaseline

MODEL = SumOfSines()  # any number of features, exact gradient


def _explainers():
    return [
        Gradient(model=MODEL),
        InputXGradient(model=MODEL),
        IntegratedGradients(model=MODEL, n_steps=8),
        SmoothGrad(model=MODEL, n_samples=8, random_state=0),
        SmoothGrad(model=MODEL, noise="uniform", n_samples=8, random_state=0),
        VarGrad(model=MODEL, n_samples=8, random_state=0),
        CLIME(model=MODEL, n_samples=64, random_state=0),
        CLIME(model=MODEL, n_samples=64, alpha=0.1, random_state=0),
        InfidelityOptimal(model=MODEL, n_samples=32, random_state=0),
        InfidelityOptimal(model=MODEL, perturbation=NoisyBaseline(), n_samples=32, random_state=0),
        KernelSmoothed(IntegratedGradients(n_steps=4), model=MODEL, n_samples=4, random_state=0),
        # the reference packages loop over rows: few samples keep the checks fast
        LimeExplainer(model=MODEL, n_samples=20, random_state=0),
        KernelShapExplainer(model=MODEL, n_samples=20, n_background=5, random_state=0),
        ShapleyExplainer(model=MODEL, n_background=5, random_state=0),
        ShapleyExplainer(
            model=MODEL, method="kernel", n_samples=20, n_background=5, random_state=0
        ),
        ShapleyExplainer(
            model=MODEL, method="permutation", n_samples=20, n_background=5, random_state=0
        ),
    ]


@parametrize_with_checks(_explainers())
def test_sklearn_compatible(estimator, check):
    check(estimator)
