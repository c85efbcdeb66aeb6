"""Tadesse et al. (2024), claims (a)-(c), Figures 1-2 and Appendix E: ``plot_tadesse_fronts``.

The claims (PAPERS.md, section 1; issue 5, must-holds 2 and 5; issue 14, must-hold 1): (a) on the
cubic, sin(exp) and exp functions, every SmoothGrad and C-LIME noise scale is dominated by a
property-optimized explanation (some ``lambda_robust`` at least as good on the gradient-matching
faithfulness loss and on the pairwise robustness loss); (b) SmoothGrad's robustness loss barely
moves with its noise scale on the cubic; (c) raising ``lambda_complex`` lowers complexity and
raises the faithfulness loss monotonically (Figure 2: cubic, exp and quadratic), and no
SmoothGrad or C-LIME setting beats the faithfulness-complexity front. Every method is scored by
the same metric functions. Each claim is checked under the paper's robustness weights (the
negated kernel precision on the authors' 100 grid points, length scale 3) and under the kernel
weights ``S = K`` (125 cell centres, length scale 2).
"""

import numpy as np
import pytest
from _examples import load_example

# The fast configuration: 20 values of lambda_robust besides 0, 10 noise scales, 1,000 noise
# draws, all four baselines (about 15 s per convention on two shared CPU cores).
FAST = {"n_lambdas": 20, "n_deltas": 10, "n_samples": 1000}
WEIGHTS = ("precision", "kernel")


@pytest.fixture(scope="module")
def example():
    return load_example("plot_tadesse_fronts")


@pytest.fixture(scope="module", params=WEIGHTS)
def synthetic(example, request):
    return example.synthetic_fronts(weights=request.param, random_state=0, **FAST)


@pytest.fixture(scope="module")
def figure_2_precision(example):
    return example.complexity_fronts(weights="precision", n_samples=FAST["n_samples"])


@pytest.fixture(scope="module")
def figure_2_kernel(example):
    return example.complexity_fronts(weights="kernel", n_samples=FAST["n_samples"])


@pytest.fixture(scope="module", params=WEIGHTS)
def figure_2(request):
    return request.getfixturevalue(f"figure_2_{request.param}")


def _undominated(result, axis="robust"):
    """``[(baseline, delta, faithful, other)]`` of the points no lambda dominates."""
    out = []
    for label, points in result["baselines"].items():
        for i in np.flatnonzero(~points["dominance"]["dominated"]):
            out.append((label, points["delta"][i], points["faithful"][i], points[axis][i]))
    return out


def test_the_authors_grid(example):
    X = example.paper_grid()
    assert X.shape == (100, 3)
    np.testing.assert_array_equal(np.unique(X), np.linspace(-5, 5, 5))
    # numpy meshgrid order: the second axis varies slowest, so the 25 points left out of the
    # 125 are those with x_2 = 5
    np.testing.assert_array_equal(X[:3], [[-5, -5, -5], [-5, -5, -2.5], [-5, -5, 0]])
    assert set(X[:, 1]) == {-5.0, -2.5, 0.0, 2.5}
    np.testing.assert_array_equal(X[-1], [5, 2.5, 5])


@pytest.mark.parametrize("function", ["cubic", "sin_exp", "exp"])
def test_optimized_front_dominates_every_baseline(synthetic, function):
    result = synthetic[function]
    assert set(result["baselines"]) == {
        "SmoothGrad-gaussian",
        "SmoothGrad-uniform",
        "CLIME-gaussian",
        "CLIME-uniform",
    }
    assert _undominated(result) == []
    for points in result["baselines"].values():
        dom = points["dominance"]
        assert np.all(dom["witness_faithful"] <= points["faithful"])
        assert np.all(dom["witness_other"] <= points["robust"])
    # The optimizer's own losses_ are the metrics' losses, also where the explanations are
    # nearly constant (both centre W before expanding ||W_n - W_n'||^2: no cancellation).
    assert result["front"]["loss_mismatch"] < 1e-8


def test_front_spans_the_trade_off(synthetic):
    # Faithfulness rises and robustness falls along lambda_robust: a front, not a point.
    for function in ("cubic", "sin_exp", "exp"):
        front = synthetic[function]["front"]
        assert front["faithful"][0] == 0.0
        assert np.all(np.diff(front["faithful"]) > 0)
        assert np.all(np.diff(front["robust"]) < 0)
        assert front["robust"][-1] < 1e-6 * front["robust"][0]


