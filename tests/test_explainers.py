"""Pointwise explainers against closed forms: linear models, Agarwal et al. (2021) Theorem 1 and
its ridge variant (Appendix D), completeness of Integrated Gradients, linearity, reproducibility.

Every expected value is a formula written here (the model's weights, cos(x) exp(-s^2 / 2),
f(x) - f(baseline), ...), never a number the explainers produced.
"""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.base import clone
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skexplain import (
    CLIME,
    Gradient,
    InputXGradient,
    IntegratedGradients,
    SmoothGrad,
    VarGrad,
)
from skexplain.functions import Linear, Polynomial, QuadraticInteraction, SumOfSines
from skexplain.models import as_model

D = 5
RNG = np.random.default_rng(0)
X = RNG.normal(size=(8, D))


# -- 1. closed forms for linear models ----------------------------------------------------------


def _linear_models():
    """(name, model, weights, exact) for one linear function in several forms."""
    rng = np.random.default_rng(1)
    coef = rng.normal(size=D)
    models = [("Linear", Linear(coef, intercept=0.7), coef, True)]

    Xfit = rng.normal(size=(40, D))
    yfit = Xfit @ rng.normal(size=D) + rng.normal(size=40)
    lr = LinearRegression().fit(Xfit, yfit)
    models.append(("LinearRegression", lr, lr.coef_.copy(), True))

    # Not a LinearModel instance: gradients by finite differences, weights coef / scale.
    pipe = make_pipeline(StandardScaler(), LinearRegression()).fit(Xfit * 3 + 1, yfit)
    weights = pipe[-1].coef_ / pipe[0].scale_
    models.append(("Pipeline", pipe, weights, False))

    torch.manual_seed(0)
    layer = torch.nn.Linear(D, 1).double()
    models.append(("torch.nn.Linear", layer, layer.weight.detach().numpy()[0].copy(), True))
    return models


LINEAR_MODELS = _linear_models()
LINEAR_IDS = [m[0] for m in LINEAR_MODELS]

WEIGHT_EXPLAINERS = [
    Gradient(),
    SmoothGrad(noise_scale=0.5, n_samples=30, random_state=0),
    SmoothGrad(noise="uniform", noise_scale=0.5, n_samples=30, random_state=0),
    CLIME(noise_scale=0.5, n_samples=200, random_state=0),
    CLIME(noise="uniform", noise_scale=0.5, n_samples=200, random_state=0),
]


@pytest.mark.parametrize("explainer", WEIGHT_EXPLAINERS, ids=repr)
@pytest.mark.parametrize(("name", "model", "weights", "exact"), LINEAR_MODELS, ids=LINEAR_IDS)
def test_linear_model_explanations_are_its_weights(name, model, weights, exact, explainer):
    W = clone(explainer).set_params(model=model).fit(X).transform(X)
    atol = 1e-9 if exact else 1e-6  # finite differences of a linear function are near exact
    np.testing.assert_allclose(W, np.broadcast_to(weights, X.shape), rtol=0, atol=atol)


@pytest.mark.parametrize(("name", "model", "weights", "exact"), LINEAR_MODELS, ids=LINEAR_IDS)
def test_linear_model_input_x_gradient_ig_and_vargrad(name, model, weights, exact):
    atol = 1e-9 if exact else 1e-6
    W = InputXGradient(model=model).fit(X).transform(X)
    np.testing.assert_allclose(W, X * weights, rtol=0, atol=atol * 10)
    baseline = np.linspace(-1.0, 1.0, D)
    W = IntegratedGradients(model=model, baseline=baseline, n_steps=3).fit(X).transform(X)
    np.testing.assert_allclose(W, (X - baseline) * weights, rtol=0, atol=atol * 10)
    W = VarGrad(model=model, n_samples=20, random_state=0).fit(X).transform(X)
    np.testing.assert_allclose(W, 0.0, atol=atol)


# -- 2. Agarwal et al. (2021), Theorem 1 ---------------------------------------------------------

SINES = SumOfSines()
S = 0.5  # noise scale
X_SIN = np.random.default_rng(2).uniform(-3.0, 3.0, size=(6, 4))
# Stein's lemma: E[cos(x + eps)] = cos(x) exp(-s^2 / 2) for eps ~ N(0, s^2)
LIMIT = np.cos(X_SIN) * np.exp(-(S**2) / 2)


def _explain(Explainer, n_samples, seed, **params):
    # Theorem 1's limit is for noise of standard deviation S in input units
    explainer = Explainer(
        model=SINES, noise_scale=S, n_samples=n_samples, random_state=seed, units="raw"
    )
    return explainer.set_params(**params).fit(X_SIN).transform(X_SIN)


