"""skexplain.report: the table holds the metrics module's numbers; the HTML is self-contained."""

import base64
import io
import re

import joblib
import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from skexplain import Gradient, IntegratedGradients, SmoothGrad
from skexplain.functions import SumOfSines
from skexplain.metrics import (
    complexity,
    deletion_auc,
    faithfulness_correlation,
    infidelity,
    insertion_auc,
    make_explanation_scorer,
    max_sensitivity,
)
from skexplain.report import (
    DEFAULT_METRICS,
    ExplanationReport,
    evaluate_explainers,
    format_table,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).uniform(-2, 2, size=(12, 4))


def _explainers():
    model = SumOfSines()
    return {
        "grad": Gradient(model=model),
        "sg": SmoothGrad(model=model, noise_scale=0.3, n_samples=8, random_state=0),
        "ig": IntegratedGradients(model=model, n_steps=8),
    }


@pytest.fixture(scope="module")
def evaluated(X):
    return evaluate_explainers(_explainers(), X, random_state=3, return_attributions=True)


def test_numbers_equal_the_metrics_module(X, evaluated):
    results, attributions = evaluated
    assert list(results.index) == ["grad", "sg", "ig"]
    assert list(results.columns.get_level_values(0).unique()) == list(DEFAULT_METRICS)
    for name, explainer in _explainers().items():
        explainer.fit(X)
        W = explainer.transform(X)
        np.testing.assert_array_equal(attributions[name], W)
        m = explainer.model_
        direct = {
            "infidelity": infidelity(m, X, W, random_state=3),
            "max_sensitivity": max_sensitivity(explainer, X, random_state=3),
            "faithfulness_correlation": faithfulness_correlation(m, X, W, random_state=3),
            "insertion_auc": insertion_auc(m, X, W),
            "deletion_auc": deletion_auc(m, X, W),
            "complexity": complexity(W),
        }
        for metric, scores in direct.items():
            # exact equality: the report calls the same functions with the same draws
            assert results.loc[name, (metric, "mean")] == np.nanmean(scores), (name, metric)
            kept = scores[~np.isnan(scores)]
            sem = np.std(kept, ddof=1) / np.sqrt(kept.size)
            np.testing.assert_allclose(results.loc[name, (metric, "sem")], sem, rtol=1e-12)
            # and the scorer's mean, up to its sign (losses are negated there)
            drawn = metric in ("infidelity", "max_sensitivity", "faithfulness_correlation")
            scorer = make_explanation_scorer(metric, **({"random_state": 3} if drawn else {}))
            sign = 1 if results.attrs["greater_is_better"][metric] else -1
            assert scorer(explainer, X) == sign * results.loc[name, (metric, "mean")]


def test_unfitted_explainers_are_cloned_and_fitted_ones_used_as_they_are(X):
    unfitted = Gradient()  # no model: evaluate_explainers gives it one
    fitted = Gradient(model=SumOfSines()).fit(X[:3])
    results = evaluate_explainers(
        [("unfitted", unfitted), ("fitted", fitted)], X, ["complexity"], model=SumOfSines()
    )
    assert not hasattr(unfitted, "model_")
    assert unfitted.model is None
    column = results[("complexity", "mean")]
    assert column["unfitted"] == column["fitted"]


def test_metric_options_and_callables(X):
    def mean_abs(explainer, X):
        return np.abs(explainer.transform(X)).mean(axis=1)

    explainer = Gradient(model=SumOfSines()).fit(X)
    results = evaluate_explainers(
        {"grad": explainer},
        X,
        {
            "infd_subsets": ("infidelity", {"perturbation": "subset", "n_samples": 5}),
            "mine": mean_abs,
        },
        random_state=1,
    )
    W = explainer.transform(X)
    expected = infidelity(
        explainer.model_, X, W, perturbation="subset", n_samples=5, random_state=1
    ).mean()
    assert results.loc["grad", ("infd_subsets", "mean")] == expected
    assert results.loc["grad", ("mine", "mean")] == np.abs(W).mean(axis=1).mean()
    assert results.attrs["greater_is_better"] == {"infd_subsets": False, "mine": None}


