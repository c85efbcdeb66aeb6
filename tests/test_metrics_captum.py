"""Captum as the oracle: infidelity and max-sensitivity on identical perturbation draws.

Captum's metrics repeat every input ``n_perturb_samples`` times with ``repeat_interleave`` (row 0
``k`` times, then row 1, ...) and, when ``max_examples_per_batch`` is set, walk through the
samples in chunks of ``max_examples_per_batch // n_rows`` samples for all rows at once. The
``_Draws`` feeder below hands out the columns of our explicit ``(n, m, d)`` draws in exactly that
order, and checks that Captum asked for what we think it asked for.
"""

import numpy as np
import pytest
import torch

captum_metrics = pytest.importorskip("captum.metrics")
captum_attr = pytest.importorskip("captum.attr")

import skexplain._engine  # noqa: E402
from skexplain import Gradient, InputXGradient, IntegratedGradients, SmoothGrad  # noqa: E402
from skexplain.metrics import infidelity, max_sensitivity  # noqa: E402
from skexplain.models import as_model  # noqa: E402
from skexplain.perturbations import (  # noqa: E402
    GaussianNoise,
    NoisyBaseline,
    ShapleySubsets,
    SubsetBaseline,
    UniformBall,
)

pytestmark = pytest.mark.filterwarnings("ignore:Input Tensor 0 did not already require gradients")

N_ROWS, N_FEATURES, N_OUTPUTS, N_DRAWS = 7, 10, 3, 12
RTOL, ATOL = 1e-6, 1e-14


@pytest.fixture(scope="module")
def module():
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(N_FEATURES, 16),
        torch.nn.Tanh(),
        torch.nn.Linear(16, 16),
        torch.nn.Softplus(),
        torch.nn.Linear(16, N_OUTPUTS),
    ).double()
    with torch.no_grad():  # steeper than the default init, so the predicted class varies by row
        net[0].weight.mul_(2.0)
        net[2].weight.mul_(3.0)
        net[4].weight.mul_(3.0)
        net[4].bias.zero_()
    return net.eval()


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).normal(size=(N_ROWS, N_FEATURES))


class _Draws:
    """Hands Captum the columns of explicit draws ``P`` (n, m, d) in the order it asks for them."""

    def __init__(self, X, P):
        self.X = torch.as_tensor(X)
        self.P = torch.as_tensor(np.ascontiguousarray(P))
        self.offset = 0

    def next(self, expanded):
        n, m, d = self.P.shape
        k = expanded.shape[0] // n
        # Captum expands with repeat_interleave: row i fills entries i*k .. i*k + k - 1.
        assert expanded.shape == (n * k, d)
        assert torch.equal(expanded, self.X.repeat_interleave(k, dim=0))
        assert self.offset + k <= m
        block = self.P[:, self.offset : self.offset + k].reshape(n * k, d)
        self.offset += k
        return block

    def infidelity_func(self, inputs):
        perturbed = self.next(inputs)
        return inputs - perturbed, perturbed  # (I, x - I): Captum's (perturbation, input) pair

    def sensitivity_func(self, inputs, perturb_radius):
        return self.next(inputs)

    def check_used_all(self):
        assert self.offset == self.P.shape[1]


def _perturbations(kind, X):
    """Perturbed inputs (n, m, d) of several kinds, drawn with skexplain.perturbations."""
    n, d = X.shape
    if kind == "gaussian":
        return GaussianNoise(scale=0.3).sample(X, N_DRAWS, random_state=1)
    if kind == "subset_to_baseline":
        return SubsetBaseline(baseline=X.mean(axis=0), fraction=0.3).sample(X, N_DRAWS, 2)
    if kind == "noisy_baseline":
        return NoisyBaseline(baseline=0.0, scale=0.2).sample(X, N_DRAWS, random_state=3)
    if kind == "shapley_subsets":
        return ShapleySubsets(baseline=0.0).sample(X, N_DRAWS, random_state=4)
    if kind == "independent_per_row":  # a different bank for every row: catches row mix-ups
        return np.stack(
            [GaussianNoise(scale=0.5).sample(X[i : i + 1], N_DRAWS, 10 + i)[0] for i in range(n)]
        )
    raise AssertionError(kind)


def _targets(kind):
    if kind == "int":
        return 1, 1
    rows = np.arange(N_ROWS) % N_OUTPUTS
    return rows, torch.as_tensor(rows)


