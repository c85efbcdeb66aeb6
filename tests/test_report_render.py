"""The HTML report opened in headless Chromium: the table and every figure render.

Chromium: see ``tests/_chromium.py`` (these tests fail without it, they do not skip).
"""

import io

import numpy as np
import pytest
from _chromium import probe, run_chromium
from PIL import Image

from skexplain import Gradient, IntegratedGradients, SmoothGrad
from skexplain.functions import SumOfSines
from skexplain.report import ExplanationReport, evaluate_explainers

# Appended to a copy of the report: after load, write what the browser made of the page.
PROBE = """<script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var cells = Array.prototype.slice.call(document.querySelectorAll("table.metrics tbody td"));
  var probe = document.createElement("pre");
  probe.id = "render-probe";
  probe.textContent = JSON.stringify({
    images: images.map(function (im) {
      var box = im.getBoundingClientRect();
      return {complete: im.complete, width: im.naturalWidth, height: im.naturalHeight,
              shown: box.width * box.height};
    }),
    rows: document.querySelectorAll("table.metrics tbody tr").length,
    titles: cells.map(function (td) { return td.title; })
  });
  document.body.appendChild(probe);
});
</script>
"""


def _report(image_rows):
    rng = np.random.default_rng(0)
    model = SumOfSines()
    explainers = {
        "grad": Gradient(model=model),
        "sg": SmoothGrad(model=model, noise_scale=0.3, n_samples=8, random_state=0),
        "ig": IntegratedGradients(model=model, n_steps=8),
    }
    d = 16 if image_rows else 5
    X = rng.uniform(-2, 2, size=(6, d))
    results, attributions = evaluate_explainers(
        explainers, X, random_state=0, return_attributions=True
    )
    report = ExplanationReport(
        results, attributions, X, image_shape=(4, 4) if image_rows else None, n_rows=2
    )
    return results, report, report.render()


@pytest.mark.parametrize("image_rows", [False, True], ids=["tabular", "images"])
def test_chromium_renders_the_table_and_every_figure(tmp_path, image_rows):
    results, report, text = _report(image_rows)
    page = tmp_path / "report.html"
    page.write_text(text, encoding="utf-8")
    probe_ = probe(tmp_path, page, PROBE, "render-probe")

    # every figure decoded at the size of its PNG, and laid out with a visible area
    sizes = [Image.open(io.BytesIO(png)).size for _, png in report.figures_]
    assert len(sizes) == text.count("data:image/png;base64,") >= 3
    assert [(im["width"], im["height"]) for im in probe_["images"]] == sizes
    assert all(im["complete"] and im["shown"] > 0 for im in probe_["images"])
    # the table, as the browser parsed it, holds the DataFrame's numbers exactly
    assert probe_["rows"] == len(results)
    means = results.xs("mean", axis=1, level=1).to_numpy().ravel()
    np.testing.assert_array_equal(np.array(probe_["titles"], dtype=float), means)


def test_chromium_screenshot_shows_the_figures(tmp_path):
    _, report, text = _report(image_rows=False)
    page = tmp_path / "report.html"
    page.write_text(text, encoding="utf-8")
    shot = tmp_path / "report.png"
    run_chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,2400", page.as_uri())
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=float)
    assert pixels.shape[:2] == (2400, 1200)
    # Figures bring colour (bars, fronts); a page of text and broken-image icons is grey.
    saturation = pixels.max(axis=2) - pixels.min(axis=2)
    coloured = (saturation > 60).mean()
    assert coloured > 0.01, f"only {coloured:.2%} of the screenshot is coloured"


# -- what a reader needs, in the page as the browser parsed it ----------------------------------
CONTENT_PROBE = """<script>
window.addEventListener("load", function () { setTimeout(function () {
  function text(el) { return el ? el.innerText.trim() : null; }
  function pair(tr) { return [text(tr.querySelector("th")), text(tr.querySelector("td"))]; }
  var heads = Array.prototype.slice.call(document.querySelectorAll("table.metrics thead th"));
  var body = Array.prototype.slice.call(document.querySelectorAll("table.metrics tbody tr"));
  var metrics = heads.slice(1).map(function (th) { return th.querySelector("a").innerText; });
  var probe = document.createElement("pre");
  probe.id = "content-probe";
  probe.textContent = JSON.stringify({
    metrics: metrics,
    directions: heads.slice(1).map(function (th) { return text(th.querySelector(".direction")); }),
    table: body.map(function (tr) {
      return {name: text(tr.querySelector("th")),
              cells: Array.prototype.slice.call(tr.querySelectorAll("td")).map(function (td) {
                return {value: td.title, best: td.classList.contains("best"),
                        star: td.innerText.indexOf("\\u2605") >= 0}; })};
    }),
    definitions: metrics.map(function (m) {
      var dd = document.getElementById("metric-" + m).nextElementSibling;
      return {definition: text(dd.querySelector(".definition")),
              direction: text(dd.querySelector(".direction")), all: text(dd)};
    }),
    verdict: text(document.querySelector("p.verdict")),
    settings: Array.prototype.slice.call(document.querySelectorAll("table.settings tr")).map(pair),
    rows: Array.prototype.slice.call(document.querySelectorAll("section.row")).map(function (s) {
      var img = s.querySelector("img");
      return {facts: text(s.querySelector("p.facts")),
              values: Array.prototype.slice.call(s.querySelectorAll("table.features tr")).map(pair),
              image: img.complete && img.naturalWidth > 100};
    })
  });
  document.body.appendChild(probe);
}, 0); });
</script>
"""