def _mean_errors(sample_sizes, seeds):
    """Mean |error| of SmoothGrad and C-LIME and their mean distance, averaged over seeds."""
    sg_err, clime_err, dist = [], [], []
    for n in sample_sizes:
        sg = np.stack([_explain(SmoothGrad, n, seed) for seed in seeds])
        cl = np.stack([_explain(CLIME, n, seed) for seed in seeds])
        sg_err.append(np.abs(sg - LIMIT).mean())
        clime_err.append(np.abs(cl - LIMIT).mean())
        dist.append(np.abs(sg - cl).mean())
    return np.array(sg_err), np.array(clime_err), np.array(dist)


def _log_slope(sample_sizes, errors):
    return np.polyfit(np.log(sample_sizes), np.log(errors), 1)[0]


def test_smoothgrad_and_clime_reach_the_theorem_1_limit_at_many_samples():
    for seed in range(2):
        sg = _explain(SmoothGrad, 50_000, seed)
        cl = _explain(CLIME, 50_000, seed)
        # standard errors here are about 0.0015 (SmoothGrad) and 0.004 (C-LIME) per entry
        np.testing.assert_allclose(sg, LIMIT, rtol=0, atol=0.015)
        np.testing.assert_allclose(cl, LIMIT, rtol=0, atol=0.025)
    # and the limit is not the plain gradient: the smoothing factor exp(-s^2/2) is there
    assert np.abs(sg - np.cos(X_SIN)).max() > 0.05


def test_theorem_1_errors_fall_like_one_over_square_root_of_samples():
    sizes = np.array([100, 1_000, 10_000])
    sg_err, clime_err, dist = _mean_errors(sizes, seeds=range(8))
    for errors in (sg_err, clime_err, dist):
        assert errors[1] < 0.65 * errors[0]
        assert errors[2] < 0.65 * errors[1]
        assert -0.7 < _log_slope(sizes, errors) < -0.3  # 1 / sqrt(n) is a slope of -0.5
    assert dist[-1] < 0.01  # SmoothGrad and C-LIME agree by 10^4 samples
    # Agarwal et al.: SmoothGrad converges faster than C-LIME.
    assert np.all(sg_err < clime_err)


@pytest.mark.slow
def test_theorem_1_errors_fall_like_one_over_square_root_of_samples_to_1e5():
    sizes = np.array([100, 1_000, 10_000, 100_000])
    sg_err, clime_err, dist = _mean_errors(sizes, seeds=range(16))
    for errors in (sg_err, clime_err, dist):
        assert np.all(np.diff(errors) < 0)
        assert -0.6 < _log_slope(sizes, errors) < -0.4
    assert dist[-1] < 0.003


@pytest.mark.parametrize("alpha", [0.01, 0.1, 1.0])
def test_ridge_clime_converges_to_its_appendix_d_limit(alpha):
    # (Sigma + alpha I)^{-1} Cov(x~, f(x~)) with Sigma = s^2 I and Cov_j = s^2 cos(x_j) e^{-s^2/2}
    ridge_limit = S**2 / (S**2 + alpha) * LIMIT
    W = _explain(CLIME, 50_000, 0, alpha=alpha)
    np.testing.assert_allclose(W, ridge_limit, rtol=0, atol=0.02)
    if alpha >= 0.1:  # the shrinkage is visible, not lost in the tolerance
        assert np.abs(W - LIMIT).max() > 5 * np.abs(W - ridge_limit).max()


def test_ridge_clime_shrinks_a_linear_models_weights():
    coef = np.array([2.0, -1.0, 0.5, 3.0])
    alpha = 0.1
    W = CLIME(
        model=Linear(coef),
        noise_scale=S,
        n_samples=20_000,
        alpha=alpha,
        units="raw",
        random_state=0,
    )
    W = W.fit(X_SIN).transform(X_SIN)
    expected = S**2 / (S**2 + alpha) * coef
    np.testing.assert_allclose(W, np.broadcast_to(expected, W.shape), rtol=0.03)


def test_clime_with_fewer_samples_than_coefficients_warns_and_enough_recovers_the_weights():
    coef = np.ones(6)
    X = np.zeros((1, 6))

    def clime(n_samples, alpha=0.0):
        e = CLIME(model=Linear(coef), n_samples=n_samples, alpha=alpha, random_state=0)
        return e.fit(X).transform(X)

    with pytest.warns(UserWarning, match="underdetermined: n_samples=6 .* n_samples >= 7"):
        W = clime(6)
    assert np.abs(W - coef).max() > 0.1  # the minimum-norm slope, not the weights
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(clime(7), coef[None], rtol=1e-8)  # exact at d + 1 draws
        clime(6, alpha=0.1)  # ridge is well posed


