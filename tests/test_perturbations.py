"""The noise and masking distributions: shapes, the distribution of each draw, torch, validation.

Distribution checks use many draws with a fixed seed and tolerances of several standard errors
(or a goodness-of-fit p-value far below any plausible fluctuation), so they test the sampler's
law, not one lucky seed.
"""

import itertools
from math import comb

import numpy as np
import pytest
import torch
from scipy import stats

from skexplain.perturbations import (
    GaussianNoise,
    NoisyBaseline,
    Perturbation,
    ShapleySubsets,
    SquareRemoval,
    SubsetBaseline,
    UniformBall,
    check_perturbation,
)

D = 5
X = np.random.default_rng(0).normal(size=(3, D))


def _all_perturbations(d=D):
    """One instance of every distribution, each valid for ``d`` features (d = 6 for images)."""
    perturbations = [
        GaussianNoise(scale=0.3),
        UniformBall(radius=0.4),
        UniformBall(radius=0.4, norm=2),
        NoisyBaseline(baseline=0.5, scale=0.2),
        SubsetBaseline(baseline=-1.0, fraction=0.4),
        ShapleySubsets(baseline=0.25),
    ]
    if d == 6:
        perturbations.append(SquareRemoval(image_shape=(2, 3), size=2, baseline=-2.0))
    return perturbations


PERTURBATIONS_6 = _all_perturbations(6)
IDS_6 = [repr(p) for p in PERTURBATIONS_6]


# -- shapes and common random numbers ---------------------------------------------------------


@pytest.mark.parametrize("perturbation", PERTURBATIONS_6, ids=IDS_6)
def test_sample_shape_and_bank_is_shared_by_rows(perturbation):
    X6 = np.random.default_rng(1).normal(size=(4, 6))
    Z = perturbation.sample(X6, 7, random_state=0)
    assert Z.shape == (4, 7, 6)
    assert np.all(np.isfinite(Z))
    # Each row gets the same draws: explaining row 2 alone perturbs it exactly as in the batch.
    alone = perturbation.sample(X6[2:3], 7, random_state=0)
    np.testing.assert_array_equal(alone[0], Z[2])


@pytest.mark.parametrize("perturbation", PERTURBATIONS_6, ids=IDS_6)
def test_same_random_state_gives_same_bank_and_different_seeds_differ(perturbation):
    a = perturbation.draw(50, 6, random_state=3)
    b = perturbation.draw(50, 6, random_state=3)
    c = perturbation.draw(50, 6, random_state=4)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    random_keys = [k for k in a if k != "baseline"]
    assert any(not np.array_equal(a[k], c[k]) for k in random_keys)
    # A RandomState instance is consumed: two draws from one generator differ.
    rng = np.random.RandomState(0)
    first, second = perturbation.draw(50, 6, rng), perturbation.draw(50, 6, rng)
    assert any(not np.array_equal(first[k], second[k]) for k in random_keys)


# -- distributions ----------------------------------------------------------------------------


def test_gaussian_bank_has_mean_zero_and_std_scale():
    scale, m, d = 0.7, 100_000, 4
    noise = GaussianNoise(scale=scale).draw(m, d, random_state=0)["noise"]
    assert noise.shape == (m, d)
    se_mean = scale / np.sqrt(m)
    np.testing.assert_allclose(noise.mean(axis=0), 0.0, atol=5 * se_mean)
    # std of the sample std of a gaussian is about scale / sqrt(2 m)
    np.testing.assert_allclose(noise.std(axis=0), scale, atol=5 * scale / np.sqrt(2 * m))
    # coordinates independent
    corr = np.corrcoef(noise.T)
    np.testing.assert_allclose(corr, np.eye(d), atol=5 / np.sqrt(m))
    # and gaussian (not, say, uniform with the same variance)
    assert stats.kstest(noise[:, 0] / scale, "norm").pvalue > 1e-3
    # apply adds the same noise to every row
    Z = GaussianNoise(scale=scale).apply(X[:, :d], {"noise": noise[:10]})
    np.testing.assert_allclose(Z - X[:, None, :d], np.broadcast_to(noise[:10], Z.shape))