def _check_page(tmp_path, page, n_rows, settings):
    seen = probe(tmp_path, page, CONTENT_PROBE, "content-probe")
    metrics = seen["metrics"]
    assert metrics, "no metrics table"
    # every metric: a one-sentence definition and its direction, in the header and the list
    for m, head, item in zip(metrics, seen["directions"], seen["definitions"], strict=True):
        assert head in ("\u2191 higher is better", "\u2193 lower is better"), (m, head)
        assert item["direction"] == head
        assert item["definition"] and item["definition"].endswith("."), m
        assert "Range:" in item["all"] and "User guide" in item["all"], m
    # the best explainer of each column marked, and it is the best by the numbers
    for k, (m, head) in enumerate(zip(metrics, seen["directions"], strict=True)):
        values = np.array([float(r["cells"][k]["value"]) for r in seen["table"]])
        marked = [r["name"] for r in seen["table"] if r["cells"][k]["best"]]
        starred = [r["name"] for r in seen["table"] if r["cells"][k]["star"]]
        best = values.argmax() if head.startswith("\u2191") else values.argmin()
        assert marked == starred == [seen["table"][best]["name"]], m
    # the verdict, computed from the numbers
    assert seen["verdict"].startswith("Most faithful: "), seen["verdict"]
    assert "Most robust: " in seen["verdict"]
    # the run settings
    shown = dict(seen["settings"])
    for key in settings:
        assert key in shown, (key, shown)
    # one panel per row with the model output, base value and feature values
    assert len(seen["rows"]) == n_rows
    for row in seen["rows"]:
        assert "model output f(x) = " in row["facts"], row["facts"]
        assert "base value " in row["facts"], row["facts"]
        assert row["values"] and all(float(v) == float(v) for _, v in row["values"])
        assert row["image"]
    return seen


def test_bundled_report_in_the_browser(tmp_path, capsys):
    from skexplain.__main__ import main

    page = tmp_path / "bundled.html"
    argv = ["report", "--dataset", "wine", "--rows", "6", "--quiet", "--out", str(page)]
    assert main(argv) == 0
    seen = _check_page(
        tmp_path,
        page,
        3,
        ["rows explained", "random state", "noise scale (SmoothGrad, VarGrad, C-LIME)"],
    )
    assert any(k.startswith("held-out accuracy of the model") for k, _ in seen["settings"])
    # IntegratedGradients is an attribution: its base value is named in each row's facts
    assert all("IntegratedGradients's baseline" in row["facts"] for row in seen["rows"])


def test_report_on_a_users_model_and_csv_in_the_browser(tmp_path, capsys):
    import joblib
    import pandas as pd
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skexplain.__main__ import main

    X, y = make_classification(n_samples=40, n_features=4, random_state=1)
    frame = pd.DataFrame(X, columns=["age", "dose", "weight", "score"])
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, y)
    joblib.dump(model, tmp_path / "model.joblib")
    frame.assign(label=y).to_csv(tmp_path / "rows.csv", index=False)
    page = tmp_path / "user.html"
    argv = ["report", "--model", tmp_path / "model.joblib", "--data", tmp_path / "rows.csv"]
    argv += ["--target", "label", "--rows", "5", "--quiet", "--out", page]
    assert main(list(map(str, argv))) == 0
    seen = _check_page(tmp_path, page, 3, ["rows explained", "random state"])
    score = model.score(frame, y)
    assert any(v == f"{score:.4g}" for k, v in seen["settings"] if "score" in k)
    # the feature values shown are the CSV's
    first = dict(seen["rows"][0]["values"])
    for name, value in first.items():
        assert float(value) == pytest.approx(frame.loc[0, name], rel=1e-3)


def test_trade_off_labels_never_overlap_in_the_report(tmp_path):
    _, report, _ = _report(image_rows=False)
    front = report.displays_["front"]
    fig = front.figure_
    fig.savefig(io.BytesIO(), format="png")
    renderer = fig.canvas.get_renderer()
    boxes = [label.get_window_extent(renderer) for label in front.labels_]
    assert len(boxes) == 3
    assert not any(boxes[i].overlaps(boxes[j]) for i in range(3) for j in range(i))
