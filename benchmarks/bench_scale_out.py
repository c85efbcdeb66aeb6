"""Explainers and metrics on dask arrays that never fit in the driver: rows/s and driver memory.

Each run is a fresh child process (its own peak memory) that starts a dask LocalCluster with 1 or
2 worker processes (one thread each), builds the rows lazily (``dask.array`` random numbers, never
materialized), explains them block by block with a fitted explainer, and reduces the result on
the cluster to a global importance (mean |attribution| per feature) and, for the metric, the mean
infidelity. The driver only holds the task graph and the 30 numbers that come back.

* SmoothGrad-10 and infidelity (10 draws): 10,000,000 rows x 30 features (``--rows``);
* CLIME (50 samples) and ShapleyExplainer (kernel, 64 coalitions, 10 background rows): 200,000
  rows (``--small-rows``).

The model is ``skexplain.functions.Polynomial(2)`` (a numpy callable with its exact gradient,
a few flops per feature), so the figures measure the engine and the scheduler, not a network.
Driver peak memory must stay under 1 GiB. Run ``python benchmarks/bench_scale_out.py``
(``--quick`` for a smoke run).
"""

import argparse
import json
import os
import time

from _common import MiB, check, memory_baseline, memory_peak, print_environment, print_table
from _common import run_child as _run_child

FEATURES = 30
DRIVER_LIMIT = 1024 * MiB


def _explainer(name):
    from skexplain import CLIME, ShapleyExplainer, SmoothGrad
    from skexplain.functions import Polynomial

    model = Polynomial(2)
    if name == "SmoothGrad":
        return SmoothGrad(model=model, n_samples=10, random_state=0)
    if name == "CLIME":
        return CLIME(model=model, n_samples=50, random_state=0)
    return ShapleyExplainer(
        model=model, n_background=10, method="kernel", n_samples=64, random_state=0
    )


def child(args):
    """One explainer, one cluster size: print a JSON line."""
    import dask.array as da
    import numpy as np
    from dask import distributed

    workers = args.workers[0]
    baseline_reset, baseline = memory_baseline()
    cluster = distributed.LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with cluster, distributed.Client(cluster):
        fit_rows = np.random.default_rng(1).uniform(-2, 2, size=(1000, FEATURES))
        explainer = _explainer(args.explainer).fit(fit_rows)
        X = da.random.default_rng(0).uniform(
            -2, 2, size=(args.child, FEATURES), chunks=(args.chunk, FEATURES)
        )
        start = time.perf_counter()
        A = explainer.transform(X)
        importance = abs(A).mean(axis=0)
        if args.metric:
            from skexplain.metrics import infidelity

            score = infidelity(explainer.model_, X, A, n_samples=10, random_state=0).mean()
            importance, score = da.compute(importance, score)
            score = float(score)
        else:
            importance, score = importance.compute(), None
        seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "explainer": args.explainer,
                "rows": args.child,
                "workers": workers,
                "seconds": seconds,
                "driver_peak": memory_peak(baseline_reset),
                "driver_baseline": baseline,
                "importance": [float(v) for v in importance],
                "infidelity": score,
            }
        )
    )


def run(args, explainer, rows, workers, metric):
    options = ["--child", rows, "--explainer", explainer, "--workers", workers]
    options += ["--chunk", args.chunk] + (["--metric"] if metric else [])
    return _run_child(__file__, options, timeout=args.timeout, what=f"{explainer} on {rows} rows")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="SmoothGrad/infidelity rows")
    parser.add_argument("--small-rows", type=int, default=200_000, help="CLIME/Shapley rows")
    parser.add_argument("--chunk", type=int, default=100_000, help="rows per dask block")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per child")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--explainer", default="SmoothGrad", help=argparse.SUPPRESS)
    parser.add_argument("--metric", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        return child(args)
    if args.quick:
        args.rows, args.small_rows, args.chunk, args.workers = 20_000, 4_000, 5_000, [1, 2]

    print_environment("bench_scale_out: dask arrays block by block, 1 and 2 workers")
    plan = [("SmoothGrad", args.rows, True), ("CLIME", args.small_rows, False)]
    plan.append(("ShapleyExplainer", args.small_rows, False))
    runs, table = [], []
    for name, rows, metric in plan:
        by_workers = {}
        for workers in args.workers:
            r = run(args, name, rows, workers, metric)
            runs.append(r)
            by_workers[workers] = r
            table.append(
                [
                    name + (" + infidelity" if metric else ""),
                    f"{rows:,}",
                    workers,
                    f"{r['seconds']:.1f}",
                    f"{rows / r['seconds']:,.0f}",
                    f"{(r['driver_peak']) / MiB:.0f}",
                ]
            )
            check(
                r["driver_peak"] < DRIVER_LIMIT,
                f"{name} on {rows:,} rows, {workers} worker(s): driver peak "
                f"{r['driver_peak'] / MiB:.0f} MiB < {DRIVER_LIMIT / MiB:.0f} MiB",
            )
        first, *others = by_workers.values()
        for other in others:
            check(
                other["importance"] == first["importance"]
                and other["infidelity"] == first["infidelity"],
                f"{name}: the same global importance and infidelity with "
                f"{other['workers']} workers as with {first['workers']}",
            )
    print_table(["what", "rows", "workers", "seconds", "rows/s", "driver peak MiB"], table)
    print(f"load average now {os.getloadavg()[0]:.2f}")
    return runs


if __name__ == "__main__":
    main()