@pytest.mark.parametrize("baseline", ["SmoothGrad-gaussian", "SmoothGrad-uniform"])
def test_smoothgrad_robustness_barely_moves_on_the_cubic(example, synthetic, baseline):
    # In expectation SmoothGrad of sum x^3 is 3 x^2 + a constant that grows with delta (3 delta^2
    # for gaussian noise): pairwise differences, hence the robustness loss under either weights
    # (both Laplacians annihilate a constant), do not change. Only sampling noise moves it,
    # while delta moves the faithfulness loss over orders of magnitude and lambda_robust moves
    # the front's robustness loss over its whole range.
    flat = example.flatness(synthetic["cubic"], baseline)
    assert flat["baseline_robust"] < 1e-2
    assert flat["baseline_faithful"] > 0.99
    assert flat["front_robust"] > 0.99


PRECISION_FAITHFULNESS_DIPS = (
    "claim (c) fails under the precision weights with lambda_robust = 0.1 (authors' grid, length "
    "scale 3, 1,000 draws): complexity falls at every step, but the faithfulness loss first "
    "FALLS as lambda_complex grows, cubic 2494 -> 2447 (lambda_complex 0 -> 0.77, then up to "
    "5.8e5), exp 10430 -> 10010 (0 -> 2.68), quadratic 8.771 -> 8.762 (0 -> 0.01): with "
    "negative pair weights the L1 term trades robustness (7.24e4 -> 7.33e4 on the cubic) back "
    "for faithfulness; lambda_robust = 0 (soft thresholding) and the kernel weights hold"
)


@pytest.mark.parametrize(
    "weights, lambda_robust",
    [
        ("precision", 0.0),
        pytest.param(
            "precision",
            0.1,
            marks=pytest.mark.xfail(strict=True, reason=PRECISION_FAITHFULNESS_DIPS),
        ),
        ("kernel", 0.0),
        ("kernel", 0.1),
    ],
)
@pytest.mark.parametrize("function", ["cubic", "exp", "quadratic"])
def test_complexity_trades_faithfulness_monotonically(request, weights, lambda_robust, function):
    front = request.getfixturevalue(f"figure_2_{weights}")[function]["fronts"][lambda_robust]
    assert front["loss_mismatch"] < 1e-8
    assert front["complexity"][-1] > 0  # the sweep stops before every attribution is 0
    assert np.all(np.diff(front["complexity"]) < 0)
    assert np.all(np.diff(front["faithful"]) > 0)


@pytest.mark.parametrize("function", ["cubic", "exp", "quadratic"])
def test_complexity_front_dominates_smoothgrad_and_lime(figure_2, function):
    result = figure_2[function]
    assert set(result["baselines"]) == {"SmoothGrad-gaussian", "CLIME-gaussian"}
    assert _undominated(result, "complexity") == []


def test_figures_are_written(example, synthetic, figure_2, tmp_path):
    pytest.importorskip("matplotlib")
    for name, result in (("fronts", synthetic), ("complexity", figure_2)):
        path = tmp_path / f"{name}.png"
        example.plot_fronts(result, path)
        assert path.stat().st_size > 10_000
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_printed_fronts_name_every_point(example, synthetic, figure_2):
    text = example.format_fronts(synthetic)
    assert "NO" not in text.split()
    assert text.count("summary:") == 3
    text = example.format_complexity(figure_2)
    assert "NO" not in text.split()
    assert text.count("lambda_robust = 0.1 ==") == 3


@pytest.mark.slow
@pytest.mark.parametrize("weights", WEIGHTS)
def test_tabular_fronts_dominate_smoothgrad_and_clime(example, weights):
    # Appendix E (must-hold 5): MLPs on standardized breast_cancer and wine, 100 test rows.
    result = example.tabular_fronts(weights=weights, random_state=0)
    for dataset in ("breast_cancer", "wine"):
        r = result[dataset]
        assert r["accuracy"] > 0.9
        assert _undominated(r) == []
        assert r["front"]["loss_mismatch"] < 1e-6
    assert "breast_cancer" in example.format_tabular(result)


