"""The aggregation benchmark runs (``--quick``): a smoke test, not a timing."""

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_aggregation_quick_runs():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_aggregation.py"), "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.perf_counter() - start
    assert result.returncode == 0, result.stdout + result.stderr
    assert elapsed < 30, f"--quick took {elapsed:.1f} s"
    for line in ("iid:", "correlated:", "cvxpy per row", "OSQP per row, setup reused"):
        assert line in result.stdout, result.stdout
