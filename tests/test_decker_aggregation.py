"""Decker et al. (2024) claims on tabular data (issue 4, must-hold 3), through the example.

The example ``examples/plot_decker_aggregation.py`` trains a small ReLU network on breast_cancer
and on wine, fits the aggregation weights on ``m_agg = 50`` metric samples and evaluates every
method on ``m_eval = 200`` fresh ones. The claims, from the means over the explained rows:

(a) AGG_robust has the lowest SENS_AVG and SENS_MAX of the members, AGG_mean and AGG_var;
(b) AGG_faith has the lowest INFD and the highest FCOR of the same;
(c) AGG_opt is first or second of all methods on every column.

Where a claim does not hold with skexplain as it is, its assertion is marked ``xfail(strict=True)``
with the numbers; the fast configuration (``N_FAST`` rows) runs by default, the example's
``--full`` configuration (100 rows of breast_cancer, the 54 test rows of wine) is marked slow.
Claims (a) and (b) hold on both datasets; (c) does not (AGG_opt ranks fourth on each column).
"""

import functools

import numpy as np
import pytest
import torch
from _examples import load_example

from skexplain import AggregatingExplainer
from skexplain.aggregation import decker_settings, normalize_attributions
from skexplain.metrics import avg_sensitivity

N_FAST = 10


def _example():
    return load_example("plot_decker_aggregation")


@functools.cache
def _result(dataset, n_rows):
    return _example().run(dataset, n_rows=n_rows, random_state=0)


def _check(dataset, n_rows, claim):
    holds, numbers = _example().claims(_result(dataset, n_rows))[claim]
    assert holds, f"{dataset}, {n_rows} rows, claim {claim}: {numbers}"


CLAIMS = (
    "a:SENS_AVG",
    "a:SENS_MAX",
    "b:INFD",
    "b:FCOR",
    "c:SENS_AVG",
    "c:SENS_MAX",
    "c:INFD",
    "c:FCOR",
)

# Claims that do not hold, with the numbers (means over the rows; see the example's notes).
# (a) and (b) hold; (c) fails: AGG_opt, which weighs the two normalized quadratic forms equally,
# lands between AGG_robust and AGG_faith, fourth on every column, never second.
FAST_FAILS = {
    (
        "breast_cancer",
        "c:SENS_AVG",
    ): "AGG_opt 0.0073 ranks 4; AGG_robust 0.00239, SmoothGrad 0.003708",
    ("breast_cancer", "c:SENS_MAX"): "AGG_opt 0.163 ranks 4; AGG_robust 0.109, SmoothGrad 0.118",
    ("breast_cancer", "c:INFD"): "AGG_opt 0.8421 ranks 4; AGG_faith 0.7414, InputxGrad 0.7821",
    ("wine", "c:SENS_AVG"): "AGG_opt 0.003774 ranks 4; AGG_robust 0.001306, C-LIME 0.001739",
    ("wine", "c:SENS_MAX"): "AGG_opt 0.1146 ranks 4; AGG_robust 0.08331, C-LIME 0.09299",
    ("wine", "c:INFD"): "AGG_opt 0.4687 ranks 4; AGG_faith 0.2979, InputxGrad 0.3012",
    ("wine", "c:FCOR"): "AGG_opt 0.8873 ranks 4; AGG_faith 0.931, InputxGrad 0.9289",
}
SLOW_FAILS = {
    (
        "breast_cancer",
        "c:SENS_AVG",
    ): "AGG_opt 0.006771 ranks 4; AGG_robust 0.003221, SmoothGrad 0.00428",
    ("breast_cancer", "c:SENS_MAX"): "AGG_opt 0.1564 ranks 4; AGG_robust 0.1219, SmoothGrad 0.1338",
    ("breast_cancer", "c:INFD"): "AGG_opt 0.6857 ranks 4; AGG_faith 0.5887, InputxGrad 0.5979",
    ("breast_cancer", "c:FCOR"): "AGG_opt 0.6593 ranks 4; AGG_faith 0.7376, InputxGrad 0.7077",
    ("wine", "c:SENS_AVG"): "AGG_opt 0.004101 ranks 4; AGG_robust 0.001539, C-LIME 0.002078",
    ("wine", "c:SENS_MAX"): "AGG_opt 0.1204 ranks 4; AGG_robust 0.08914, C-LIME 0.09936",
    ("wine", "c:INFD"): "AGG_opt 0.6362 ranks 4; AGG_faith 0.4865, InputxGrad 0.5016",
    ("wine", "c:FCOR"): "AGG_opt 0.8039 ranks 4; AGG_faith 0.8728, InputxGrad 0.8644",
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
    _check(dataset, N_FAST, claim)


@pytest.mark.slow
@pytest.mark.parametrize(("dataset", "claim"), _cases(SLOW_FAILS))
def test_claims_full(dataset, claim):
    _check(dataset, _example().FULL["n_rows"], claim)


def test_table_layout_and_fresh_samples():
    """The table has the paper's rows and columns, and the evaluation uses fresh draws."""
    example = _example()
    result = _result("wine", N_FAST)
    assert result["methods"][-5:] == list(example.AGGREGATES)
    assert len(result["members"]) >= 6
    assert result["settings"]["m_agg"] == 50 and result["settings"]["m_eval"] == 200
    lines = example.format_table(result).splitlines()
    assert len(lines) == 2 + len(result["methods"])
    for title in ("SENS_AVG", "SENS_MAX", "INFD", "FAITH-CORR"):
        assert title in lines[0]
    # the aggregates' weights are per row and on the simplex
    for weights in result["weights"].values():
        assert weights.shape == (N_FAST, len(result["members"]))
        assert abs(weights.sum(axis=1) - 1).max() < 1e-9 and weights.min() > -1e-12


def test_quadratic_form_equals_fixed_weight_aggregators():
    """SENS_AVG from the members' quadratic form equals re-explaining fixed-weight aggregators.

    The example scores every convex method by ``w^T Q w``, with ``Q`` from one
    ``avg_sensitivity(members, return_quadratic=True, postprocess=<the paper's normalization>)``
    pass; a one-member aggregator (a normalized member) and an aggregator with the row's fixed
    weights must give the same numbers on the same draws.
    """
    example = _example()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as run() does: a small network on a shared machine
    try:
        module, X_train, X_test, _ = example.train_network("wine", random_state=0)
    finally:
        torch.set_num_threads(threads)
    X = X_test[:3]
    members = example.make_members(0, sg_samples=8, clime_samples=40)
    kwargs = {"radius": 0.1, "n_samples": 20, "random_state": 1}
    paper = decker_settings()  # the members normalized as in the paper
    fitted = AggregatingExplainer(members, model=module, strategy="mean", **paper).fit(X_train)
    Q = avg_sensitivity(
        [e for _, e in fitted.explainers_],
        X,
        return_quadratic=True,
        postprocess=functools.partial(normalize_attributions, method=paper["normalize"]),
        **kwargs,
    )
    for j, member in enumerate(members):
        alone = AggregatingExplainer([member], model=module, strategy=[1.0], **paper)
        alone.fit(X_train)
        np.testing.assert_allclose(avg_sensitivity(alone, X, **kwargs), Q[:, j, j], rtol=1e-10)
    w = np.random.default_rng(0).dirichlet(np.ones(len(members)))
    combined = AggregatingExplainer(members, model=module, strategy=w, **paper).fit(X_train)
    np.testing.assert_allclose(
        avg_sensitivity(combined, X, **kwargs), np.einsum("k,nkl,l->n", w, Q, w), rtol=1e-10
    )
