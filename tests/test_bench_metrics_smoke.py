"""Smoke test: benchmarks/bench_metrics.py --quick runs to the end (values agree with Captum)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_bench_metrics_quick_runs():
    pytest.importorskip("captum")
    script = ROOT / "benchmarks" / "bench_metrics.py"
    completed = subprocess.run(
        [sys.executable, str(script), "--quick", "--threads", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert "agreement OK: infidelity" in completed.stdout
    assert "agreement OK: max_sensitivity" in completed.stdout
