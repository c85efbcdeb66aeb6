"""Tadesse et al. (2024), claims (a)-(c) and Appendix E: ``examples/plot_tadesse_fronts.py``.

The claims (PAPERS.md, section 1; issue 5, must-holds 2 and 5): (a) on the cubic, sin(exp) and
exp functions, every SmoothGrad and C-LIME noise scale is dominated by a property-optimized
explanation (some ``lambda_robust`` at least as good on the gradient-matching faithfulness loss
and on the pairwise robustness loss); (b) SmoothGrad's robustness loss barely moves with its
noise scale on the cubic; (c) raising ``lambda_complex`` lowers complexity and raises the
faithfulness loss monotonically. Every method is scored by the same metric functions.
"""

import numpy as np
import pytest
from _examples import load_example

# The fast configuration: 125 grid points, 0 and 20 values of lambda_robust, 10 noise scales,
# 1,000 noise draws, all four baselines (about 15 s on two shared CPU cores).
FAST = {"n_per_axis": 5, "n_lambdas": 20, "n_deltas": 10, "n_samples": 1000}


@pytest.fixture(scope="module")
def example():
    return load_example("plot_tadesse_fronts")


@pytest.fixture(scope="module")
def synthetic(example):
    return example.synthetic_fronts(random_state=0, **FAST)


def _undominated(result):
    """``[(baseline, delta, faithful, robust)]`` of the points no lambda dominates."""
    out = []
    for label, points in result["baselines"].items():
        for i in np.flatnonzero(~points["dominance"]["dominated"]):
            out.append((label, points["delta"][i], points["faithful"][i], points["robust"][i]))
    return out


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
        assert np.all(dom["witness_robust"] <= points["robust"])
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
    # for gaussian noise): pairwise differences, hence the robustness loss, do not change. Only
    # sampling noise moves it, while delta moves the faithfulness loss over orders of magnitude
    # and lambda_robust moves the front's robustness loss over its whole range.
    flat = example.flatness(synthetic["cubic"], baseline)
    assert flat["baseline_robust"] < 1e-2
    assert flat["baseline_faithful"] > 0.99
    assert flat["front_robust"] > 0.99


@pytest.mark.parametrize("lambda_robust", [0.0, 0.1])
def test_complexity_trades_faithfulness_monotonically(example, lambda_robust):
    result = example.complexity_front(
        lambdas_complex=(0.0, 0.3, 1.0, 3.0, 10.0, 30.0, 60.0), lambda_robust=lambda_robust
    )
    assert np.all(np.diff(result["complexity"]) < 0)
    assert np.all(np.diff(result["faithful"]) > 0)


def test_figure_is_written(example, synthetic, tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "fronts.png"
    example.plot_fronts(synthetic, path)
    assert path.stat().st_size > 10_000
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_printed_fronts_name_every_point(example, synthetic):
    text = example.format_fronts(synthetic)
    assert "NO" not in text.split()
    assert text.count("summary:") == 3


@pytest.mark.slow
def test_tabular_fronts_dominate_smoothgrad_and_clime(example, tmp_path):
    # Appendix E (must-hold 5): MLPs on standardized breast_cancer and wine, 100 test rows.
    result = example.tabular_fronts(random_state=0)
    for dataset in ("breast_cancer", "wine"):
        r = result[dataset]
        assert r["accuracy"] > 0.9
        assert _undominated(r) == []
        assert r["front"]["loss_mismatch"] < 1e-6
    assert "breast_cancer" in example.format_tabular(result)


@pytest.mark.slow
def test_finer_grid_and_another_seed(example):
    # 1,000 grid points (spacing and length scale 1), another noise bank (about 2 minutes; the
    # example's --full sweep, 40 lambdas, 20 noise scales and 5,000 draws, takes about 6).
    result = example.synthetic_fronts(
        random_state=1, n_per_axis=10, n_lambdas=20, n_deltas=10, n_samples=2000
    )
    for function in ("cubic", "sin_exp", "exp"):
        assert _undominated(result[function]) == []
    assert example.flatness(result["cubic"])["baseline_robust"] < 1e-2