def test_parallel_gives_the_same_table(X, evaluated):
    with joblib.parallel_config(backend="threading"):
        parallel = evaluate_explainers(_explainers(), X, random_state=3, n_jobs=2, verbose=1)
    assert parallel.equals(evaluated[0])


@pytest.mark.parametrize(
    "explainers, metrics, error",
    [
        ({}, None, ValueError),
        ([("a", Gradient()), ("a", Gradient())], None, ValueError),
        ({"a": object()}, None, TypeError),
        ({"a": Gradient()}, ["no_such_metric"], ValueError),
        ({"a": Gradient()}, {"m": 3}, TypeError),
    ],
)
def test_bad_input(X, explainers, metrics, error):
    with pytest.raises(error):
        evaluate_explainers(explainers, X, metrics, model=SumOfSines())


def _images(text):
    sources = re.findall(r'src="([^"]*)"', text)
    return [base64.b64decode(s.removeprefix("data:image/png;base64,")) for s in sources], sources


def test_html_is_self_contained_with_table_and_decodable_figures(X, evaluated, tmp_path):
    results, attributions = evaluated
    report = ExplanationReport(
        results, attributions, X, feature_names=["a", "b", "c", "d"], title="T <1>", n_rows=2
    )
    path = tmp_path / "report.html"
    text = report.to_html(path)
    assert path.read_text(encoding="utf-8") == text
    # no external resources: every src is an embedded PNG, links stay inside the page
    assert all(h.startswith("#") for h in re.findall(r'href="([^"]*)"', text))
    assert "<script" not in text and "<link" not in text
    pngs, sources = _images(text)
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    # metric bars, the faithfulness-robustness front, global importance, one panel per row
    assert len(report.figures_) == 3 + 2
    assert len(pngs) == text.count("<img") == len(report.figures_)
    for png in pngs:
        assert png.startswith(PNG_MAGIC)
        image = matplotlib.image.imread(io.BytesIO(png), format="png")
        assert image.ndim == 3 and min(image.shape[:2]) > 50
    table = text[text.index("<table") : text.index("</table>")]
    for name in results.index:
        assert f"<th>{name}</th>" in table
    for metric in DEFAULT_METRICS:
        assert metric in table
    assert f"{results.loc['grad', ('complexity', 'mean')]:.4g}" in table
    assert "T &lt;1&gt;" in text  # the title is escaped


