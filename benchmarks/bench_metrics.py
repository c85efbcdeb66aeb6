"""Infidelity and max-sensitivity on a torch MLP: Captum vs skexplain vs the pure-torch floor.

A float32 MLP (30-64-64-2 by default) is explained on 10,000 rows for its predicted class; every
contender gets the same numpy float64 rows, targets, attributions and perturbation draws.

* infidelity: 50 gaussian draws (scale 0.1). skexplain draws one bank from ``random_state`` and
  shares it by all rows; Captum's ``perturb_func`` hands out the same draws in the order Captum
  asks for them (it expands the rows with ``repeat_interleave`` and walks through the samples in
  chunks of ``max_examples_per_batch // n_rows``).
* max-sensitivity: 10 draws uniform in the L-infinity ball of radius 0.02 (Captum's default),
  skexplain's ``Gradient`` against Captum's ``Saliency(abs=False)``, relative to ``||phi(x)||``.

Captum runs with ``max_examples_per_batch`` None (every row and draw in one batch) and 32768,
8192, 4096 (chunks); the peer's figure is its fastest. The floor is the same computation in pure
torch with nothing around it (one call, and chunked like skexplain's engine), which separates
the engine's overhead from the cost of the model itself. The values must agree to ``--rtol``
(float32) before anything is timed. Goals (the issue): at least 1x Captum's rows/s on
infidelity and 3x on max-sensitivity.

Run ``python benchmarks/bench_metrics.py`` (``--quick`` for a smoke run, ``--help``). On a busy
machine use ``--threads 1 --clock cpu``.
"""

import argparse
import os

import numpy as np
from _common import check, measure, print_environment, print_table, set_threads

CAPTUM_BATCHES = (None, 32768, 8192, 4096)


def build_model(n_features, hidden, n_classes, seed=0):
    """A float32 ReLU MLP ``n_features-hidden...-n_classes`` in eval mode."""
    import torch

    torch.manual_seed(seed)
    layers, width = [], n_features
    for h in hidden:
        layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
        width = h
    layers.append(torch.nn.Linear(width, n_classes))
    return torch.nn.Sequential(*layers).float().eval()


class BankFeeder:
    """Captum ``perturb_func`` handing out one bank of draws ``(m, d)`` shared by every row.

    Captum expands the n rows with ``repeat_interleave`` (k consecutive copies of each row) and
    walks through the m samples in chunks of k: copy j of a chunk gets draw ``offset + j``.
    """

    def __init__(self, noise, n_rows):
        self.noise, self.n_rows, self.offset = noise, n_rows, 0

    def perturbed(self, inputs):
        k = inputs.shape[0] // self.n_rows
        block = self.noise[self.offset : self.offset + k]
        self.offset = (self.offset + k) % self.noise.shape[0]
        return inputs + block.repeat(self.n_rows, 1)

    def infidelity_func(self, inputs):
        perturbed = self.perturbed(inputs)
        return inputs - perturbed, perturbed  # Captum's (I, perturbed input) pair

    def sensitivity_func(self, inputs, perturb_radius):
        return self.perturbed(inputs)


def _tensors(X, A, target, noise):
    import torch

    return (
        torch.as_tensor(X, dtype=torch.float32),
        None if A is None else torch.as_tensor(A, dtype=torch.float32),
        torch.as_tensor(target),
        torch.as_tensor(noise, dtype=torch.float32),
    )


# -- Captum ------------------------------------------------------------------------------------


def captum_infidelity(model, X, A, target, noise, batch=None):
    from captum.metrics import infidelity

    Xt, At, tt, noise = _tensors(X, A, target, noise)
    feeder = BankFeeder(noise, X.shape[0])
    values = infidelity(
        model,
        feeder.infidelity_func,
        Xt,
        At,
        target=tt,
        n_perturb_samples=noise.shape[0],
        max_examples_per_batch=batch,
    )
    return values.double().numpy()


def captum_max_sensitivity(model, X, target, noise, batch=None):
    from captum.attr import Saliency
    from captum.metrics import sensitivity_max

    Xt, _, tt, noise = _tensors(X, None, target, noise)
    saliency = Saliency(model)
    feeder = BankFeeder(noise, X.shape[0])
    values = sensitivity_max(
        lambda inputs, target: saliency.attribute(inputs, target=target, abs=False),
        Xt,
        perturb_func=feeder.sensitivity_func,
        n_perturb_samples=noise.shape[0],
        max_examples_per_batch=batch,
        target=tt,
    )
    return values.double().numpy()


# -- skexplain ---------------------------------------------------------------------------------


