"""The metric registry: one list that the scorers, the report, the CLI and the aggregator read.

Adding a metric touches three files: its function (in ``skexplain/metrics/<family>.py``), one
``MetricSpec`` entry in ``skexplain/metrics/_registry.py`` and one line in ``doc/api.rst``. The
tests below register a toy metric (the test's own function and entry) and find it working in every
reader without any other change.
"""

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skexplain import AggregatingExplainer, Gradient, InputXGradient, SmoothGrad
from skexplain._cli import _report_parser
from skexplain.functions import Linear, SumOfSines
from skexplain.metrics import (
    SCORERS,
    MetricSpec,
    _registry,
    get_explanation_scorer,
    get_metric,
    get_metric_names,
    infidelity,
    make_explanation_scorer,
    metric_scores,
    split_explainer,
)
from skexplain.models import as_model
from skexplain.report import ExplanationReport, evaluate_explainers

MODEL = SumOfSines()
X = np.random.default_rng(0).uniform(-2, 2, size=(8, 3))


def completeness_gap(model, X, attributions, *, target=None):
    """``|f(x) - f(0) - sum_j phi_j|`` per row: how far the attributions are from complete."""
    model = as_model(model)
    target = model.resolve_target(X, target)
    drop = model.predict(X, target) - model.predict(np.zeros_like(X), target)
    return np.abs(drop - np.asarray(attributions).sum(axis=1))


def gradient_distance(model, X, attributions, *, target=None):
    """``||phi - grad f(x)||^2``: a generalized L2 metric with ``Gamma = Phi - grad 1^T``."""
    model = as_model(model)
    return ((np.asarray(attributions) - model.gradient(X, target)) ** 2).sum(axis=1)


def gradient_distance_form(model, explainers, X, members, *, target, **ignored):
    gamma = members - as_model(model).gradient(X, target)[:, None, :]  # (n, k, d)
    return gamma @ gamma.swapaxes(1, 2)


@pytest.fixture
def toy(monkeypatch):
    """The two toy entries, registered for one test (the registry is a module-level dict)."""
    monkeypatch.setitem(
        _registry._METRICS,
        "completeness_gap",
        MetricSpec("completeness_gap", completeness_gap, "model", False, "faithfulness"),
    )
    monkeypatch.setitem(
        _registry._METRICS,
        "gradient_distance",
        MetricSpec(
            "gradient_distance",
            gradient_distance,
            "model",
            False,
            "faithfulness",
            quadratic_form=gradient_distance_form,
        ),
    )


def test_a_registered_metric_works_in_the_scorers(toy):
    explainer = Gradient(model=MODEL).fit(X)
    expected = completeness_gap(MODEL, X, explainer.transform(X)).mean()
    assert expected > 0.1  # the gradient is not complete for sum(sin): the test can fail
    assert SCORERS["neg_completeness_gap"] == "completeness_gap"
    assert "completeness_gap" in get_metric_names(family="faithfulness")
    scorer = make_explanation_scorer("completeness_gap")
    assert scorer.name == "neg_completeness_gap"
    assert scorer(explainer, X) == pytest.approx(-expected, rel=1e-12)
    assert get_explanation_scorer("neg_completeness_gap")(explainer, X) == scorer(explainer, X)
    with pytest.raises(ValueError, match="lower-is-better; greater_is_better cannot"):
        make_explanation_scorer("completeness_gap", greater_is_better=True)


def test_a_registered_metric_works_in_the_report_and_the_cli(toy):
    explainers = {"grad": Gradient(), "ixg": InputXGradient()}
    table = evaluate_explainers(explainers, X, ["completeness_gap", "complexity"], model=MODEL)
    for name, explainer in explainers.items():
        fitted = explainer.set_params(model=MODEL).fit(X)
        expected = completeness_gap(MODEL, X, fitted.transform(X)).mean()
        assert table.loc[name, ("completeness_gap", "mean")] == pytest.approx(expected, rel=1e-12)
    assert table.attrs["greater_is_better"]["completeness_gap"] is False
    assert table.attrs["family"]["completeness_gap"] == "faithfulness"
    page = ExplanationReport(table).render()
    assert '<dt id="metric-completeness_gap">' in page  # listed with the registry's metrics
    assert "\u2193 lower is better" in page
    choices = next(a for a in _report_parser()._actions if a.dest == "metrics").choices
    assert "completeness_gap" in choices


def test_a_registered_quadratic_form_drives_the_aggregator(toy):
    # gradient_distance is minimized by the gradient itself: the optimal convex weights put all
    # the mass on the Gradient member, and the aggregate is the gradient.
    assert get_metric_names(quadratic=True) == [
        "infidelity",
        "avg_sensitivity",
        "gradient_distance",
    ]
    members = [("sg", SmoothGrad(noise_scale=1.0, random_state=0)), ("grad", Gradient())]
    agg = AggregatingExplainer(
        members, model=MODEL, strategy={"gradient_distance": 1.0}, normalize=None
    ).fit(X)
    np.testing.assert_allclose(agg.weights(X), np.tile([0.0, 1.0], (X.shape[0], 1)), atol=1e-6)
    np.testing.assert_allclose(agg.transform(X), MODEL.gradient(X), atol=1e-5)
    with pytest.raises(ValueError, match="generalized L2 metrics.*gradient_distance"):
        AggregatingExplainer(members, model=MODEL, strategy={"complexity": 1.0}).fit(X)