def test_uniform_cube_marginals_are_uniform_within_radius():
    radius, m = 0.3, 50_000
    noise = UniformBall(radius=radius).draw(m, 3, random_state=0)["noise"]
    assert np.abs(noise).max() <= radius
    for j in range(3):
        assert stats.kstest(noise[:, j], stats.uniform(-radius, 2 * radius).cdf).pvalue > 1e-3


@pytest.mark.parametrize("d", [1, 2, 5])
def test_uniform_l2_ball_norm_within_radius_and_norm_to_the_d_uniform(d):
    radius, m = 0.5, 40_000
    noise = UniformBall(radius=radius, norm=2).draw(m, d, random_state=1)["noise"]
    norms = np.linalg.norm(noise, axis=1)
    assert norms.max() <= radius * (1 + 1e-12)
    # Uniform in the ball <=> (||eps|| / r)^d ~ U(0, 1) and the direction is isotropic.
    assert stats.kstest((norms / radius) ** d, "uniform").pvalue > 1e-3
    # E[eps] = 0 and E[eps eps^T] = r^2 / (d + 2) I for the uniform ball.
    np.testing.assert_allclose(noise.mean(axis=0), 0.0, atol=5 * radius / np.sqrt(m))
    second = noise.T @ noise / m
    np.testing.assert_allclose(second, radius**2 / (d + 2) * np.eye(d), atol=0.02 * radius**2)


def test_noisy_baseline_ignores_x_and_centres_on_the_baseline():
    baseline = np.array([0.5, -1.0, 2.0])
    scale, m = 0.2, 50_000
    perturbation = NoisyBaseline(baseline=baseline, scale=scale)
    points = perturbation.draw(m, 3, random_state=0)["points"]
    np.testing.assert_allclose(points.mean(axis=0), baseline, atol=5 * scale / np.sqrt(m))
    np.testing.assert_allclose(points.std(axis=0), scale, atol=5 * scale / np.sqrt(2 * m))
    Z = perturbation.sample(np.array([[10.0, 10.0, 10.0], [-3.0, 0.0, 3.0]]), 5, random_state=0)
    np.testing.assert_array_equal(Z[0], Z[1])  # the input is replaced entirely


@pytest.mark.parametrize(("d", "fraction", "size"), [(5, 0.4, 2), (10, 0.2, 2), (7, 0.01, 1)])
def test_subset_baseline_replaces_exactly_the_stated_number_uniformly(d, fraction, size):
    m = 30_000
    baseline = np.linspace(-1, 1, d) + 10.0  # distinct from every entry of x
    perturbation = SubsetBaseline(baseline=baseline, fraction=fraction)
    bank = perturbation.draw(m, d, random_state=0)
    mask = bank["mask"]
    assert set(np.unique(mask)) <= {0.0, 1.0}
    np.testing.assert_array_equal(mask.sum(axis=1), size)
    # every feature is replaced with probability size / d
    p = size / d
    np.testing.assert_allclose(mask.mean(axis=0), p, atol=5 * np.sqrt(p * (1 - p) / m))
    # perturbed = baseline where masked, x elsewhere
    x = np.random.default_rng(2).normal(size=(1, d))
    Z = perturbation.apply(x, {"mask": mask[:20], "baseline": bank["baseline"]})[0]
    expected = np.where(mask[:20] == 1, baseline, x)
    np.testing.assert_array_equal(Z, expected)


def test_subset_baseline_is_uniform_over_subsets():
    d, m = 4, 24_000
    mask = SubsetBaseline(fraction=0.5).draw(m, d, random_state=5)["mask"]
    codes = mask @ (2 ** np.arange(d))
    subsets = [sum(2**i for i in c) for c in itertools.combinations(range(d), 2)]
    counts = np.array([(codes == s).sum() for s in subsets])
    assert counts.sum() == m
    assert stats.chisquare(counts).pvalue > 1e-3