def ours_infidelity(adapter, X, A, target, n_samples, scale):
    from skexplain.metrics import infidelity
    from skexplain.perturbations import GaussianNoise

    perturbation = GaussianNoise(scale=scale)
    return infidelity(
        adapter,
        X,
        A,
        target=target,
        perturbation=perturbation,
        n_samples=n_samples,
        units="raw",
        random_state=0,  # Captum's noise is in input units
    )


def ours_max_sensitivity(explainer, X, n_samples, radius):
    from skexplain.metrics import max_sensitivity
    from skexplain.perturbations import UniformBall

    perturbation = UniformBall(radius=radius, norm="inf")
    return max_sensitivity(
        explainer,
        X,
        perturbation=perturbation,
        n_samples=n_samples,
        relative=True,
        units="raw",
        random_state=0,  # Captum's noise is in input units
    )


# -- the floor: the same computation in pure torch ---------------------------------------------


def floor_infidelity(model, X, A, target, noise, rows_per_chunk=None):
    import torch

    Xt, At, tt, noise = _tensors(X, A, target, noise)
    n, d = Xt.shape
    m = noise.shape[0]
    step = n if rows_per_chunk is None else rows_per_chunk
    parts = []
    with torch.no_grad():
        fx = model(Xt).gather(1, tt[:, None])[:, 0]
        for start in range(0, n, step):
            x, a, t = Xt[start : start + step], At[start : start + step], tt[start : start + step]
            c = x.shape[0]
            Z = x[:, None, :] + noise[None]
            out = model(Z.reshape(c * m, d)).reshape(c, m, -1)
            values = out.gather(2, t[:, None, None].expand(c, m, 1))[:, :, 0]
            dots = ((x[:, None, :] - Z) * a[:, None, :]).sum(dim=2)
            change = fx[start : start + step, None] - values
            parts.append(((dots - change) ** 2).mean(dim=1))
    return torch.cat(parts).double().numpy()


def _gradients(model, inputs, target):
    import torch

    with torch.enable_grad():
        inputs = inputs.detach().requires_grad_(True)
        selected = model(inputs).gather(1, target[:, None]).sum()
        (grad,) = torch.autograd.grad(selected, inputs)
    return grad


def floor_max_sensitivity(model, X, target, noise, rows_per_chunk=None):
    import torch

    Xt, _, tt, noise = _tensors(X, None, target, noise)
    n, d = Xt.shape
    m = noise.shape[0]
    step = n if rows_per_chunk is None else rows_per_chunk
    parts = []
    for start in range(0, n, step):
        x, t = Xt[start : start + step], tt[start : start + step]
        c = x.shape[0]
        phi_x = _gradients(model, x, t)
        Z = (x[:, None, :] + noise[None]).reshape(c * m, d)
        phi_z = _gradients(model, Z, t.repeat_interleave(m)).reshape(c, m, d)
        change = torch.linalg.vector_norm(phi_z - phi_x[:, None], dim=2)
        norm = torch.linalg.vector_norm(phi_x, dim=1)
        norm = torch.where(norm == 0, torch.ones_like(norm), norm)
        parts.append((change / norm[:, None]).max(dim=1).values)
    return torch.cat(parts).double().numpy()


# -- the benchmark -----------------------------------------------------------------------------


