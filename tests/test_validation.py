"""Bad input gets a clear error that names the parameter (issue: engine, must-hold 5).

The input checks run over every public explainer found by discovery, each built from its
signature (``tests/_explainers.py``), so a new explainer is checked without editing a list.
"""

import numpy as np
import pytest
from _explainers import MODEL, build, instance, is_model_specific

from skexplain import CLIME, Gradient, IntegratedGradients, SmoothGrad, VarGrad
from skexplain.utils.discovery import all_explainers

X = np.random.default_rng(0).normal(size=(6, 3))

ALL = [cls for _, cls in all_explainers()]
# Those that take any model: the tests of models returning NaN or a wrong shape use callables.
AGNOSTIC = [cls for cls in ALL if not is_model_specific(cls)]


@pytest.mark.parametrize("Explainer", ALL)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_X_is_rejected_at_fit_and_transform(Explainer, bad):
    X_bad = X.copy()
    X_bad[2, 1] = bad
    with pytest.raises(ValueError, match="Input X contains"):
        instance(Explainer).fit(X_bad)
    fitted = instance(Explainer).fit(X)
    with pytest.raises(ValueError, match="Input X contains"):
        fitted.transform(X_bad)


@pytest.mark.parametrize("Explainer", ALL)
def test_one_dimensional_X_is_rejected(Explainer):
    with pytest.raises(ValueError, match="Expected 2D"):
        instance(Explainer).fit(X[0])
    with pytest.raises(ValueError, match="Expected 2D"):
        instance(Explainer).fit(X).transform(X[0])


@pytest.mark.parametrize("Explainer", ALL)
def test_feature_count_must_match_fit(Explainer):
    fitted = instance(Explainer).fit(X)
    with pytest.raises(ValueError, match="X has 4 features.*expecting 3"):
        fitted.transform(np.zeros((2, 4)))


@pytest.mark.parametrize("Explainer", ALL)
def test_missing_model_is_named(Explainer):
    with pytest.raises(ValueError, match="needs a model"):
        build(Explainer, model=None).fit(X)


@pytest.mark.parametrize("Explainer", AGNOSTIC)
def test_model_returning_nan_is_reported(Explainer):
    def nan_model(Z):
        out = np.sin(Z).sum(axis=1)
        out[Z[:, 0] > 0] = np.nan
        return out

    rows = np.abs(X)  # every row has x_0 > 0, and so do most perturbed copies
    with pytest.raises(ValueError, match="NaN or inf"):
        build(Explainer, model=nan_model).fit(rows).transform(rows)


@pytest.mark.parametrize("Explainer", AGNOSTIC)
def test_model_returning_wrong_shape_is_reported(Explainer):
    def wrong_shape(Z):
        return np.zeros(Z.shape[0] + 1)

    with pytest.raises(ValueError, match="must have shape"):
        build(Explainer, model=wrong_shape).fit(X).transform(X)


@pytest.mark.parametrize(
    ("explainer", "parameter"),
    [
        (SmoothGrad(model=MODEL, noise_scale=0.0), "noise_scale"),
        (SmoothGrad(model=MODEL, noise_scale=-1.0), "noise_scale"),
        (VarGrad(model=MODEL, noise_scale=-0.5), "noise_scale"),
        (CLIME(model=MODEL, noise_scale=0), "noise_scale"),
        (SmoothGrad(model=MODEL, n_samples=0), "n_samples"),
        (CLIME(model=MODEL, n_samples=-3), "n_samples"),
        (SmoothGrad(model=MODEL, n_samples=2.5), "n_samples"),
        (IntegratedGradients(model=MODEL, n_steps=0), "n_steps"),
        (CLIME(model=MODEL, alpha=-1.0), "alpha"),
        (SmoothGrad(model=MODEL, noise="laplace"), "noise"),
        (CLIME(model=MODEL, noise="student"), "noise"),
        (IntegratedGradients(model=MODEL, method="simpson"), "method"),
        (Gradient(model=MODEL, target=-1), "target"),
        (SmoothGrad(model=MODEL, random_state="seed"), "random_state"),
    ],
)
def test_bad_parameters_name_the_parameter(explainer, parameter):
    with pytest.raises(ValueError, match=f"'{parameter}' parameter of {type(explainer).__name__}"):
        explainer.fit(X)


def test_baseline_of_wrong_length_is_named():
    with pytest.raises(ValueError, match=r"baseline must be a scalar or have shape \(3,\)"):
        IntegratedGradients(model=MODEL, baseline=np.zeros(4)).fit(X)


def test_unknown_model_output_is_named():
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))
    from skexplain.models import as_model

    with pytest.raises(ValueError, match="output must be one of"):
        as_model(clf, output="logits")


def test_target_out_of_range_is_reported():
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))
    with pytest.raises(ValueError, match="target index 5 is out of range for 2 outputs"):
        Gradient(model=clf, target=5).fit(X).transform(X)


def test_transform_before_fit_raises_not_fitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        SmoothGrad(model=MODEL).transform(X)


@pytest.mark.parametrize(
    "base, hooks",
    [
        ("skexplain.base.BaseExplainer", "_explain"),
        ("skexplain.perturbations.Perturbation", "apply, draw"),
        ("skexplain.models.ModelAdapter", "_gradient_native, _outputs_native"),
    ],
)
def test_a_subclass_without_its_hooks_cannot_be_made(base, hooks):
    import importlib

    module, name = base.rsplit(".", 1)
    incomplete = type("Incomplete", (getattr(importlib.import_module(module), name),), {})
    with pytest.raises(TypeError, match=f"abstract methods? {hooks}"):
        incomplete()
