"""Decker et al. (2024) claims on tabular data (issues 4 and 14), through the example.

The example ``examples/plot_decker_aggregation.py`` trains a small ReLU network on breast_cancer
and on wine, fits the aggregation weights on ``m_agg = 50`` metric samples and evaluates every
method on ``m_eval = 200`` fresh ones, under the paper's conventions passed explicitly (absolute
max-normalization, the paper's AGG_var and metric settings, fresh explainer noise). The claims,
from the means over the explained rows:

(a) AGG_robust has the lowest SENS_AVG and SENS_MAX of the members, AGG_mean and AGG_var;
(b) AGG_faith has the lowest INFD and the highest FCOR of the same;
(c) AGG_opt is first or second of all methods on every column.

The sensitivity claims are checked two ways: ``"l2"`` (absolute, SENS_AVG squared: the metric
the weights minimize) and ``"quantus"`` (relative and not squared, as the paper's evaluation
with Quantus scores them). Two protocols: the optimized aggregates' weights fixed at the row
(default run: ``N_FAST`` rows; slow: the example's ``--full`` rows), and re-fitted at every
perturbed copy (slow: ``N_REFIT`` rows), the paper's protocol for claim (c) with Quantus' scores.

Where a claim does not hold, its assertion is marked ``xfail(strict=True)`` with the numbers.
With the weights fixed at the row, (a) and (b) hold on both datasets and both scorings, and (c)
fails (AGG_opt ranks third to fifth); with the weights re-fitted at every copy, (b) holds and
(a) and (c) fail: AGG_robust is about twice as sensitive as SmoothGrad, AGG_opt ranks sixth to
ninth on the sensitivities.
"""

import functools

import numpy as np
import pytest
import torch
from _examples import load_example

from skexplain import AggregatingExplainer, AttributionAggregator, Gradient, SmoothGrad
from skexplain.aggregation import normalize_attributions
from skexplain.functions import SumOfSines
from skexplain.metrics import avg_sensitivity, max_sensitivity
from skexplain.perturbations import UniformBall

N_FAST = 10
N_REFIT = 20


def _example():
    return load_example("plot_decker_aggregation")


@functools.cache
def _result(dataset, n_rows, sensitivity_weights="fixed"):
    return _example().run(
        dataset, n_rows=n_rows, random_state=0, sensitivity_weights=sensitivity_weights
    )


def _check(result, claim):
    sensitivity, key = claim.split("/")
    holds, numbers = _example().claims(result, sensitivity)[key]
    settings = result["settings"]
    assert holds, (
        f"{settings['dataset']}, {settings['n_rows']} rows, weights "
        f"{settings['sensitivity_weights']}, claim {claim}: {numbers}"
    )


CLAIMS = (
    "l2/a:SENS_AVG",
    "l2/a:SENS_MAX",
    "l2/b:INFD",
    "l2/b:FCOR",
    "l2/c:SENS_AVG",
    "l2/c:SENS_MAX",
    "l2/c:INFD",
    "l2/c:FCOR",
    "quantus/a:SENS_AVG",
    "quantus/a:SENS_MAX",
    "quantus/c:SENS_AVG",
    "quantus/c:SENS_MAX",
)