def relative_error(a, b):
    """Largest entry-wise relative error ``|a - b| / |b|``."""
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def report(title, n_rows, per_row, timings, ours, floor, goal, clock):
    """Print one metric's table; return ``(speedup over Captum's fastest, ours / floor time)``."""
    t_ours = timings[ours][0]
    rows = []
    for name, (seconds, wall, cpu, _) in timings.items():
        rows.append(
            [
                name,
                f"{wall:.4f}",
                f"{cpu:.4f}",
                f"{n_rows / seconds:,.0f}",
                f"{n_rows * per_row / seconds:,.0f}",
                f"{seconds / t_ours:.2f}",
            ]
        )
    print(f"\n{title}: {n_rows} rows x {per_row} perturbations per row ({clock} clock)")
    print_table(["implementation", "wall s", "cpu s", "rows/s", "evals/s", "time / ours"], rows)
    peer = min((name for name in timings if name.startswith("Captum")), key=lambda k: timings[k])
    speedup = timings[peer][0] / t_ours
    to_floor = t_ours / timings[floor][0]
    verdict = "met" if speedup >= goal else "MISSED"
    print(
        f"peer figure = {peer}: {n_rows / timings[peer][0]:,.0f} rows/s; ours "
        f"{n_rows / t_ours:,.0f} rows/s = {speedup:.2f}x (goal >= {goal:g}x: {verdict})"
    )
    print(f"ours / floor time = {to_floor:.2f}")
    return speedup, to_floor


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, default=10_000, help="rows (1,000 runs in ~30 ms: noisy)"
    )
    parser.add_argument("--features", type=int, default=30)
    parser.add_argument("--hidden", type=int, nargs="+", default=[64, 64])
    parser.add_argument("--infidelity-samples", type=int, default=50)
    parser.add_argument("--noise-scale", type=float, default=0.1, help="infidelity's gaussian")
    parser.add_argument("--sensitivity-samples", type=int, default=10)
    parser.add_argument("--radius", type=float, default=0.02, help="max-sensitivity's L-inf ball")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs")
    parser.add_argument("--rtol", type=float, default=1e-4, help="agreement in float32")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="rank repeats and compute rates by wall time or by this process's CPU time",
    )
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.repeats = 40, 1
        args.infidelity_samples, args.sensitivity_samples = 6, 3

    import captum  # noqa: F401  (imported for the version report)
    import torch
    from sklearn.utils import check_random_state

    import skexplain._engine
    import skexplain.models
    from skexplain import Gradient
    from skexplain.perturbations import GaussianNoise, UniformBall

    set_threads(args.threads)
    print_environment("bench_metrics: infidelity and max-sensitivity, torch MLP (CPU)")
    batch = skexplain.models.DEFAULT_BATCH_SIZE
    per_call = skexplain._engine.EXPLAIN_BATCH_SIZE
    n, d = args.rows, args.features
    m, k = args.infidelity_samples, args.sensitivity_samples
    inf_chunk, sens_chunk = max(1, batch // m), max(1, per_call // k)
    print(
        f"model: MLP {d}-{'-'.join(map(str, args.hidden))}-2 ReLU float32 eval; rows {n}; "
        f"skexplain DEFAULT_BATCH_SIZE {batch} (infidelity {inf_chunk} rows per chunk), "
        f"EXPLAIN_BATCH_SIZE {per_call} (max-sensitivity {sens_chunk} rows per chunk)"
    )

    model = build_model(d, args.hidden, 2)
    adapter = skexplain.models.as_model(model, device="cpu")  # the device Captum uses too
    X = np.random.default_rng(0).standard_normal((n, d))
    explainer = Gradient(model=adapter).fit(X)  # target=None: each row's predicted class
    A = explainer.transform(X)
    with torch.no_grad():
        target = model(torch.as_tensor(X, dtype=torch.float32)).argmax(dim=1).numpy()

    # infidelity -----------------------------------------------------------------------------
    bank = GaussianNoise(args.noise_scale).draw(m, d, check_random_state(0))["noise"]
    timed = {
        "skexplain infidelity": lambda: ours_infidelity(adapter, X, A, target, m, args.noise_scale),
        "floor: one call": lambda: floor_infidelity(model, X, A, target, bank),
        "floor: our chunks": lambda: floor_infidelity(model, X, A, target, bank, inf_chunk),
    }
    for b in CAPTUM_BATCHES:
        if b is None or b < n * m:  # settings that do chunk
            timed[f"Captum max_examples_per_batch={b}"] = lambda b=b: captum_infidelity(
                model, X, A, target, bank, b
            )
    infd = measure(timed, args.repeats, args.clock)

    # max-sensitivity ------------------------------------------------------------------------
    bank = UniformBall(args.radius, norm="inf").draw(k, d, check_random_state(0))["noise"]
    timed = {
        "skexplain max_sensitivity": lambda: ours_max_sensitivity(explainer, X, k, args.radius),
        "floor: one call": lambda: floor_max_sensitivity(model, X, target, bank),
        "floor: our chunks": lambda: floor_max_sensitivity(model, X, target, bank, sens_chunk),
    }
    for b in CAPTUM_BATCHES:
        if b is None or b < n * k:
            timed[f"Captum max_examples_per_batch={b}"] = lambda b=b: captum_max_sensitivity(
                model, X, target, bank, b
            )
    sens = measure(timed, args.repeats, args.clock)

    # agreement: every contender gives the same values (float32 rounding) ----------------------
    print()
    for title, timings, ours in (
        ("infidelity", infd, "skexplain infidelity"),
        ("max_sensitivity", sens, "skexplain max_sensitivity"),
    ):
        reference = timings[ours][3]
        worst = max(relative_error(reference, r[3]) for name, r in timings.items() if name != ours)
        check(
            worst < args.rtol,
            f"{title}: skexplain = Captum = floor on the same draws, max rel. error {worst:.1e}",
        )

    inf_speed, inf_floor = report(
        "infidelity", n, m, infd, "skexplain infidelity", "floor: one call", 1.0, args.clock
    )
    sens_speed, sens_floor = report(
        "max_sensitivity",
        n,
        k,
        sens,
        "skexplain max_sensitivity",
        "floor: one call",
        3.0,
        args.clock,
    )
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    return {
        "infidelity": {"speedup": inf_speed, "to_floor": inf_floor},
        "max_sensitivity": {"speedup": sens_speed, "to_floor": sens_floor},
    }


if __name__ == "__main__":
    main()
