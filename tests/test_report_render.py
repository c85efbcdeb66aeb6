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