def test_heatmaps_for_image_rows_and_no_front_without_robustness(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.normal(size=(3, 16))
    model = SumOfSines()
    results, attributions = evaluate_explainers(
        {"grad": Gradient(model=model)}, images, ["complexity"], return_attributions=True
    )
    report = ExplanationReport(results, attributions, images, image_shape=(4, 4), n_rows=2)
    pngs, _ = _images(report.to_html(tmp_path / "images.html"))
    captions = [caption for caption, _ in report.figures_]
    assert len(pngs) == 2 and "heatmaps" in captions[1]
    assert not any("robustness" in caption for caption in captions)
    with pytest.raises(ValueError, match="image_shape"):
        ExplanationReport(results, attributions, image_shape=(3, 3)).render()


def test_aggregated_and_property_optimized_explainers_in_one_report(X, tmp_path):
    from skexplain import AggregatingExplainer, PropertyOptimizedExplainer

    model = SumOfSines()
    aggregated = AggregatingExplainer(
        [("grad", Gradient()), ("ig", IntegratedGradients(n_steps=8))],
        model=model,
        strategy="mean",
        normalize=None,
    )
    optimized = PropertyOptimizedExplainer(model=model, lambda_robust=1.0, length_scale=2.0)
    results, attributions = evaluate_explainers(
        {"agg": aggregated, "opt": optimized},
        X,
        ["infidelity", "complexity"],
        random_state=1,
        return_attributions=True,
    )
    # the aggregate is the mean of its members; the optimum is the fitted joint optimum
    grad = Gradient(model=model).fit_transform(X)
    ig = IntegratedGradients(model=model, n_steps=8).fit_transform(X)
    np.testing.assert_allclose(attributions["agg"], (grad + ig) / 2)
    np.testing.assert_allclose(attributions["opt"], optimized.fit(X).explanations_)
    direct = complexity(attributions["opt"]).mean()
    assert results.loc["opt", ("complexity", "mean")] == pytest.approx(direct)
    text = ExplanationReport(results, attributions, X).to_html(tmp_path / "mixed.html")
    # bars, global importance and three rows (no robustness metric: no front)
    assert text.count("data:image/png;base64,") == 2 + 3


def test_two_processes_give_the_same_table_with_the_default_metrics(X):
    # max_sensitivity re-explains the rows; it used to refuse them in a worker process, where
    # an identity test between the explained rows and X failed on joblib's copies.
    explainers = dict(list(_explainers().items())[:2])
    one = evaluate_explainers(explainers, X[:6], random_state=0)
    two = evaluate_explainers(explainers, X[:6], random_state=0, n_jobs=2)
    pd.testing.assert_frame_equal(one, two, check_exact=True)


def _table(values, metrics, names=("a", "b", "c")):
    columns = pd.MultiIndex.from_product([metrics, ["mean", "sem"]])
    rows = [[v for value in row for v in (value, 0.0)] for row in values]
    return pd.DataFrame(rows, index=list(names), columns=columns)


def test_verdict_names_the_best_per_property_and_the_trade_off():
    # a: most faithful (infidelity 0.1), b: most robust (max_sensitivity 0.5), c: neither
    table = _table(
        [[0.1, 2.0, 3.0], [0.4, 0.5, 1.0], [0.3, 1.0, 2.0]],
        ["infidelity", "max_sensitivity", "complexity"],
    )
    report = ExplanationReport(table)
    verdict = report.verdict()
    assert verdict[0] == "Most faithful: a (best on infidelity)."
    assert verdict[1] == "Most robust: b (best on max_sensitivity)."
    assert verdict[2] == "Sparsest: b (best on complexity)."
    assert verdict[3].startswith("Trade-off: trust a to show which features move the output")
    # the ratios are the table's: 2.0 / 0.5 and 0.4 / 0.1
    assert "a scores 2 against b's 0.5 (4 times as high)" in verdict[3]
    assert "b scores 0.4 against a's 0.1 (4 times as high)" in verdict[3]
    # average ranks: a (1, 3, 3) = 2.33, b (3, 1, 1) = 1.67, c (2, 2, 2) = 2
    assert verdict[4].startswith("Overall, b has the best average rank (1.7")


def test_notes_point_at_contradictions_and_empty_explanations():
    table = _table(
        [[0.1, -0.2, -0.5], [0.4, 0.6, -0.1], [0.3, 0.1, -0.3]],
        ["infidelity", "faithfulness_correlation", "insertion_auc"],
    )
    table.attrs["family"] = dict.fromkeys(table.columns.get_level_values(0), "faithfulness")
    attributions = {"a": np.ones((4, 2)), "b": np.ones((4, 2)), "c": np.ones((4, 2))}
    attributions["a"][[1, 3]] = 0.0
    notes = ExplanationReport(table, attributions).notes()
    text = " ".join(notes)
    assert "a: negative faithfulness correlation" in text
    assert "a nevertheless has the lowest infidelity" in text
    assert "The faithfulness metrics disagree about a: best on infidelity, worst on" in text
    assert "a gives all-zero attributions on 2 of 4 rows (rows 1, 3)" in text
    assert "insertion_auc is negative" in text
    assert not any(n.startswith("b gives") for n in notes)


def test_rendering_leaves_matplotlib_as_it_was(X, evaluated):
    import matplotlib
    import matplotlib.pyplot as plt

    results, attributions = evaluated
    backend, params, figures = (
        matplotlib.get_backend(),
        dict(matplotlib.rcParams),
        plt.get_fignums(),
    )
    ExplanationReport(results, attributions, X, n_rows=1).render()
    assert matplotlib.get_backend() == backend
    assert dict(matplotlib.rcParams) == params
    assert plt.get_fignums() == figures  # no figure left in pyplot


def test_console_table_shows_directions_and_stars_the_best():
    table = _table([[0.1, 0.2], [0.3, 0.9]], ["infidelity", "faithfulness_correlation"], "ab")
    lines = format_table(table).splitlines()
    assert lines[0].split() == [
        "explainer",
        "infidelity",
        "(lower",
        "better)",
        "faithfulness_correlation",
        "(higher",
        "better)",
    ]
    assert lines[1].split() == ["a", "0.1", "*", "0.2"]
    assert lines[2].split() == ["b", "0.3", "0.9", "*"]


def test_verdict_says_when_a_gap_is_within_the_standard_errors():
    columns = pd.MultiIndex.from_product([["infidelity", "max_sensitivity"], ["mean", "sem"]])
    table = pd.DataFrame(
        [[0.10, 0.05, 2.0, 0.1], [0.12, 0.05, 1.0, 0.1]], index=["a", "b"], columns=columns
    )
    trade_off = ExplanationReport(table).verdict()[2]
    assert "b scores 0.12 against a's 0.1, within their standard errors." in trade_off
    assert "a scores 2 against b's 1 (2 times as high)." in trade_off


# -- default explainers: Shapley values where gradients do not apply (issue 13, must hold 6) -----
def _penguin_models():
    from _tabular import encoder, penguins
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.pipeline import make_pipeline

    X, y = penguins()
    forest = make_pipeline(encoder(), RandomForestClassifier(n_estimators=10, random_state=0))
    boosting = make_pipeline(encoder(), HistGradientBoostingClassifier(max_iter=10))
    return X, forest.fit(X, y), boosting.fit(X, y)


def test_default_explainers_follow_the_models_differentiability():
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier

    from skexplain.report import default_explainers

    X, forest, boosting = _penguin_models()
    assert list(default_explainers(forest)) == ["TreeSHAP", "C-LIME"]
    # shap's interventional TreeSHAP misses HistGradientBoosting's values (#3267): the
    # model-agnostic ShapleyExplainer
    assert list(default_explainers(boosting)) == ["Shapley", "C-LIME"]
    Xi, yi = load_iris(return_X_y=True)
    assert list(default_explainers(KNeighborsClassifier().fit(Xi, yi))) == ["Shapley", "C-LIME"]
    gradients = ["Gradient", "SmoothGrad", "IntegratedGradients", "C-LIME"]
    assert list(default_explainers(LogisticRegression(max_iter=1000).fit(Xi, yi))) == gradients
    assert list(default_explainers(SumOfSines())) == gradients
    # the reason: the gradient explainers refuse the piecewise-constant models
    for model in (forest, boosting):
        with pytest.raises(ValueError, match="piecewise constant"):
            Gradient(model=model).fit(X)
    chosen = default_explainers(forest, random_state=4)
    assert chosen["C-LIME"].noise_scale == 0.5 and chosen["C-LIME"].random_state == 4
    assert default_explainers(forest, noise_scale=0.2)["C-LIME"].noise_scale == 0.2
    with pytest.raises(ValueError, match="pass model"):
        evaluate_explainers(None, Xi)


def test_report_explains_tree_models_with_shapley_values_by_default(tmp_path):
    from skexplain import ShapleyExplainer, TreeShapExplainer

    X, forest, boosting = _penguin_models()
    rows = X.iloc[:6]
    for model, name, reference in [
        (forest, "TreeSHAP", TreeShapExplainer(model=forest, random_state=0)),
        (boosting, "Shapley", ShapleyExplainer(model=boosting, random_state=0)),
    ]:
        results, attributions = evaluate_explainers(
            None,
            rows,
            ["infidelity", "complexity"],
            model=model,
            random_state=0,
            return_attributions=True,
        )
        assert list(results.index) == [name, "C-LIME"]
        assert np.isfinite(results.to_numpy()).all()
        reference.fit(rows)
        phi = attributions[name]
        np.testing.assert_allclose(phi, reference.transform(rows), atol=1e-12)
        # Shapley values of the explained output: each row's sum is f(x) - E f(b), finite
        # (a forest's probability; the boosting's log-odds)
        target = reference.model_.resolve_target(reference.codec_.encode(rows))
        total = reference.model_.predict(reference.codec_.encode(rows), target)
        np.testing.assert_allclose(
            phi.sum(axis=1), total - reference.expected_value_[target], atol=1e-8
        )
    # the page shows a frame's raw values (strings included) beside the Shapley values
    page = ExplanationReport(results, attributions, rows, explainers={name: reference}, n_rows=1)
    text = page.render()
    assert "Shapley" in text and "C-LIME" in text and "Torgersen" in text
