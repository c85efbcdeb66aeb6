"""``examples/plot_quickstart.py`` on a tiny configuration: its table is the metrics module's.

The example's printed numbers come from :func:`skexplain.report.evaluate_explainers`; here one
explainer's row is recomputed with :mod:`skexplain.metrics` directly, the HTML report is checked
to exist with its figures embedded, and the tuning search to have picked its best candidate.
"""

import numpy as np
import pytest
from _examples import load_example

from skexplain import Gradient
from skexplain.metrics import faithfulness_correlation, infidelity, max_sensitivity
from skexplain.models import as_model

TINY = {"n_rows": 6, "n_package_rows": 2, "n_samples": 10, "package_samples": 100}


@pytest.fixture(scope="module")
def example():
    return load_example("plot_quickstart")


@pytest.fixture(scope="module")
def result(example, tmp_path_factory):
    out = tmp_path_factory.mktemp("quickstart") / "report.html"
    return example.run(out=str(out), verbose=False, **TINY), out


def test_tables_are_complete_and_finite(result, example):
    result, _ = result
    table, package_table = result["table"], result["package_table"]
    assert len(table) == 5 and list(package_table.index[:2]) == [
        "LimeExplainer",
        "KernelShapExplainer",
    ]
    assert set(table.columns.get_level_values(0)) == set(example.METRICS)
    assert np.all(np.isfinite(table.to_numpy())), table
    assert np.all(np.isfinite(package_table.to_numpy())), package_table
    assert result["accuracy"] > 0.9
    for name, W in result["attributions"].items():
        assert W.shape == (TINY["n_rows"], 30), name


def test_gradient_row_equals_the_metrics_module(result):
    result, _ = result
    rows, model = result["rows"], result["model"]
    explainer = Gradient(model=model).fit(rows)
    W = explainer.transform(rows)
    np.testing.assert_allclose(W, result["attributions"]["Gradient"])
    adapter = as_model(model)
    expected = {
        "infidelity": infidelity(adapter, rows, W, normalize=True, random_state=0),
        "max_sensitivity": max_sensitivity(explainer, rows, relative=True, random_state=0),
        "faithfulness_correlation": faithfulness_correlation(adapter, rows, W, random_state=0),
    }
    for metric, scores in expected.items():
        assert result["table"].loc["Gradient", (metric, "mean")] == pytest.approx(
            np.nanmean(scores), rel=1e-9
        ), metric


def test_search_picks_the_best_noise_scale(result, example):
    result, _ = result
    search = result["search"]
    scores = search.cv_results_["mean_test_score"]
    assert result["best_noise_scale"] == example.NOISE_SCALES[int(np.argmax(scores))]
    assert np.all(np.isfinite(scores)) and np.all(scores <= 0)  # negated losses


def test_aggregation_weights_are_convex(result):
    result, _ = result
    weights = result["weights"]
    assert weights.shape == (TINY["n_rows"], 3)
    assert np.all(weights >= -1e-9)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-6)


def test_html_report_embeds_its_figures(result):
    result, out = result
    text = out.read_text(encoding="utf-8")
    assert text == result["html"] and text.startswith("<!DOCTYPE html>")
    assert text.count("data:image/png;base64,") >= 2
    assert "Gradient" in text and "infidelity" in text