# -- 4. Integrated Gradients completeness -------------------------------------------------------


def _tanh_mlp(sizes, seed):
    torch.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=False)):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers).double()


MLP = _tanh_mlp([6, 32, 32, 16, 1], seed=0)
X_IG = np.random.default_rng(3).normal(size=(10, 6))
BASELINE = np.random.default_rng(4).normal(size=6)


def _f(module, Z):
    with torch.no_grad():
        return module(torch.as_tensor(np.atleast_2d(Z))).numpy()[:, 0]


def test_integrated_gradients_completeness_on_a_torch_mlp():
    W = IntegratedGradients(model=MLP, baseline=BASELINE).fit(X_IG).transform(X_IG)
    gap = _f(MLP, X_IG) - _f(MLP, BASELINE)
    assert np.abs(gap).min() > 1e-3  # completeness is not satisfied trivially
    np.testing.assert_allclose(W.sum(axis=1), gap, rtol=0, atol=1e-3)


@pytest.mark.parametrize(
    ("method", "n_steps", "atol"),
    [
        ("gausslegendre", 20, 1e-6),
        ("riemann_middle", 200, 1e-4),
        ("riemann_trapezoid", 200, 1e-4),
        ("riemann_left", 400, 1e-2),
        ("riemann_right", 400, 1e-2),
    ],
)
def test_every_quadrature_is_complete_and_converges(method, n_steps, atol):
    gap = _f(MLP, X_IG) - _f(MLP, BASELINE)
    errors = []
    for steps in (n_steps // 10, n_steps):
        ig = IntegratedGradients(model=MLP, baseline=BASELINE, n_steps=steps, method=method)
        errors.append(np.abs(ig.fit(X_IG).transform(X_IG).sum(axis=1) - gap).max())
    assert errors[1] < atol
    assert errors[1] < errors[0]


def test_integrated_gradients_of_a_classifier_probability_is_complete():
    module = _tanh_mlp([6, 16, 3], seed=1)
    model = as_model(module, output="probability")
    W = IntegratedGradients(model=model, baseline=BASELINE, target=2).fit(X_IG).transform(X_IG)
    with torch.no_grad():
        p = torch.softmax(module(torch.as_tensor(np.vstack([X_IG, BASELINE]))), dim=1).numpy()
    np.testing.assert_allclose(W.sum(axis=1), p[:-1, 2] - p[-1, 2], rtol=0, atol=1e-6)


def test_gauss_legendre_is_exact_for_a_polynomial():
    # f = sum_d x_d^7: the path integrand has degree 6 in alpha, so 4 Gauss-Legendre nodes
    # (exact to degree 7) give every feature's share x_d^7 - b_d^7 exactly; 3 nodes do not.
    x = np.random.default_rng(5).uniform(-1.5, 1.5, size=(5, 3))
    b = np.array([0.3, -0.8, 1.1])
    exact = x**7 - b**7
    ig = IntegratedGradients(model=Polynomial(degree=7), baseline=b, n_steps=4)
    np.testing.assert_allclose(ig.fit(x).transform(x), exact, rtol=1e-12, atol=1e-12)
    W3 = ig.set_params(n_steps=3).fit(x).transform(x)
    assert np.abs(W3 - exact).max() > 1e-6
    # a quadratic (with interactions) needs a single node
    f = QuadraticInteraction()
    ig = IntegratedGradients(model=f, baseline=b, n_steps=1).fit(x)
    np.testing.assert_allclose(ig.transform(x).sum(axis=1), f(x) - f(b[None]), rtol=1e-12)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_integrated_gradients_rejects_a_non_finite_baseline(bad):
    with pytest.raises(ValueError, match="baseline"):
        IntegratedGradients(model=SINES, baseline=np.array([0.0, bad, 0.0])).fit(X[:, :3])
    with pytest.raises(ValueError, match="baseline"):
        IntegratedGradients(model=SINES, baseline=bad).fit(X[:, :3])


# -- 5. linearity (Agarwal et al. 2021, section 5) -----------------------------------------------


class _Combination:
    """a f + b g with its exact gradient."""

    def __init__(self, a, f, b, g):
        self.a, self.f, self.b, self.g = a, f, b, g

    def __call__(self, Z):
        return self.a * self.f(Z) + self.b * self.g(Z)

    def gradient(self, Z):
        return self.a * self.f.gradient(Z) + self.b * self.g.gradient(Z)


LINEAR_EXPLAINERS = [
    SmoothGrad(noise_scale=0.3, n_samples=16, random_state=7),
    SmoothGrad(noise="uniform", noise_scale=0.3, n_samples=16, random_state=7),
    CLIME(noise_scale=0.3, n_samples=32, random_state=7),
    CLIME(noise_scale=0.3, n_samples=32, alpha=0.05, random_state=7),
    IntegratedGradients(baseline=0.2, n_steps=6),
]

coefficients = st.floats(-5, 5, allow_nan=False, allow_infinity=False)
small_inputs = arrays(
    np.float64,
    st.tuples(st.integers(1, 4), st.just(3)),
    elements=st.floats(-2, 2, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=30, deadline=None)
@given(a=coefficients, b=coefficients, Z=small_inputs)
def test_explanations_are_linear_in_the_model(a, b, Z):
    f, g = SumOfSines(), QuadraticInteraction()
    combined = _Combination(a, f, b, g)
    for explainer in LINEAR_EXPLAINERS:
        W = clone(explainer).set_params(model=combined).fit(Z).transform(Z)
        Wf = clone(explainer).set_params(model=f).fit(Z).transform(Z)
        Wg = clone(explainer).set_params(model=g).fit(Z).transform(Z)
        scale = 1 + np.abs(a * Wf).max() + np.abs(b * Wg).max()
        np.testing.assert_allclose(W, a * Wf + b * Wg, rtol=0, atol=1e-9 * scale)


# -- 6. reproducibility with random_state --------------------------------------------------------

STOCHASTIC = [
    SmoothGrad(noise_scale=0.3, n_samples=12, units="raw"),
    SmoothGrad(noise="uniform", noise_scale=0.3, n_samples=12, units="raw"),
    VarGrad(noise_scale=0.3, n_samples=12, units="raw"),
    CLIME(noise_scale=0.3, n_samples=40, units="raw"),
    CLIME(noise_scale=0.3, n_samples=40, alpha=0.1, units="raw"),
]
MODELS = {"callable": SINES, "torch": _tanh_mlp([D, 8, 1], seed=2)}


@pytest.mark.parametrize("model_name", list(MODELS))
@pytest.mark.parametrize("explainer", STOCHASTIC, ids=repr)
def test_random_state_reproducibility(explainer, model_name):
    model = MODELS[model_name]
    fitted = clone(explainer).set_params(model=model, random_state=0).fit(X)
    W = fitted.transform(X)
    np.testing.assert_array_equal(fitted.transform(X), W)  # transform is repeatable
    refitted = clone(explainer).set_params(model=model, random_state=0).fit(X[:3])
    np.testing.assert_array_equal(refitted.transform(X), W)  # and independent of fit's rows
    other = clone(explainer).set_params(model=model, random_state=1).fit(X).transform(X)
    assert np.abs(other - W).max() > 1e-6
    # a row's attribution is the same alone or in a batch (common random numbers)
    for i in [0, 5]:
        alone = fitted.transform(X[i : i + 1])
        np.testing.assert_allclose(alone[0], W[i], rtol=0, atol=1e-13)
    order = np.random.default_rng(6).permutation(len(X))
    np.testing.assert_allclose(fitted.transform(X[order]), W[order], rtol=0, atol=1e-13)


def test_vargrad_is_the_population_variance_of_the_noisy_gradients():
    # f(x) = sum_j c_j x_j^3 / 3 has gradient c x^2, so at the copies x + eps the gradients are
    # c (x + eps)^2: their variance over the n_samples copies, with divisor n_samples (Adebayo et
    # al.'s VarGrad; n_samples - 1 would give 4/3 of it at n_samples=4), written with numpy here.
    from skexplain.perturbations import GaussianNoise

    c = np.array([1.0, -2.0, 0.5])
    model = as_model(lambda X: (X**3 / 3) @ c, gradient=lambda X: c * X**2)
    X = np.array([[0.3, -1.0, 2.0], [1.5, 0.2, -0.7]])
    W = VarGrad(model=model, noise_scale=0.4, n_samples=4, units="raw", random_state=7)
    W = W.fit(X).transform(X)
    Z = GaussianNoise(scale=0.4).sample(X, 4, random_state=7)  # the same bank, drawn again
    gradients = c * Z**2
    expected = ((gradients - gradients.mean(axis=1, keepdims=True)) ** 2).sum(axis=1) / 4
    np.testing.assert_allclose(W, expected, rtol=1e-12)
    assert not np.allclose(W, gradients.var(axis=1, ddof=1))
