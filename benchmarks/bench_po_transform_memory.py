"""Memory added by PropertyOptimizedExplainer.transform on many new rows (issue 12, cause 13).

The explainer is fitted on ``--fit`` rows (default 5,000: the kNN graph with 10 neighbours), then
``transform`` explains ``--new`` rows (default 20,000) that it has not seen. Each new row's
extension needs its similarities to every fitted row; a dense ``(new, fit)`` kernel is 763 MiB at
the defaults, and transform once built about three of them (+2.4 GiB). transform now works in
chunks of new rows whose kernel block is bounded (``TRANSFORM_CHUNK_ENTRIES``), so the memory it
adds is the chunk's work arrays plus the result, whatever the number of new rows.

In a fresh child process per size: fit, transform a few rows once (one-time set-up), reset the
peak resident set (``/proc/self/clear_refs``; the lifetime peak where unavailable, which the
table says), transform all new rows and read the peak. The table prints ``peak - baseline``
for several numbers of new rows (it must not grow with them) and the verdict against the
limit of 300 MiB at the largest size.

Run ``python benchmarks/bench_po_transform_memory.py`` (``--quick`` for a smoke run).
"""

import argparse
import json
import sys
import time

import numpy as np
from _common import MiB, check, memory_baseline, memory_peak, print_table, run_child, set_threads

LIMIT_MIB = 300.0


def child(args):
    """Measure one size in this process and print a JSON line."""
    from skexplain import PropertyOptimizedExplainer
    from skexplain.functions import SinExp

    set_threads(args.threads)
    rng = np.random.default_rng(0)
    X_fit = rng.uniform(-2, 2, size=(args.fit, args.features))
    X_new = rng.uniform(-2, 2, size=(args.child, args.features))
    explainer = PropertyOptimizedExplainer(
        model=SinExp(), lambda_robust=1.0, n_neighbors=10, solver="cg"
    ).fit(X_fit)
    explainer.transform(X_new[:10])
    exact, baseline = memory_baseline()
    start = time.perf_counter()
    W = explainer.transform(X_new)
    seconds = time.perf_counter() - start
    added = memory_peak(exact) - baseline
    print(
        json.dumps(
            {
                "new": args.child,
                "added": added,
                "result": W.nbytes,
                "seconds": seconds,
                "exact": exact,
                "dense_kernel": 8.0 * args.child * args.fit,
            }
        )
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", type=int, default=5000, help="fitted rows")
    parser.add_argument("--new", type=int, nargs="+", default=[2500, 5000, 10000, 20000])
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        child(args)
        return []
    if args.quick:
        args.fit, args.new = 500, [500, 2000]
    rows, runs = [], []
    for n_new in args.new:
        options = ["--child", n_new, "--fit", args.fit, "--features", args.features]
        if args.threads is not None:
            options += ["--threads", args.threads]
        run = run_child(__file__, options, timeout=1200, what=f"the run on {n_new} new rows")
        runs.append(run)
        rows.append(
            [
                f"{n_new:,}",
                f"{args.fit:,}",
                f"{run['dense_kernel'] / MiB:.0f}",
                f"{run['added'] / MiB:.1f}",
                f"{run['result'] / MiB:.1f}",
                f"{run['seconds']:.2f}",
            ]
        )
    print("# PropertyOptimizedExplainer.transform: memory added (peak RSS - baseline), MiB")
    if not runs[0]["exact"]:
        print("# (no peak reset on this system: lifetime peaks, an upper bound)")
    print_table(
        ["new rows", "fitted rows", "dense kernel", "added", "of which result", "seconds"], rows
    )
    largest = runs[-1]
    added = largest["added"] / MiB
    verdict = "OK" if added < LIMIT_MIB else "OVER"
    print(
        f"transform of {largest['new']:,} new rows against {args.fit:,} fitted rows adds "
        f"{added:.1f} MiB (limit {LIMIT_MIB:.0f} MiB): {verdict}"
    )
    if not args.quick:
        check(added < LIMIT_MIB, f"transform added {added:.1f} MiB, limit {LIMIT_MIB:.0f} MiB")
    return runs


if __name__ == "__main__":
    sys.exit(0 if main() is not None else 1)
