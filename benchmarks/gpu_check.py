"""The prepared GPU check: the ``gpu`` tests, then one table of throughput on device and CPU.

Run it whenever the ``device`` tool lends a machine, as one command (about 5 minutes on one GPU;
``--quick`` is a CPU smoke run for the test suite)::

    python benchmarks/gpu_check.py

It prints, for a float32 tanh MLP ``30-64-64-2``:

* the ``gpu`` marker's tests (``pytest -m gpu``), pass/fail counts;
* Gradient, SmoothGrad-50 and Integrated Gradients-50: rows/s of skexplain and of Captum on the
  same device, their ratio, and skexplain's device result against its CPU result (max relative
  difference);
* ShapleyExplainer (kernel, 2,048 coalitions, 50 background rows) on the torch path: rows/s on
  each device and the agreement between devices;
* the inductive GP of PropertyOptimizedExplainer (1,000 inducing points): fit time on each device
  and the agreement.

Each figure is the best of ``--repeats`` interleaved runs after one warm-up (CUDA kernels load
on first use); the device runs synchronize before the clock stops.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _common import print_environment, print_table

ROOT = Path(__file__).resolve().parents[1]


def _gpu_tests(quick):
    if quick:
        return "not run (--quick)"
    command = [sys.executable, "-m", "pytest", "-q", "-m", "gpu", "-p", "no:cacheprovider"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    print("\n".join(lines[-15:]))
    return lines[-1] if lines else f"pytest exit status {done.returncode}"


def _mlp(n_features, device):
    import torch

    torch.manual_seed(0)
    return (
        torch.nn.Sequential(
            torch.nn.Linear(n_features, 64),
            torch.nn.Tanh(),
            torch.nn.Linear(64, 64),
            torch.nn.Tanh(),
            torch.nn.Linear(64, 2),
        )
        .to(device)
        .eval()
    )


def _synchronize(device):
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _best(function, device, repeats):
    function()  # warm-up
    best, result = np.inf, None
    for _ in range(repeats):
        _synchronize(device)
        start = time.perf_counter()
        result = function()
        _synchronize(device)
        best = min(best, time.perf_counter() - start)
    return best, result


def _captum(name, module, X, device, n):
    import torch
    from captum.attr import IntegratedGradients, NoiseTunnel, Saliency

    Xt = torch.as_tensor(X, dtype=torch.float32, device=device)
    with torch.no_grad():
        target = module(Xt).argmax(dim=1)
    if name == "Gradient":
        out = Saliency(module).attribute(Xt, target=target, abs=False)
    elif name == "SmoothGrad":
        out = NoiseTunnel(Saliency(module)).attribute(
            Xt, nt_type="smoothgrad", nt_samples=n, stdevs=0.1, abs=False, target=target
        )
    else:
        out = IntegratedGradients(module).attribute(
            Xt, baselines=0.0, target=target, n_steps=n, method="gausslegendre"
        )
    return out.detach().double().cpu().numpy()


def _ours(name, module, X, device, n):
    from skexplain import Gradient, IntegratedGradients, SmoothGrad
    from skexplain.models import as_model

    model = as_model(module, device=device)
    explainer = {
        "Gradient": lambda: Gradient(model=model),
        "SmoothGrad": lambda: SmoothGrad(model=model, n_samples=n, random_state=0),
        "IntegratedGradients": lambda: IntegratedGradients(model=model, n_steps=n),
    }[name]()
    return explainer.fit(X).transform(X)


def _relative(a, b):
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


def gradient_rows(devices, rows, repeats):
    X = np.random.default_rng(0).normal(size=(rows, 30))
    table, results = [], {}
    for name, n in (("Gradient", 1), ("SmoothGrad", 50), ("IntegratedGradients", 50)):
        for device in devices:
            module = _mlp(30, device)
            args = (name, module, X, device, n)
            ours_s, ours = _best(lambda args=args: _ours(*args), device, repeats)
            peer_s, _ = _best(lambda args=args: _captum(*args), device, repeats)
            results[name, device] = ours
            table.append(
                [
                    f"{name}-{n}" if n > 1 else name,
                    device,
                    f"{rows / ours_s:,.0f}",
                    f"{rows / peer_s:,.0f}",
                    f"{peer_s / ours_s:.1f}x",
                    "-" if device == "cpu" else "(below)",
                ]
            )
    # Agreement of the device with the CPU, now that both ran.
    for row in table:
        name = row[0].split("-")[0]
        if row[1] != "cpu":
            row[5] = f"{_relative(results[name, row[1]], results[name, 'cpu']):.1e}"
    return table


def shapley_rows(devices, rows, n_samples, n_background, repeats):
    try:
        from skexplain import ShapleyExplainer
    except ImportError:
        return [["ShapleyExplainer", "-", "not available", "", "", ""]]
    from skexplain.models import as_model

    rng = np.random.default_rng(1)
    X, background = rng.normal(size=(rows, 30)), rng.normal(size=(n_background, 30))
    table, results = [], {}
    for device in devices:
        model = as_model(_mlp(30, device), device=device)

        def run(model=model):
            explainer = ShapleyExplainer(
                model=model,
                background=background,
                method="kernel",
                n_samples=n_samples,
                random_state=0,
            )
            return explainer.fit(X).transform(X)

        seconds, results[device] = _best(run, device, repeats)
        agreement = "-" if device == "cpu" else None
        table.append(
            [f"Shapley kernel-{n_samples}", device, f"{rows / seconds:,.1f}", "", "", agreement]
        )
    for row in table:
        if row[1] != "cpu":
            row[5] = f"{_relative(results[row[1]], results['cpu']):.1e}"
    return table


def gp_rows(devices, rows, inducing, repeats):
    from skexplain import PropertyOptimizedExplainer
    from skexplain.functions import SinExp

    X = np.random.default_rng(2).uniform(-2, 2, size=(rows, 10))
    table, results = [], {}
    for device in devices:
        explainer = PropertyOptimizedExplainer(
            model=SinExp(),
            lambda_robust=0.5,
            setting="inductive",
            n_inducing=inducing,
            device=device,
            random_state=0,
        )
        seconds, results[device] = _best(lambda e=explainer: e.fit(X).transform(X), device, repeats)
        table.append(
            [f"GP fit+transform ({inducing} ind.)", device, f"{seconds:.2f} s", "", "", "-"]
        )
    for row in table:
        if row[1] != "cpu":
            row[5] = f"{_relative(results[row[1]], results['cpu']):.1e}"
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000, help="rows for the gradient methods")
    parser.add_argument("--shapley-rows", type=int, default=500)
    parser.add_argument("--coalitions", type=int, default=2048, help="Shapley kernel budget")
    parser.add_argument("--background", type=int, default=50, help="Shapley background rows")
    parser.add_argument("--gp-rows", type=int, default=5_000)
    parser.add_argument("--inducing", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="CPU-only smoke run, tiny sizes")
    args = parser.parse_args(argv)
    import torch

    if args.quick:
        args.rows, args.shapley_rows, args.gp_rows, args.inducing, args.repeats = 64, 4, 60, 20, 1
        args.coalitions, args.background = 64, 5
    devices = ["cuda", "cpu"] if torch.cuda.is_available() and not args.quick else ["cpu"]
    print_environment("skexplain GPU check")
    if torch.cuda.is_available():
        print(f"device: {torch.cuda.get_device_name(0)}")
    else:
        print("device: no CUDA device; CPU rows only")
    tests = _gpu_tests(args.quick or devices == ["cpu"])
    header = ["what", "device", "ours rows/s", "Captum rows/s", "ratio", "vs CPU (rel.)"]
    rows = gradient_rows(devices, args.rows, args.repeats)
    rows += shapley_rows(devices, args.shapley_rows, args.coalitions, args.background, args.repeats)
    rows += gp_rows(devices, args.gp_rows, args.inducing, args.repeats)
    print(f"gpu tests: {tests}")
    print_table(header, rows)
    return rows


if __name__ == "__main__":
    main()
