"""skexplain.display: sklearn-style Displays draw on the given axes and never recompute."""

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from skexplain import Gradient, IntegratedGradients, SmoothGrad
from skexplain.display import AttributionDisplay, MetricDisplay, explainer_colors
from skexplain.functions import SumOfSines

KINDS = ["bar", "beeswarm", "waterfall", "heatmap"]


class CountingModel:
    """sum(sin(x)) with its gradient, counting every query."""

    def __init__(self):
        self.calls = 0

    def __call__(self, X):
        self.calls += 1
        return np.sin(X).sum(axis=1)


def _counting_explainer(model):
    from skexplain import as_model

    def gradient(X):
        model.calls += 1
        return np.cos(X)

    return IntegratedGradients(model=as_model(model, gradient=gradient), n_steps=8)


@pytest.fixture
def X():
    return np.random.default_rng(0).uniform(-1.5, 1.5, size=(12, 16))


def test_every_kind_draws_on_the_given_axes_without_recomputing(X):
    model = CountingModel()
    ax = Figure().subplots()
    display = AttributionDisplay.from_estimator(_counting_explainer(model), X, ax=ax)
    assert display.ax_ is ax and display.figure_ is ax.figure
    calls = model.calls
    assert calls > 0
    for kind in KINDS:
        ax = Figure().subplots()
        assert display.plot(ax=ax, kind=kind, image_shape=(4, 4), row=2) is display
        assert display.ax_ is ax and display.figure_ is ax.figure
        assert ax.patches or ax.collections or ax.images, kind  # something was drawn
    assert model.calls == calls  # plotting again computed nothing


def test_bar_is_the_mean_absolute_attribution(X):
    A = np.random.default_rng(1).normal(size=(12, 16))
    display = AttributionDisplay.from_attributions(A, ax=Figure().subplots(), max_features=16)
    widths = [p.get_width() for p in display.ax_.patches]
    labels = [t.get_text() for t in display.ax_.get_yticklabels()]
    got = dict(zip(labels, widths, strict=True))
    expected = np.abs(A).mean(axis=0)
    assert got == {f"x{j}": pytest.approx(expected[j], abs=0) for j in range(16)}
    assert widths == sorted(widths)  # largest at the top


def test_waterfall_goes_from_the_base_value_to_the_output(X):
    explainer = IntegratedGradients(model=SumOfSines(), baseline=0.5, n_steps=4)
    display = AttributionDisplay.from_estimator(
        explainer, X, kind="waterfall", row=5, ax=Figure().subplots(), max_features=4
    )
    f = SumOfSines()
    assert display.base_values[5] == pytest.approx(f(np.full((1, 16), 0.5))[0])
    assert display.outputs[5] == pytest.approx(f(X[5:6])[0])
    bars = display.ax_.patches
    # the first bar starts at the base value, the last ends at f(x) (the completeness gap of a
    # 4-step quadrature is drawn as its own "not attributed" bar)
    assert bars[0].get_x() == pytest.approx(display.base_values[5])
    end = bars[-1].get_x() + bars[-1].get_width()
    assert end == pytest.approx(display.outputs[5])
    labels = [t.get_text() for t in display.ax_.get_yticklabels()]
    assert "not attributed" in labels and "12 other features" in labels
    # each shown feature is labelled with its value
    top = np.argsort(-np.abs(display.attributions[5]))[0]
    assert f"x{top} = {X[5, top]:.4g}" in labels


def test_slopes_are_not_drawn_as_a_waterfall(X):
    display = AttributionDisplay.from_estimator(
        Gradient(model=SumOfSines()), X, kind="waterfall", ax=Figure().subplots()
    )
    assert display.values_are == "slopes"
    assert display.base_values is None
    assert "slope" in display.ax_.get_xlabel()
    assert "f(x) = " in display.ax_.get_title()
    assert all(p.get_x() == 0 for p in display.ax_.patches)  # bars from zero, not chained


def test_pyplot_is_used_only_without_ax_and_global_state_is_untouched(X):
    import matplotlib.pyplot as plt

    backend, params = matplotlib.get_backend(), dict(matplotlib.rcParams)
    figures = plt.get_fignums()
    display = AttributionDisplay.from_attributions(np.ones((3, 2)), ax=Figure().subplots())
    assert plt.get_fignums() == figures  # an ax given: pyplot made no figure
    display.plot(kind="beeswarm")  # no ax: a new pyplot figure, as scikit-learn's displays
    assert len(plt.get_fignums()) == len(figures) + 1
    plt.close(display.figure_)
    assert matplotlib.get_backend() == backend
    assert dict(matplotlib.rcParams) == params


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kind": "pie"}, "kind must be one of"),
        ({"kind": "heatmap"}, "needs image_shape"),
        ({"kind": "heatmap", "image_shape": (3, 3)}, "does not hold 4 features"),
        ({"kind": "waterfall", "row": 7}, "row must be an index below 2"),
        ({"max_features": 0}, "max_features must be a positive integer"),
    ],
)
def test_bad_plot_arguments(kwargs, message):
    display = AttributionDisplay(np.ones((2, 4)))
    with pytest.raises(ValueError, match=message):
        display.plot(ax=Figure().subplots(), **kwargs)


