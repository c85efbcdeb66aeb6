"""The built documentation read offline in headless Chromium: math is typeset, no LaTeX shows.

The HTML documentation is taken from ``SKEXPLAIN_DOCS_HTML`` when set (``.ci/run`` sets it to
the tree its ``sphinx-build -W`` step just built), otherwise built here with the same command
into a temporary directory (minutes: the test is marked slow). The page is opened with every
network request refused, so MathJax must come from the site itself.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _chromium import probe

ROOT = Path(__file__).resolve().parents[1]
PAGE = "user_guide/infidelity.html"  # many formulas, inline and display

# After MathJax has typeset the page: what a reader sees.
PROBE = """<script>
window.addEventListener("load", function () {
  function report() {
    var probe = document.createElement("pre");
    probe.id = "math-probe";
    probe.textContent = JSON.stringify({
      mathjax: typeof MathJax !== "undefined" && !!MathJax.startup,
      containers: document.querySelectorAll("mjx-container").length,
      math: document.querySelectorAll(".math").length,
      text: document.body.innerText
    });
    document.body.appendChild(probe);
  }
  // MathJax (deferred) starts after the load event: wait for it, then for its typesetting.
  function wait(tries) {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      // (a node added in the same task as the load event does not survive in the dumped DOM)
      MathJax.startup.promise.then(later, later);
    } else if (tries > 0) {
      setTimeout(function () { wait(tries - 1); }, 100);
    } else {
      later();
    }
  }
  function later() { setTimeout(report, 0); }
  setTimeout(function () { wait(100); }, 0);
});
</script>
"""


@pytest.fixture(scope="module")
def docs_html(tmp_path_factory):
    given = os.environ.get("SKEXPLAIN_DOCS_HTML")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("docs") / "html"
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
    done = subprocess.run(
        [*command, str(ROOT / "doc"), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.mark.slow
def test_math_is_typeset_offline_and_no_latex_is_visible(docs_html, tmp_path):
    source = docs_html / PAGE
    text = source.read_text(encoding="utf-8")
    # every script and stylesheet comes from the site itself
    external = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?:[^"]+)"', text)
    assert not external, external
    assert "_static/mathjax/" in text

    # a copy of the site, probed (the build directory stays as built)
    site = tmp_path / "site"
    shutil.copytree(docs_html, site)
    found = probe(tmp_path, site / PAGE, PROBE, "math-probe", budget_ms=30000)

    assert found["mathjax"], "MathJax did not load from the site"
    assert found["math"] >= 5
    # one typeset container per formula of the page
    assert found["containers"] >= found["math"], probe
    visible = found["text"]
    for latex in ("\\(", "\\)", "\\[", "\\]", "\\frac", "\\mathbb", "\\sum", "\\lVert", "$$"):
        assert latex not in visible, f"raw LaTeX {latex!r} in the visible text"