@pytest.mark.parametrize(("image_shape", "size"), [((5, 6), 2), ((3, 4, 4), 3), ((2, 3, 5), 1)])
def test_square_removal_masks_are_contiguous_squares_over_all_channels(image_shape, size):
    shape = image_shape if len(image_shape) == 3 else (1, *image_shape)
    channels, height, width = shape
    d = channels * height * width
    m = 3000
    mask = SquareRemoval(image_shape=image_shape, size=size).draw(m, d, random_state=0)["mask"]
    assert mask.shape == (m, d)
    np.testing.assert_array_equal(mask.sum(axis=1), size * size * channels)
    cube = mask.reshape(m, channels, height, width)
    # identical in every channel (channels-first flattening)
    np.testing.assert_array_equal(cube, np.broadcast_to(cube[:, :1], cube.shape))
    tops, lefts = [], []
    for square in cube[:, 0]:
        rows = np.flatnonzero(square.any(axis=1))
        cols = np.flatnonzero(square.any(axis=0))
        assert len(rows) == size and rows[-1] - rows[0] == size - 1
        assert len(cols) == size and cols[-1] - cols[0] == size - 1
        block = np.zeros((height, width))
        block[rows[0] : rows[0] + size, cols[0] : cols[0] + size] = 1
        np.testing.assert_array_equal(square, block)
        tops.append(rows[0])
        lefts.append(cols[0])
    # every position that fits is used, about equally often
    positions = np.array(tops) * width + np.array(lefts)
    allowed = [
        t * width + left for t in range(height - size + 1) for left in range(width - size + 1)
    ]
    counts = np.array([(positions == p).sum() for p in allowed])
    assert counts.sum() == m
    assert stats.chisquare(counts).pvalue > 1e-3


@pytest.mark.parametrize("d", [2, 3, 6, 10])
def test_shapley_subset_sizes_follow_the_shapley_kernel(d):
    m = 40_000
    mask = ShapleySubsets().draw(m, d, random_state=0)["mask"]
    sizes = mask.sum(axis=1).astype(int)
    assert sizes.min() >= 1 and sizes.max() <= d - 1
    s = np.arange(1, d)
    # The Shapley kernel weighs a subset of size s by (d - 1) / (C(d, s) s (d - s)); there are
    # C(d, s) of them, so sizes have probability proportional to (d - 1) / (s (d - s)).
    kernel = np.array([(d - 1) / (comb(d, k) * k * (d - k)) for k in s])
    p = kernel * np.array([comb(d, k) for k in s])
    p /= p.sum()
    counts = np.bincount(sizes, minlength=d)[1:]
    if d == 2:
        assert counts.tolist() == [m]
    else:
        assert stats.chisquare(counts, p * m).pvalue > 1e-3
    # within a size, every feature equally likely to be replaced
    for k in s:
        rows = mask[sizes == k]
        freq = rows.mean(axis=0)
        np.testing.assert_allclose(freq, k / d, atol=6 * np.sqrt(0.25 / len(rows)))


def test_mask_perturbation_gives_real_valued_infidelity_perturbation():
    # I = x - perturbed = z * (x - baseline) (module docstring; Yeh et al. 2019)
    baseline = np.array([1.0, 2.0, 3.0, 4.0])
    x = np.array([[5.0, -1.0, 0.5, 4.0]])
    perturbation = SubsetBaseline(baseline=baseline, fraction=0.5)
    bank = perturbation.draw(10, 4, random_state=0)
    I = x[:, None] - perturbation.apply(x, bank)
    np.testing.assert_allclose(I[0], bank["mask"] * (x - baseline))


# -- torch ------------------------------------------------------------------------------------