# Claims that do not hold, with the numbers (means over the rows; see the example's notes).
# (a) and (b) hold everywhere; (c) fails: AGG_opt, which weighs the two normalized quadratic
# forms equally, lands between AGG_robust and AGG_faith, third to fifth, rarely second.
FAST_FAILS = {
    ("breast_cancer", "l2/c:SENS_AVG"): "AGG_opt 0.01036 ranks 3; AGG_robust 0.003992, "
    "SmoothGrad 0.007613",
    ("breast_cancer", "l2/c:SENS_MAX"): "AGG_opt 0.1996 ranks 3; AGG_robust 0.1368, "
    "SmoothGrad 0.1693",
    ("breast_cancer", "l2/c:INFD"): "AGG_opt 0.7853 ranks 3; AGG_faith 0.7414, InputxGrad 0.7821",
    ("breast_cancer", "quantus/c:SENS_AVG"): "AGG_opt 0.04374 ranks 4; AGG_robust 0.02121, "
    "SmoothGrad 0.024",
    ("breast_cancer", "quantus/c:SENS_MAX"): "AGG_opt 0.0958 ranks 5; AGG_robust 0.05937, "
    "SmoothGrad 0.06225",
    ("wine", "l2/c:SENS_AVG"): "AGG_opt 0.005782 ranks 4; AGG_robust 0.001996, SmoothGrad 0.002977",
    ("wine", "l2/c:SENS_MAX"): "AGG_opt 0.1375 ranks 4; AGG_robust 0.1025, SmoothGrad 0.114",
    ("wine", "l2/c:INFD"): "AGG_opt 0.3942 ranks 4; AGG_faith 0.2979, InputxGrad 0.3012",
    ("wine", "l2/c:FCOR"): "AGG_opt 0.9062 ranks 4; AGG_faith 0.931, InputxGrad 0.9289",
    ("wine", "quantus/c:SENS_AVG"): "AGG_opt 0.0436 ranks 5; AGG_robust 0.02077, SmoothGrad 0.0237",
    ("wine", "quantus/c:SENS_MAX"): "AGG_opt 0.08544 ranks 4; AGG_robust 0.05649, "
    "SmoothGrad 0.05721",
}
SLOW_FAILS = {
    (
        "breast_cancer",
        "l2/c:SENS_AVG",
    ): "AGG_opt 0.01149 ranks 3; AGG_robust 0.005022, SmoothGrad 0.007105",
    (
        "breast_cancer",
        "l2/c:SENS_MAX",
    ): "AGG_opt 0.1902 ranks 3; AGG_robust 0.1424, SmoothGrad 0.1625",
    ("breast_cancer", "l2/c:INFD"): "AGG_opt 0.6436 ranks 4; AGG_faith 0.5887, InputxGrad 0.5979",
    ("breast_cancer", "l2/c:FCOR"): "AGG_opt 0.693 ranks 4; AGG_faith 0.7376, InputxGrad 0.7077",
    (
        "breast_cancer",
        "quantus/c:SENS_AVG",
    ): "AGG_opt 0.04924 ranks 4; AGG_robust 0.02523, SmoothGrad 0.02702",
    (
        "breast_cancer",
        "quantus/c:SENS_MAX",
    ): "AGG_opt 0.0947 ranks 4; AGG_robust 0.06338, SmoothGrad 0.06546",
    ("wine", "l2/c:SENS_AVG"): "AGG_opt 0.006113 ranks 3; AGG_robust 0.002178, SmoothGrad 0.003449",
    ("wine", "l2/c:SENS_MAX"): "AGG_opt 0.1454 ranks 4; AGG_robust 0.1045, SmoothGrad 0.1279",
    ("wine", "l2/c:INFD"): "AGG_opt 0.5748 ranks 4; AGG_faith 0.4865, InputxGrad 0.5016",
    ("wine", "l2/c:FCOR"): "AGG_opt 0.8272 ranks 4; AGG_faith 0.8728, InputxGrad 0.8644",
    (
        "wine",
        "quantus/c:SENS_AVG",
    ): "AGG_opt 0.04453 ranks 5; AGG_robust 0.02168, SmoothGrad 0.02424",
    (
        "wine",
        "quantus/c:SENS_MAX",
    ): "AGG_opt 0.09002 ranks 4; AGG_robust 0.05623, SmoothGrad 0.06269",
}
# Weights re-fitted at every copy (the paper's protocol with Quantus' scores): (a) fails too,
# the weights' estimation noise at the copies makes the optimized aggregates less robust than
# SmoothGrad.
REFIT_FAILS = {
    ("breast_cancer", "l2/a:SENS_AVG"): "AGG_robust 0.01763, best other SmoothGrad 0.006674",
    ("breast_cancer", "l2/a:SENS_MAX"): "AGG_robust 0.2837, best other SmoothGrad 0.153",
    (
        "breast_cancer",
        "l2/c:SENS_AVG",
    ): "AGG_opt 0.0306 ranks 6; SmoothGrad 0.006674, AGG_mean 0.01683",
    ("breast_cancer", "l2/c:SENS_MAX"): "AGG_opt 0.3716 ranks 8; SmoothGrad 0.153, C-LIME 0.2127",
    ("breast_cancer", "l2/c:INFD"): "AGG_opt 0.5891 ranks 4; AGG_faith 0.5352, InputxGrad 0.5619",
    ("breast_cancer", "quantus/a:SENS_AVG"): "AGG_robust 0.04615, best other SmoothGrad 0.02384",
    ("breast_cancer", "quantus/a:SENS_MAX"): "AGG_robust 0.1225, best other SmoothGrad 0.05817",
    (
        "breast_cancer",
        "quantus/c:SENS_AVG",
    ): "AGG_opt 0.07396 ranks 6; SmoothGrad 0.02384, Grad 0.03313",
    (
        "breast_cancer",
        "quantus/c:SENS_MAX",
    ): "AGG_opt 0.1797 ranks 8; SmoothGrad 0.05817, C-LIME 0.08247",
    ("wine", "l2/a:SENS_AVG"): "AGG_robust 0.01147, best other SmoothGrad 0.002728",
    ("wine", "l2/a:SENS_MAX"): "AGG_robust 0.1776, best other SmoothGrad 0.1085",
    ("wine", "l2/c:SENS_AVG"): "AGG_opt 0.02017 ranks 8; SmoothGrad 0.002728, C-LIME 0.004812",
    ("wine", "l2/c:SENS_MAX"): "AGG_opt 0.2916 ranks 9; SmoothGrad 0.1085, C-LIME 0.1203",
    ("wine", "l2/c:INFD"): "AGG_opt 0.456 ranks 4; AGG_faith 0.3499, InputxGrad 0.3515",
    ("wine", "l2/c:FCOR"): "AGG_opt 0.8522 ranks 4; AGG_faith 0.8961, InputxGrad 0.8945",
    ("wine", "quantus/a:SENS_AVG"): "AGG_robust 0.04379, best other SmoothGrad 0.02231",
    ("wine", "quantus/a:SENS_MAX"): "AGG_robust 0.09772, best other SmoothGrad 0.05395",
    ("wine", "quantus/c:SENS_AVG"): "AGG_opt 0.06953 ranks 8; SmoothGrad 0.02231, Grad 0.02592",
    ("wine", "quantus/c:SENS_MAX"): "AGG_opt 0.1755 ranks 9; SmoothGrad 0.05395, C-LIME 0.05982",
}


