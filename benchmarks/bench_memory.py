"""Peak memory of SmoothGrad on a small torch MLP as the number of rows grows.

Each measurement runs in a fresh subprocess, so that no allocator cache or high-water mark carries
over between sizes. In the child: import, build the model and the input ``X`` ``(n, d)`` float64,
explain a few rows once (torch's one-time set-up), then reset the process's peak resident set
(``/proc/self/clear_refs``; where that is unavailable the lifetime peak ``ru_maxrss`` is used and
the report says so), note the current resident set as the baseline, run
``SmoothGrad(...).fit(X).transform(X)`` and read the peak. ``peak - baseline`` is everything the
explanation added: its working memory plus the result ``(n, d)`` float64. The table subtracts
the result's size; what remains is the working memory, which must stay flat in ``n`` (bounded by
the engine's chunk of ``DEFAULT_BATCH_SIZE`` model evaluations).

For contrast, the same measurement of the naive computation (one autograd call over all
``n * n_samples`` noisy rows) shows what growing working memory looks like with this method.
``--fixed-mmap-threshold`` adds a run of skexplain under glibc's ``MALLOC_MMAP_THRESHOLD_``
(every large block is mmapped and returned on free), which separates memory the engine holds
from heap fragmentation caused by its allocation pattern. Each variant gets a verdict, FLAT or
GROWS; ``--strict`` turns GROWS into an error.

Run ``python benchmarks/bench_memory.py`` (``--quick`` for a smoke run, ``--help``).
"""

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from _common import (
    MiB,
    check,
    memory_baseline,
    memory_peak,
    print_table,
    run_child,
    set_threads,
)


def child(args):
    """Measure one size in this process and print a JSON line."""
    import torch

    import skexplain.models
    from skexplain import SmoothGrad
    from skexplain.perturbations import GaussianNoise

    set_threads(args.threads)
    torch.manual_seed(0)
    d, h = args.features, args.hidden
    module = torch.nn.Sequential(
        torch.nn.Linear(d, h), torch.nn.Tanh(), torch.nn.Linear(h, h), torch.nn.Tanh()
    )
    module.append(torch.nn.Linear(h, args.outputs)).eval()
    X = np.random.default_rng(0).standard_normal((args.child, d))
    s, m = args.noise_scale, args.samples

    def explain(rows):
        return (
            SmoothGrad(model=module, noise_scale=s, n_samples=m, random_state=0)
            .fit(rows)
            .transform(rows)
        )

    def naive(rows):
        # One autograd call over all rows * samples noisy inputs: what the engine avoids.
        bank = torch.as_tensor(GaussianNoise(s).draw(m, d, 0)["noise"], dtype=torch.float32)
        Xt = torch.as_tensor(rows, dtype=torch.float32)
        Z = (Xt[:, None, :] + bank[None]).reshape(-1, d).requires_grad_(True)
        (grad,) = torch.autograd.grad(module(Z)[:, 0].sum(), Z)
        return grad.reshape(len(rows), m, d).mean(dim=1).double().numpy()

    run = naive if args.method == "naive" else explain
    run(X[:10])  # torch's one-time set-up (threads, kernels), not the explanation's memory
    exact, baseline = memory_baseline()
    start = time.perf_counter()
    W = run(X)
    seconds = time.perf_counter() - start
    peak = memory_peak(exact)
    result = {
        "rows": args.child,
        "method": args.method,
        "baseline": baseline,
        "peak": peak,
        "input": X.nbytes,
        "output": W.nbytes,
        "seconds": seconds,
        "peak_reset": exact,
        "batch_size": skexplain.models.DEFAULT_BATCH_SIZE,
        "threads": torch.get_num_threads(),
    }
    print(json.dumps(result))


def measure_in_subprocess(args, rows, method, extra_env=None):
    options = ["--child", rows, "--method", method, "--samples", args.samples]
    options += ["--features", args.features, "--hidden", args.hidden]
    options += ["--outputs", args.outputs, "--noise-scale", args.noise_scale]
    if args.threads is not None:
        options += ["--threads", args.threads]
    return run_child(
        __file__,
        options,
        timeout=args.timeout,
        extra_env=extra_env,
        what=f"measurement of {rows} rows ({method})",
    )