@pytest.mark.parametrize("perturbation", PERTURBATIONS_6, ids=IDS_6)
def test_apply_on_torch_tensors_matches_numpy(perturbation):
    X6 = np.random.default_rng(3).normal(size=(4, 6))
    bank = perturbation.draw(9, 6, random_state=0)
    expected = perturbation.apply(X6, bank)
    got = perturbation.apply(torch.as_tensor(X6, dtype=torch.float64), bank)
    assert torch.is_tensor(got) and got.dtype == torch.float64
    np.testing.assert_allclose(got.numpy(), np.asarray(expected), rtol=0, atol=1e-15)
    got32 = perturbation.apply(torch.as_tensor(X6, dtype=torch.float32), bank)
    assert got32.dtype == torch.float32 and tuple(got32.shape) == (4, 9, 6)
    np.testing.assert_allclose(got32.numpy(), np.asarray(expected), rtol=1e-6, atol=1e-6)


# -- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("perturbation", "message"),
    [
        (GaussianNoise(scale=0.0), "scale"),
        (GaussianNoise(scale=-1.0), "scale"),
        (GaussianNoise(scale=np.nan), "scale"),
        (GaussianNoise(scale=np.inf), "scale"),
        (UniformBall(radius=0.0), "radius"),
        (UniformBall(radius=0.1, norm=1), "norm"),
        (NoisyBaseline(scale=-0.2), "scale"),
        (SubsetBaseline(fraction=1.5), "fraction"),
        (SubsetBaseline(fraction=0.0), "fraction"),
        (SubsetBaseline(baseline=np.zeros(3)), "baseline"),
        (SquareRemoval(image_shape=(3, 3)), "image_shape"),  # 9 pixels, 10 features
        (SquareRemoval(image_shape=(2, 5), size=3), "size"),
        (SquareRemoval(image_shape=(2, 5), size=0), "size"),
    ],
    ids=repr,
)
def test_invalid_parameters_raise_value_error_naming_them(perturbation, message):
    with pytest.raises(ValueError, match=message):
        perturbation.draw(5, 10, random_state=0)


@pytest.mark.parametrize(
    "perturbation",
    [GaussianNoise(scale="0.1"), GaussianNoise(scale=True), UniformBall(radius=None)],
    ids=repr,
)
def test_non_numeric_scale_raises_type_error(perturbation):
    with pytest.raises(TypeError, match="scale|radius"):
        perturbation.draw(5, 3, random_state=0)


def test_shapley_subsets_need_two_features():
    with pytest.raises(ValueError, match="at least 2 features"):
        ShapleySubsets().draw(5, 1, random_state=0)


@pytest.mark.parametrize("n_samples", [0, -3])
def test_non_positive_n_samples_raise(n_samples):
    with pytest.raises(ValueError, match="n_samples"):
        GaussianNoise().draw(n_samples, 3, random_state=0)
    with pytest.raises(TypeError, match="n_samples"):
        GaussianNoise().draw(2.5, 3, random_state=0)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("cls", [SubsetBaseline, ShapleySubsets, NoisyBaseline])
def test_non_finite_baseline_is_rejected_scalar_or_array(cls, bad):
    # An array baseline with a NaN is rejected; a scalar NaN must be too, not broadcast silently.
    with pytest.raises(ValueError, match="baseline"):
        cls(baseline=np.array([0.0, bad, 0.0])).draw(5, 3, random_state=0)
    with pytest.raises(ValueError, match="baseline"):
        cls(baseline=bad).draw(5, 3, random_state=0)


def test_check_perturbation_names_and_errors():
    assert isinstance(check_perturbation("gaussian"), GaussianNoise)
    assert isinstance(check_perturbation("uniform"), UniformBall)
    assert isinstance(check_perturbation("noisy_baseline"), NoisyBaseline)
    assert isinstance(check_perturbation("subset"), SubsetBaseline)
    assert isinstance(check_perturbation("shapley"), ShapleySubsets)
    instance = GaussianNoise(scale=2.0)
    assert check_perturbation(instance) is instance
    with pytest.raises(ValueError, match="noise_perturbation"):
        check_perturbation("gausian", name="noise_perturbation")
    with pytest.raises(ValueError, match="perturbation"):
        check_perturbation(0.1)