# -- infidelity ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kind",
    ["gaussian", "subset_to_baseline", "noisy_baseline", "shapley_subsets", "independent_per_row"],
)
@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize(
    "attribution, target_kind, max_examples_per_batch, batch_size",
    [
        ("gradient", "int", None, None),
        # batch_size=25: our engine runs 25 // 12 = 2 rows per chunk, Captum 5 draws per chunk.
        ("gradient", "per_row", 5 * N_ROWS, 25),
        ("random", "per_row", None, 25),
        ("zero", "int", 5 * N_ROWS, None),  # normalize: beta = 0 / 0 -> 0 (safe division)
    ],
)
def test_infidelity_equals_captum_on_the_same_draws(
    module, X, kind, normalize, target_kind, attribution, max_examples_per_batch, batch_size
):
    ours_target, captum_target = _targets(target_kind)
    if attribution == "gradient":
        if target_kind == "int":
            A = Gradient(model=module, target=ours_target).fit(X).transform(X)
        else:
            A = np.stack([Gradient(model=module, target=t).fit(X).transform(X) for t in range(3)])
            A = A[ours_target, np.arange(N_ROWS)]
    elif attribution == "random":
        A = np.random.default_rng(5).normal(size=X.shape)
    else:
        A = np.zeros(X.shape)
    P = np.array(_perturbations(kind, X))
    model = module if batch_size is None else as_model(module, batch_size=batch_size)

    ours = infidelity(model, X, A, target=ours_target, perturbations=P, normalize=normalize)

    draws = _Draws(X, P)
    theirs = captum_metrics.infidelity(
        module,
        draws.infidelity_func,
        torch.as_tensor(X),
        torch.as_tensor(A),
        target=captum_target,
        n_perturb_samples=N_DRAWS,
        max_examples_per_batch=max_examples_per_batch,
        normalize=normalize,
    )
    draws.check_used_all()
    assert ours.shape == (N_ROWS,)
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=RTOL, atol=ATOL)
    assert np.all(ours > 0)  # not a vacuous comparison of zeros