def test_bad_inputs():
    with pytest.raises(ValueError, match="feature_names must have 3 names"):
        AttributionDisplay(np.ones((2, 3)), feature_names=["a"]).plot(ax=Figure().subplots())
    with pytest.raises(ValueError, match="data must have the attributions' shape"):
        AttributionDisplay(np.ones((2, 3)), np.ones((2, 2))).plot(ax=Figure().subplots())


def _results(names, x, y):
    columns = pd.MultiIndex.from_product([["infidelity", "max_sensitivity"], ["mean", "sem"]])
    values = [[yi, 0.0, xi, 0.0] for xi, yi in zip(x, y, strict=True)]
    results = pd.DataFrame(values, index=names, columns=columns)
    results.attrs["greater_is_better"] = {"infidelity": False, "max_sensitivity": False}
    return results


def test_front_labels_never_overlap_even_when_points_coincide():
    # Four explainers on almost the same point and one far away: the old report printed
    # "C-LIMEmoothGradient" here.
    names = ["Gradient", "SmoothGrad", "C-LIME", "IntegratedGradients", "far"]
    results = _results(names, [1.0, 1.0001, 1.0002, 1.0, 5.0], [0.2, 0.2001, 0.2, 0.2002, 3.0])
    fig = Figure(figsize=(6, 4.5))
    display = MetricDisplay.from_results(results, kind="front", ax=fig.subplots())
    fig.savefig(__import__("io").BytesIO(), format="png")  # a real draw, then measure
    renderer = fig.canvas.get_renderer()
    boxes = [label.get_window_extent(renderer) for label in display.labels_]
    assert [label.get_text() for label in display.labels_] == names
    for i in range(len(boxes)):
        for j in range(i):
            assert not boxes[i].overlaps(boxes[j]), (names[i], names[j])
    # points in the explainers' colours, the same colours as every other figure
    colors = explainer_colors(names)
    points = [line for line in display.ax_.lines if not line.get_label().startswith("front")]
    drawn = [line.get_color() for line in points if line.get_marker() == "o"]
    assert [matplotlib.colors.to_hex(c) for c in drawn] == [
        matplotlib.colors.to_hex(colors[n]) for n in names
    ]
    assert "front" in display.ax_.get_legend().get_texts()[0].get_text()
    # Gradient beats every other explainer on both metrics (ties on one, lower on the other)
    assert display.front_ == ["Gradient"]


def test_metric_bars_mark_the_best_per_metric():
    results = _results(["a", "b", "c"], [3.0, 1.0, 2.0], [0.5, 0.7, 0.1])
    display = MetricDisplay.from_results(results, ax=Figure().subplots(1, 2))
    assert display.best("infidelity") == "c" and display.best("max_sensitivity") == "b"
    for ax, best in zip(display.ax_, [2, 1], strict=True):
        hatched = [i for i, p in enumerate(ax.patches) if p.get_hatch()]
        assert hatched == [best]
        assert "lower is better" in ax.get_title()
    with pytest.raises(ValueError, match="must hold 2 axes"):
        display.plot(ax=Figure().subplots())


def test_metric_display_from_explainers(X):
    model = SumOfSines()
    explainers = {
        "grad": Gradient(model=model),
        "sg": SmoothGrad(model=model, noise_scale=0.2, n_samples=4, random_state=0),
    }
    display = MetricDisplay.from_explainers(
        explainers,
        X[:4],
        ["infidelity", "max_sensitivity"],
        kind="front",
        ax=Figure().subplots(),
        random_state=0,
    )
    assert list(display.results.index) == ["grad", "sg"]
    assert display.ax_.get_xlabel().startswith("max_sensitivity")


def test_shapley_waterfall_adds_up_from_the_classs_base_value_to_the_output():
    from sklearn.linear_model import LogisticRegression

    from skexplain import ShapleyExplainer

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    model = LogisticRegression().fit(X, (X[:, 0] + X[:, 1] > 0).astype(int))
    explainer = ShapleyExplainer(model=model, method="exact", output="probability", random_state=0)
    display = AttributionDisplay.from_estimator(
        explainer, X[:5], kind="waterfall", ax=Figure().subplots(), row=1
    )
    predicted = model.predict(X[:5])
    # the base value is the predicted class's expected output; efficiency closes the waterfall
    np.testing.assert_array_equal(display.base_values, explainer.expected_value_[predicted])
    np.testing.assert_allclose(
        display.attributions.sum(axis=1) + display.base_values, display.outputs, atol=1e-12
    )
    np.testing.assert_allclose(display.outputs, model.predict_proba(X[:5])[np.arange(5), predicted])
    labels = [t.get_text() for t in display.ax_.get_yticklabels()]
    assert "not attributed" not in labels and len(labels) == 4