def _cases(fails):
    cases = []
    for dataset in ("breast_cancer", "wine"):
        for claim in CLAIMS:
            reason = fails.get((dataset, claim))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            cases.append(pytest.param(dataset, claim, marks=marks, id=f"{dataset}-{claim}"))
    return cases


@pytest.mark.parametrize(("dataset", "claim"), _cases(FAST_FAILS))
def test_claims_fast(dataset, claim):
    _check(_result(dataset, N_FAST), claim)


@pytest.mark.slow
@pytest.mark.parametrize(("dataset", "claim"), _cases(SLOW_FAILS))
def test_claims_full(dataset, claim):
    _check(_result(dataset, _example().FULL["n_rows"]), claim)


@pytest.mark.slow
@pytest.mark.parametrize(("dataset", "claim"), _cases(REFIT_FAILS))
def test_claims_refit(dataset, claim):
    """Weights re-solved at every perturbed copy (the aggregate's transform there)."""
    _check(_result(dataset, N_REFIT, "refit"), claim)


def test_table_layout_and_paper_settings():
    """The table has the paper's rows and columns, the paper's settings and fresh draws."""
    example = _example()
    result = _result("wine", N_FAST)
    assert result["methods"][-5:] == list(example.AGGREGATES)
    assert len(result["members"]) >= 6
    settings = result["settings"]
    assert settings["m_agg"] == 50 and settings["m_eval"] == 200 and settings["radius"] == 0.1
    assert settings["normalize"] == "abs_maxabs" and settings["explainer_noise"] == "fresh"
    assert settings["var_form"] == "paper" and settings["form_normalization"] == "mean"
    lines = example.format_table(result).splitlines()
    assert len(lines) == 2 + len(result["methods"])
    for title in ("SENS_AVG", "SENS_MAX", "INFD", "FAITH-CORR"):
        assert title in lines[0]
    # the aggregates' weights are per row and on the simplex
    for weights in result["weights"].values():
        assert weights.shape == (N_FAST, len(result["members"]))
        assert abs(weights.sum(axis=1) - 1).max() < 1e-9 and weights.min() > -1e-12
    # every method is scored on absolute-max-normalized attributions: the Quantus relative
    # change of a member is its absolute change divided by a norm between 1 and sqrt(d)
    rows = result["rows"]["Grad"]
    ratio = rows["SENS_MAX"] / rows["SENS_MAX_Q"]
    assert ratio.min() >= 1 - 1e-9 and ratio.max() <= np.sqrt(settings["n_features"]) + 1e-9