# glibc raises its mmap threshold (up to 32 MiB) after the first large free, after which a chunk's
# temporaries live on the heap, where small long-lived blocks allocated between chunks can keep
# freed space from being reused or returned. A fixed threshold sends every large block to mmap
# and back to the system on free: the run with it shows the working memory without that effect.
FIXED_MMAP = {"MALLOC_MMAP_THRESHOLD_": "131072"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1e4, 1e5, 1e6])
    parser.add_argument("--naive-max", type=float, default=1e5, help="largest naive size")
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--features", type=int, default=30)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--outputs", type=int, default=1)
    parser.add_argument("--noise-scale", type=float, default=0.1)
    parser.add_argument("--threads", type=int, default=None, help="torch threads in the child")
    parser.add_argument(
        "--fixed-mmap-threshold",
        action="store_true",
        help=f"also measure skexplain under glibc's {FIXED_MMAP} (allocator diagnosis)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit with an error when memory is not flat"
    )
    parser.add_argument("--timeout", type=float, default=1200, help="seconds per child")
    parser.add_argument("--jobs", type=int, default=1, help="children run at once")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--method", default="skexplain", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        return child(args)
    if args.quick:
        args.sizes, args.naive_max, args.samples, args.jobs = [1e4, 3e4], 0, 10, 2

    import skexplain.models

    batch = skexplain.models.DEFAULT_BATCH_SIZE
    print("# bench_memory: peak memory of SmoothGrad vs rows (torch MLP, CPU)")
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}; one subprocess per size")
    print(
        f"model: MLP {args.features}-{args.hidden}-{args.hidden}-{args.outputs} tanh float32; "
        f"n_samples {args.samples}; DEFAULT_BATCH_SIZE {batch} "
        f"({max(1, batch // args.samples)} rows per chunk)"
    )
    variants = [("skexplain", "skexplain", None)]
    if args.fixed_mmap_threshold:
        variants.append(("skexplain, fixed mmap threshold", "skexplain", FIXED_MMAP))
    variants.append(("naive: one autograd call", "naive", None))
    tasks = [
        (label, int(size), method, env)
        for size in args.sizes
        for label, method, env in variants
        if method != "naive" or size <= args.naive_max
    ]

    def measure_one(task):
        label, size, method, env = task
        return dict(measure_in_subprocess(args, size, method, env), label=label)

    # Peak RSS is per process, so children may run side by side (--jobs); only rows/s suffers.
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        runs = list(pool.map(measure_one, tasks))
    print(f"torch threads in the children: {runs[0]['threads']}; children at once: {args.jobs}")
    if not runs[0]["peak_reset"]:
        print("note: the peak could not be reset here; lifetime peak RSS (ru_maxrss) is used")

    table = []
    for r in runs:
        added = r["peak"] - r["baseline"]
        table.append(
            [
                r["label"],
                f"{r['rows']:,}",
                f"{r['input'] / MiB:.1f}",
                f"{r['output'] / MiB:.1f}",
                f"{added / MiB:.1f}",
                f"{(added - r['output']) / MiB:.1f}",
                f"{r['rows'] / r['seconds']:,.0f}",
            ]
        )
    print()
    print_table(
        [
            "implementation",
            "rows",
            "input MiB",
            "result MiB",
            "peak - baseline MiB",
            "working MiB (minus result)",
            "rows/s",
        ],
        table,
    )
    verdicts = {}
    for label, method, _ in variants:
        ours = [r for r in runs if r["label"] == label]
        if method == "naive" or len(ours) < 2:
            continue
        working = [(r["peak"] - r["baseline"] - r["output"]) / MiB for r in ours]
        growth = working[-1] - working[0]
        result_growth = (ours[-1]["output"] - ours[0]["output"]) / MiB
        # Flat: no growth beyond one more copy of the result (a final concatenation may hold
        # it twice) and 64 MiB of allocator noise. Work proportional to rows * n_samples, or
        # memory kept per chunk, shows up far above that at the largest size.
        flat = growth <= result_growth + 64
        verdicts[label] = flat
        print(
            f"{label}: working memory {working[0]:.1f} MiB at {ours[0]['rows']:,} rows, "
            f"{working[-1]:.1f} MiB at {ours[-1]['rows']:,} rows (result +{result_growth:.1f} "
            f"MiB): {'FLAT' if flat else 'GROWS'}"
        )
    if args.strict:
        check(all(verdicts.values()), "working memory stays flat as rows grow")
    return runs


if __name__ == "__main__":
    main()
