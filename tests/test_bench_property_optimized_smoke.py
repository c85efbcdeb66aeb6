"""Smoke test: benchmarks/bench_property_optimized.py --quick runs to the end in a subprocess.

The quick run solves the kNN problem on 1,000 and 2,000 rows (each in its own child process) and
checks our dense and CG solvers against cvxpy on 100 and 200 rows; no timing is asserted.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(120)
def test_bench_property_optimized_quick_runs():
    pytest.importorskip("cvxpy")
    script = ROOT / "benchmarks" / "bench_property_optimized.py"
    completed = subprocess.run(
        [sys.executable, str(script), "--quick", "--threads", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    out = completed.stdout
    assert completed.returncode == 0, out[-3000:] + completed.stderr[-3000:]
    assert out.count("agreement OK: CG converged") == 2
    assert out.count("agreement OK: N=") == 4  # dense and cg against cvxpy, two sizes
    assert "bytes per row" in out