@pytest.mark.slow
def test_the_papers_draws_and_another_seed(example):
    # The authors' 10,000 noise draws, another noise bank, 40 lambdas, precision weights.
    result = example.synthetic_fronts(
        weights="precision", random_state=1, n_lambdas=40, n_deltas=10, n_samples=10000
    )
    for function in ("cubic", "sin_exp", "exp"):
        assert _undominated(result[function]) == []
    assert example.flatness(result["cubic"])["baseline_robust"] < 1e-2


@pytest.mark.slow
def test_finer_grid_and_another_seed(example):
    # Kernel weights on 1,000 grid points (spacing and length scale 1), another noise bank
    # (about 2 minutes; the example's --full --weights kernel sweep, 40 lambdas, 20 noise scales
    # and 10,000 draws, takes longer).
    result = example.synthetic_fronts(
        weights="kernel", random_state=1, n_per_axis=10, n_lambdas=20, n_deltas=10, n_samples=2000
    )
    for function in ("cubic", "sin_exp", "exp"):
        assert _undominated(result[function]) == []
    assert example.flatness(result["cubic"])["baseline_robust"] < 1e-2


# -- claim (d), Figure 5: examples/plot_tadesse_inductive.py ----------------------------------
@pytest.fixture(scope="module")
def inductive():
    return load_example("plot_tadesse_inductive")


def test_the_authors_inductive_draws(inductive):
    X, candidates = inductive.draws(0)
    assert X.shape == candidates.shape == (1000, 3) and X.dtype == np.float64
    assert X.min() >= -5 and X.max() < 5 and not np.allclose(X, candidates)
    assert inductive.N_INDUCING == (100, 129, 167, 215, 278, 359, 464, 599, 774, 1000)
    # the same generator and seed give the same points; another seed others
    np.testing.assert_array_equal(inductive.draws(0)[1], candidates)
    assert not np.allclose(inductive.draws(1)[0], X)


def test_inductive_gap_falls_on_one_seed(inductive):
    # The cubic at noise ratio 0.1, seed 0, four of the authors' ten sizes (about 2 s).
    r = inductive.inductive_gaps(
        ("cubic",), noise_ratios=(0.1,), n_inducing=(100, 215, 464, 1000), seeds=(0,)
    )["cubic", 0.1]
    assert np.all(r["gap"] >= -1e-9 * r["optimum"][:, None])  # the optimum is the minimum
    assert r["falls"] and r["mean_gap"][-1] < 0.2 * r["mean_gap"][0]


# The 5-seed means (quiet machine, about a minute): every function and noise ratio falls from
# N = 100 to 1,000 by 2.8x to 96x, at every step except these, where the mean gap first rises.
INDUCTIVE_BUMPS = {
    ("exp", 0.01): "sum exp(x), noise ratio 0.01: mean gap 2.81e5, 3.04e5, 3.26e5 at N = 100, "
    "129, 167, then falls to 6.25e4 at 1,000",
    ("linear_sin", 0.01): "sum x + sin(3x), noise ratio 0.01: mean gap 1.44e6, 1.69e6, 1.99e6, "
    "2.12e6 at N = 100, 129, 167, 215, then falls to 5.07e5 at 1,000",
}


@pytest.fixture(scope="module")
def inductive_gaps(inductive):
    return inductive.inductive_gaps()


@pytest.mark.slow
@pytest.mark.parametrize(
    "function, noise_ratio",
    [
        pytest.param(
            name,
            ratio,
            marks=[pytest.mark.xfail(strict=True, reason=INDUCTIVE_BUMPS[name, ratio])]
            if (name, ratio) in INDUCTIVE_BUMPS
            else [],
        )
        for name in ("cubic", "sin_exp", "exp", "sine", "linear_sin")
        for ratio in (0.1, 0.01)
    ],
)
def test_claim_d_mean_gap_falls_with_inducing_points(inductive_gaps, function, noise_ratio):
    """Claim (d) as the authors run it: 1,000 test points, the first N of 1,000 other points as
    inducing points, N = 100 ... 1,000, noise ratios 0.1 and 0.01, seeds 0-4, the query's own
    gradient combined with the GP predictive; the gap of the total loss to the transductive
    optimum, averaged over the seeds, falls at every step."""
    r = inductive_gaps[function, noise_ratio]
    assert r["gap"].shape == (5, 10)
    assert np.all(r["gap"] >= -1e-9 * r["optimum"][:, None])
    assert r["mean_gap"][-1] < 0.5 * r["mean_gap"][0]
    assert r["falls"], r["bumps"]