def test_equality_compares_parameters():
    assert GaussianNoise(scale=0.2) == GaussianNoise(scale=0.2)
    assert GaussianNoise(scale=0.2) != GaussianNoise(scale=0.3)
    assert SubsetBaseline(baseline=np.ones(3)) == SubsetBaseline(baseline=np.ones(3))
    assert SubsetBaseline(baseline=np.ones(3)) != SubsetBaseline(baseline=np.zeros(3))
    assert GaussianNoise(scale=0.2) != UniformBall(radius=0.2)
    assert isinstance(GaussianNoise(), Perturbation)


# -- perturbations as scikit-learn parameters -------------------------------------------------
def test_perturbation_params_are_tunable_in_a_grid_search():
    """A perturbation held by an explainer is a nested estimator: ``perturbation__scale``."""
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV

    from skexplain import InfidelityOptimal
    from skexplain.functions import SumOfSines
    from skexplain.metrics import make_explanation_scorer

    X = np.random.default_rng(0).uniform(-2, 2, size=(12, 3))
    noise = GaussianNoise(scale=0.1)
    explainer = InfidelityOptimal(
        SumOfSines(), perturbation=noise, n_samples=400, units="raw", random_state=0
    )
    assert explainer.get_params()["perturbation__scale"] == 0.1
    copy = clone(explainer)
    assert copy.perturbation is not noise and copy.perturbation == noise
    copy.set_params(perturbation__scale=0.7)
    assert copy.perturbation.scale == 0.7 and noise.scale == 0.1  # the user's object untouched
    # Scored by the infidelity of noise of scale 0.7: the explainer optimal for that noise wins
    # (InfidelityOptimal is the least-squares optimum of the infidelity of its perturbation).
    scorer = make_explanation_scorer(
        "infidelity", perturbation=GaussianNoise(scale=0.7), n_samples=400
    )
    search = GridSearchCV(
        explainer, {"perturbation__scale": [0.05, 0.7, 2.0]}, scoring=scorer, cv=3
    ).fit(X)
    assert search.best_params_ == {"perturbation__scale": 0.7}
    scores = search.cv_results_["mean_test_score"]
    assert len(set(np.round(scores, 10))) == 3  # the parameter reached the draws
    assert search.best_estimator_.perturbation_.scale == 0.7
    assert noise.scale == 0.1


def test_perturbation_params_reach_the_aggregator_and_round_trip():
    import pickle

    from sklearn.base import clone

    from skexplain import AggregatingExplainer, Gradient, InputXGradient
    from skexplain.functions import SumOfSines

    agg = AggregatingExplainer(
        [("grad", Gradient()), ("ixg", InputXGradient())],
        model=SumOfSines(),
        metric_params={"infidelity": {"perturbation": SubsetBaseline(fraction=0.2)}},
    )
    copy = clone(agg)
    perturbation = copy.get_params()["metric_params"]["infidelity"]["perturbation"]
    assert perturbation == SubsetBaseline(fraction=0.2)
    assert perturbation is not agg.metric_params["infidelity"]["perturbation"]
    agg.set_params(metric_params={"infidelity": {"perturbation": SubsetBaseline(fraction=0.5)}})
    assert agg.metric_params["infidelity"]["perturbation"].fraction == 0.5
    for p in PERTURBATIONS_6:
        assert clone(p) == p and clone(p) is not p
        assert pickle.loads(pickle.dumps(p)) == p
        assert repr(pickle.loads(pickle.dumps(p))) == repr(p)
        params = p.get_params()
        assert p.set_params(**params) is p and p.get_params() == params
    with pytest.raises(ValueError, match="Invalid parameter 'sigma' for estimator GaussianNoise"):
        GaussianNoise().set_params(sigma=1.0)