@pytest.mark.parametrize("explainer_noise", ["common", "fresh"])
def test_sensitivities_equal_the_metrics(explainer_noise):
    """The example's one-pass sensitivities equal skexplain's metrics on the same draws.

    SENS_AVG is ``avg_sensitivity``, SENS_MAX and SENS_MAX_Q ``max_sensitivity`` (absolute and
    relative); SENS_AVG_Q, the mean of the relative changes (Quantus' AvgSensitivity), is checked
    against the gradients computed directly.
    """
    example = _example()
    X = np.random.default_rng(0).normal(size=(5, 3))
    Z = UniformBall(radius=0.3, norm="inf").sample(X, 7, random_state=1)
    explainer = SmoothGrad(model=SumOfSines(), n_samples=8, random_state=0).fit(X)
    ours = example.sensitivities(explainer, X, Z, explainer_noise=explainer_noise, random_state=3)
    kwargs = {
        "perturbations": Z,
        "explainer_noise": explainer_noise,
        "random_state": 3,
        "units": "raw",
    }
    np.testing.assert_allclose(ours["SENS_AVG"], avg_sensitivity(explainer, X, **kwargs))
    np.testing.assert_allclose(ours["SENS_MAX"], max_sensitivity(explainer, X, **kwargs))
    np.testing.assert_allclose(
        ours["SENS_MAX_Q"], max_sensitivity(explainer, X, relative=True, **kwargs)
    )
    gradient = Gradient(model=SumOfSines()).fit(X)
    phi = SumOfSines().gradient(X)
    phi_z = SumOfSines().gradient(Z.reshape(-1, 3)).reshape(Z.shape)
    change = np.linalg.norm(phi_z - phi[:, None], axis=2) / np.linalg.norm(phi, axis=1)[:, None]
    ours = example.sensitivities(gradient, X, Z, explainer_noise=explainer_noise)
    np.testing.assert_allclose(ours["SENS_AVG_Q"], change.mean(axis=1))
    np.testing.assert_allclose(ours["SENS_MAX_Q"], change.max(axis=1))


def test_fixed_weights_equal_fixed_weight_aggregators():
    """Scores from the members' attributions equal re-explaining the aggregators themselves.

    The aggregator minimizes ``w^T Q w``, with ``Q`` from one ``avg_sensitivity(members,
    return_quadratic=True, postprocess=<the normalization>)`` pass, and the example scores every
    convex method with weights fixed at the row, and AGG_var, from the members' normalized
    attributions at the rows and copies (``convex_sensitivities``, ``var_sensitivities``); a
    one-member aggregator (a normalized member), an aggregator with fixed weights and AGG_var
    must give the same numbers as these on the same draws (common explainer noise).
    """
    example = _example()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as run() does: a small network on a shared machine
    try:
        module, X_train, X_test, _ = example.train_network("wine", random_state=0)
    finally:
        torch.set_num_threads(threads)
    X = X_test[:2]
    members = example.make_members(0, sg_samples=8, clime_samples=40)
    kwargs = {"radius": 0.1, "n_samples": 10, "random_state": 1}
    paper = example.aggregation_settings(explainer_noise="common")

    def aggregator(chosen, strategy):
        return AggregatingExplainer(chosen, model=module, strategy=strategy, **paper).fit(X_train)

    def normalize(A):
        return normalize_attributions(A, paper["normalize"])

    fitted = aggregator(members, "mean")
    Q = avg_sensitivity(
        [e for _, e in fitted.explainers_],
        X,
        return_quadratic=True,
        postprocess=normalize,
        **kwargs,
    )
    alone = [aggregator([member], [1.0]) for member in members]
    for j in range(len(members)):
        np.testing.assert_allclose(avg_sensitivity(alone[j], X, **kwargs), Q[:, j, j], rtol=1e-10)
    w = np.random.default_rng(0).dirichlet(np.ones(len(members)))
    combined = aggregator(members, w)
    np.testing.assert_allclose(
        avg_sensitivity(combined, X, **kwargs), np.einsum("k,nkl,l->n", w, Q, w), rtol=1e-10
    )
    # the example's attributions at the rows and its sensitivities from the members' arrays
    at_rows = np.stack([a.transform(X) for a in alone], axis=1)
    np.testing.assert_allclose(
        combined.transform(X), np.einsum("k,nkd->nd", w, at_rows), rtol=1e-12, atol=1e-15
    )
    Z = UniformBall(radius=0.1, norm="inf").sample(X, 10, random_state=1)
    common = {"explainer_noise": "common"}
    phi_x, phi_z = example.explain_copies([e for _, e in fitted.explainers_], X, Z, **common)
    phi_x, phi_z = normalize(phi_x), normalize(phi_z)
    np.testing.assert_allclose(phi_x, at_rows, rtol=1e-12, atol=1e-15)
    ours = example.convex_sensitivities(np.tile(w, (len(X), 1)), phi_x, phi_z)
    direct = example.sensitivities(combined, X, Z, **common)
    var = AttributionAggregator(len(members), model=module, strategy="var", **paper)
    var.fit(np.zeros((1, (len(members) + 1) * X.shape[1])))
    ours_var = example.var_sensitivities(var, X, Z, phi_x, phi_z)
    var_direct = aggregator([("AGG_var", aggregator(members, "var"))], [1.0])
    direct_var = example.sensitivities(var_direct, X, Z, **common)
    for column in example.SENSITIVITY_COLUMNS:
        np.testing.assert_allclose(ours[column], direct[column], rtol=1e-10)
        np.testing.assert_allclose(ours_var[column], direct_var[column], rtol=1e-10)