def test_uneven_captum_chunks_are_fed_in_order(module, X):
    """m = 12 in chunks of 5: Captum asks for 5, 5, then 2 samples per row."""
    P = np.array(_perturbations("independent_per_row", X))
    draws = _Draws(X, P)
    asked = []

    def recording(inputs):
        asked.append(inputs.shape[0] // N_ROWS)
        return draws.infidelity_func(inputs)

    captum_metrics.infidelity(
        module,
        recording,
        torch.as_tensor(X),
        torch.zeros(X.shape, dtype=torch.float64),
        target=0,
        n_perturb_samples=N_DRAWS,
        max_examples_per_batch=5 * N_ROWS,
    )
    assert asked == [5, 5, 2]


def test_infidelity_default_target_and_quadratic_form_equal_captum(module, X):
    """target=None explains each row's predicted class; with one member the quadratic form is
    the infidelity itself."""
    with torch.no_grad():
        predicted = module(torch.as_tensor(X)).argmax(dim=1)
    assert len(set(predicted.tolist())) > 1
    A = np.random.default_rng(8).normal(size=X.shape)
    P = np.array(_perturbations("independent_per_row", X))
    draws = _Draws(X, P)
    theirs = captum_metrics.infidelity(
        module,
        draws.infidelity_func,
        torch.as_tensor(X),
        torch.as_tensor(A),
        target=predicted,
        n_perturb_samples=N_DRAWS,
    ).numpy()
    np.testing.assert_allclose(infidelity(module, X, A, perturbations=P), theirs, rtol=RTOL)
    Q = infidelity(module, X, A[:, None], perturbations=P, return_quadratic=True)
    np.testing.assert_allclose(Q[:, 0, 0], theirs, rtol=RTOL)


# -- max-sensitivity ----------------------------------------------------------------------------
def _saliency(module):
    saliency = captum_attr.Saliency(module)

    def explain(inputs, target):
        return saliency.attribute(inputs, target=target, abs=False)

    return explain


def _captum_smoothgrad(module, bank):
    """SmoothGrad with skexplain's noise bank: Captum's Saliency averaged over the same draws."""
    saliency = captum_attr.Saliency(module)
    noise = torch.as_tensor(bank["noise"])
    m = noise.shape[0]

    def explain(inputs, target):
        if isinstance(inputs, tuple):  # Captum passes the unperturbed inputs as a 1-tuple ...
            return (explain(inputs[0], target),)  # ... and expects a tuple back
        n, d = inputs.shape
        noisy = (inputs[:, None, :] + noise[None]).reshape(n * m, d)
        if torch.is_tensor(target) and target.numel() > 1:
            target = target.repeat_interleave(m)
        grads = saliency.attribute(noisy, target=target, abs=False)
        return grads.reshape(n, m, d).mean(dim=1)

    return explain


def _captum_integrated_gradients(module, baseline, n_steps):
    ig = captum_attr.IntegratedGradients(module)
    baselines = torch.as_tensor(baseline)[None]

    def explain(inputs, target):
        return ig.attribute(
            inputs, baselines=baselines, target=target, n_steps=n_steps, method="gausslegendre"
        )

    return explain


def _captum_input_x_gradient(module):
    ixg = captum_attr.InputXGradient(module)
    return lambda inputs, target: ixg.attribute(inputs, target=target)


@pytest.mark.parametrize("explainer_kind", ["gradient", "input_x_gradient", "ig", "smoothgrad"])
@pytest.mark.parametrize(
    "target_kind, kind, max_examples_per_batch, chunked",
    [("int", "uniform", None, False), ("per_row", "independent_per_row", 5 * N_ROWS, True)],
)
def test_max_sensitivity_equals_captum_on_the_same_draws(
    module, X, explainer_kind, target_kind, kind, max_examples_per_batch, chunked, monkeypatch
):
    ours_target, captum_target = _targets(target_kind)
    model = module
    if chunked:  # 2 rows re-explained per call, and model queries of at most 5 inputs
        monkeypatch.setattr(skexplain._engine, "EXPLAIN_BATCH_SIZE", 2 * N_DRAWS)
        model = as_model(module, batch_size=5)
    if target_kind == "per_row":
        # Explainers take one target for all rows, or None (each row's predicted class, kept for
        # its perturbed copies): give Captum the predicted classes to compare the per-row path.
        ours_target = None
        with torch.no_grad():
            captum_target = module(torch.as_tensor(X)).argmax(dim=1)
        assert len(set(captum_target.tolist())) > 1
    baseline = np.linspace(-0.5, 0.5, N_FEATURES)
    if explainer_kind == "gradient":
        explainer = Gradient(model=model, target=ours_target)
        theirs_func = _saliency(module)
    elif explainer_kind == "input_x_gradient":
        explainer = InputXGradient(model=model, target=ours_target)
        theirs_func = _captum_input_x_gradient(module)
    elif explainer_kind == "ig":
        explainer = IntegratedGradients(
            model=model, target=ours_target, baseline=baseline, n_steps=16, method="gausslegendre"
        )
        theirs_func = _captum_integrated_gradients(module, baseline, 16)
    else:
        explainer = SmoothGrad(
            model=model,
            target=ours_target,
            noise_scale=0.2,
            n_samples=8,
            units="raw",
            random_state=0,
        )
        # The bank SmoothGrad draws on every call: one check_random_state(random_state) per call.
        bank = GaussianNoise(scale=0.2).draw(8, N_FEATURES, np.random.RandomState(0))
        theirs_func = _captum_smoothgrad(module, bank)
    explainer.fit(X)
    if kind == "uniform":
        P = np.array(UniformBall(radius=0.2, norm="inf").sample(X, N_DRAWS, random_state=6))
    else:
        P = np.array(_perturbations("independent_per_row", X))

    ours = max_sensitivity(explainer, X, perturbations=P, relative=True)

    draws = _Draws(X, P)
    theirs = captum_metrics.sensitivity_max(
        theirs_func,
        torch.as_tensor(X),
        perturb_func=draws.sensitivity_func,
        n_perturb_samples=N_DRAWS,
        max_examples_per_batch=max_examples_per_batch,
        target=captum_target,
    )
    draws.check_used_all()
    assert ours.shape == (N_ROWS,)
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=RTOL, atol=ATOL)
    assert np.all(ours > 0)


def test_smoothgrad_oracle_reproduces_our_smoothgrad(module, X):
    """The Captum-side SmoothGrad of the test above is our SmoothGrad, not a lookalike."""
    ours = SmoothGrad(
        model=module, target=2, noise_scale=0.2, n_samples=8, units="raw", random_state=0
    )
    bank = GaussianNoise(scale=0.2).draw(8, N_FEATURES, np.random.RandomState(0))
    theirs = _captum_smoothgrad(module, bank)(torch.as_tensor(X), 2)
    np.testing.assert_allclose(ours.fit(X).transform(X), theirs.numpy(), rtol=1e-10)


def test_absolute_max_sensitivity_is_captum_times_the_norm_at_x(module, X):
    """relative=False drops Captum's division by ||phi(x)||."""
    explainer = Gradient(model=module, target=0).fit(X)
    P = np.array(UniformBall(radius=0.2).sample(X, N_DRAWS, random_state=7))
    draws = _Draws(X, P)
    theirs = captum_metrics.sensitivity_max(
        _saliency(module),
        torch.as_tensor(X),
        perturb_func=draws.sensitivity_func,
        n_perturb_samples=N_DRAWS,
        target=0,
    ).numpy()
    norms = np.linalg.norm(explainer.transform(X), axis=1)
    ours = max_sensitivity(explainer, X, perturbations=P, relative=False)
    np.testing.assert_allclose(ours, theirs * norms, rtol=RTOL)