def test_registry_lists_every_metric_once_with_a_direction_and_family():
    names = get_metric_names()
    assert len(names) == len(set(names)) == 14
    assert sorted(SCORERS.values()) == sorted(names)
    assert get_metric_names(quadratic=True) == ["infidelity", "avg_sensitivity"]
    assert get_metric_names(family="complexity") == ["complexity"]
    for name in names:
        spec = get_metric(name)
        assert spec.name == name and spec.family is not None
        assert spec.scorer_name in SCORERS
    # the directions the metrics' docstrings state
    better = {n for n in names if get_metric(n).greater_is_better}
    assert better == {"faithfulness_correlation", "insertion_auc", "sensitivity_n"}


def test_neg_prefix_is_resolved_in_one_place():
    assert get_metric("neg_infidelity") is get_metric("infidelity")
    with pytest.raises(ValueError, match="'insertion_auc' is greater-is-better already"):
        get_metric("neg_insertion_auc")
    with pytest.raises(ValueError, match="metric 'fidelity' does not exist; choose a callable"):
        get_metric("fidelity")
    with pytest.raises(TypeError, match="metric name or a callable, got int"):
        get_metric(3)
    with pytest.raises(ValueError, match="family must be one of"):
        get_metric_names(family="speed")


def test_metric_spec_validates_its_fields():
    with pytest.raises(ValueError, match="kind of metric 'm' must be one of"):
        MetricSpec("m", completeness_gap, "rows", False)
    with pytest.raises(ValueError, match="family of metric 'm' must be one of"):
        MetricSpec("m", completeness_gap, "model", False, "speed")
    with pytest.raises(TypeError, match="function of metric 'm' must be callable"):
        MetricSpec("m", None, "model", False)
    with pytest.raises(TypeError, match="greater_is_better of metric 'm' must be a bool"):
        MetricSpec("m", completeness_gap, "model", 1)


def test_split_explainer_finds_where_a_pipeline_explains():
    f = Linear([1.0, -2.0, 0.5])
    pipe = make_pipeline(StandardScaler(), Gradient(model=f)).fit(X)
    explainer, rows, explaining = split_explainer(pipe, X)
    assert explainer is explaining is pipe[-1]
    np.testing.assert_allclose(rows, StandardScaler().fit_transform(X))
    # a model-based metric of the pipeline is that of its explainer on the scaled rows
    scores = metric_scores(get_metric("infidelity"), pipe, X)
    np.testing.assert_allclose(
        scores, infidelity(f, rows, pipe[-1].transform(rows), random_state=0), rtol=1e-12
    )
    assert split_explainer(pipe[-1], rows)[1] is rows


# -- every public metric validates its parameters in scikit-learn's validate_params style -------
BAD_VALUES = {
    "n_samples": (0, r"an int in the range \[1, inf\)"),
    "radius": (-0.1, r"a float in the range \(0(\.0)?, inf\)"),
    "fraction": (1.5, r"a float in the range \(0(\.0)?, 1(\.0)?\]"),
    "subset_fraction": (0.0, r"a float in the range \(0(\.0)?, 1(\.0)?\]"),
    "step": (0, r"an int in the range \[1, inf\)"),
    "n_features": (0, r"an int in the range \[1, inf\)"),
    "length_scale": (0.0, r"a float in the range \(0(\.0)?, inf\)"),
    "eps": (0.0, r"a float in the range \(0(\.0)?, inf\)"),
    "relative": ("yes", "an instance of 'bool'"),
    "explainer_noise": ("new", "a str among"),
    "random_state": ("seed", "an int in the range"),
}


def _positional(spec):
    A = np.ones_like(X)
    return {
        "model": (MODEL, X, A),
        "explainer": (Gradient(model=MODEL).fit(X), X),
        "points": (X, A),
        "attributions": (A,),
    }[spec.kind]


@pytest.mark.parametrize("name", get_metric_names())
def test_every_metric_validates_its_parameters(name):
    import inspect

    from skexplain._compat import InvalidParameterError

    spec = get_metric(name)
    parameters = inspect.signature(spec.function).parameters
    required = {"n_features": 1, "feature_similarity": np.eye(X.shape[1])}
    valid = {k: v for k, v in required.items() if k in parameters}
    checked = [p for p in BAD_VALUES if p in parameters]
    if name not in (
        "gradient_matching_loss",
        "function_matching_loss",
        "smoothness_loss",
        "complexity",
    ):
        assert checked, f"{name} has no validated scalar parameter"  # guards the loop below
    for parameter in checked:
        value, expected = BAD_VALUES[parameter]
        with pytest.raises(
            InvalidParameterError,
            match=rf"The '{parameter}' parameter of {name} must be {expected}.*Got {value!r}",
        ):
            spec.function(*_positional(spec), **{**valid, parameter: value})
    # the array arguments too: a string is not array-like
    array = next(p for p in ("X", "attributions", "W") if p in parameters)
    args = list(_positional(spec))
    position = list(parameters).index(array)
    args[position] = "rows"
    with pytest.raises(InvalidParameterError, match=rf"The '{array}' parameter of {name} must be"):
        spec.function(*args, **valid)
