"""SmoothGrad and Integrated Gradients on a torch MLP: Captum vs skexplain vs the autograd floor.

Every contender gets the same numpy float64 rows and returns numpy attributions for each row's
predicted class, so conversions are paid by all. The contenders:

* Captum, as its documentation has a user call it: ``NoiseTunnel(Saliency(model))`` with
  ``nt_type="smoothgrad"`` and ``IntegratedGradients(model)`` with ``method="gausslegendre"``, the
  whole batch in one call, and again with Captum's own chunking (``nt_samples_batch_size``,
  ``internal_batch_size``); the faster of the two is the peer's figure.
* skexplain: ``SmoothGrad(...).fit(X).transform(X)`` and ``IntegratedGradients(...)``.
* the floor: what the computation costs with nothing around it, i.e. one vectorized autograd call
  over all ``rows * samples`` perturbed inputs (build the tensor, one forward, one backward, the
  per-row reduction); and the same loop of pure torch over chunks of skexplain's size, which
  separates the engine's own overhead from the effect of chunking on cache use.

Agreement: IG must match Captum to float32 rounding (same Gauss-Legendre rule). SmoothGrad's
draws differ between libraries, so ours is checked exactly against the floor run on our own
noise bank (``GaussianNoise(scale).draw(n_samples, d, random_state)``, shared by all rows), and in
expectation against Captum with many samples on a few rows (a z-test per attribution).

Run ``python benchmarks/bench_gradients.py`` (``--quick`` for a smoke run, ``--help``). On a
machine shared with other jobs, two torch threads make wall times swing by up to 10x (a thread
descheduled at one of the many OpenMP barriers stalls the other): ``--threads 1 --clock cpu``
gives repeatable figures there.
"""

import argparse
import os

import numpy as np
from _common import check, measure, print_environment, print_table, set_threads


def build_model(n_features, hidden, n_classes, seed=0):
    """A float32 tanh MLP ``n_features-hidden-hidden-n_classes`` in eval mode."""
    import torch

    torch.manual_seed(seed)
    layers, width = [], n_features
    for h in hidden:
        layers += [torch.nn.Linear(width, h), torch.nn.Tanh()]
        width = h
    layers.append(torch.nn.Linear(width, n_classes))
    return torch.nn.Sequential(*layers).eval()


def predicted_class(model, Xt):
    import torch

    with torch.no_grad():
        return model(Xt).argmax(dim=1)


# -- Captum ------------------------------------------------------------------------------------


def captum_smoothgrad(model, X, noise_scale, n_samples, nt_samples_batch_size=None):
    import torch
    from captum.attr import NoiseTunnel, Saliency

    Xt = torch.as_tensor(X, dtype=torch.float32)
    target = predicted_class(model, Xt)
    attributions = NoiseTunnel(Saliency(model)).attribute(
        Xt,
        nt_type="smoothgrad",
        nt_samples=n_samples,
        nt_samples_batch_size=nt_samples_batch_size,
        stdevs=noise_scale,
        abs=False,
        target=target,
    )
    return attributions.detach().double().numpy()


def captum_ig(model, X, n_steps, internal_batch_size=None):
    import torch
    from captum.attr import IntegratedGradients

    Xt = torch.as_tensor(X, dtype=torch.float32)
    target = predicted_class(model, Xt)
    attributions = IntegratedGradients(model).attribute(
        Xt,
        baselines=0.0,
        target=target,
        n_steps=n_steps,
        method="gausslegendre",
        internal_batch_size=internal_batch_size,
    )
    return attributions.detach().double().numpy()


# -- skexplain ---------------------------------------------------------------------------------


def ours_smoothgrad(model, X, noise_scale, n_samples, random_state=0):
    from skexplain import SmoothGrad

    explainer = SmoothGrad(  # raw units: the peers draw the same noise in input units
        model=model,
        noise_scale=noise_scale,
        n_samples=n_samples,
        units="raw",
        random_state=random_state,
    )
    return explainer.fit(X).transform(X)


def ours_vargrad(model, X, noise_scale, n_samples, random_state=0):
    from skexplain import VarGrad

    explainer = VarGrad(
        model=model,
        noise_scale=noise_scale,
        n_samples=n_samples,
        units="raw",
        random_state=random_state,
    )
    return explainer.fit(X).transform(X)


def ours_ig(model, X, n_steps):
    from skexplain import IntegratedGradients

    return IntegratedGradients(model=model, n_steps=n_steps).fit(X).transform(X)


# -- the floor: pure torch, nothing around it ---------------------------------------------------


def _chunks(n, rows):
    rows = n if rows is None else max(1, rows)
    return [(start, min(n, start + rows)) for start in range(0, n, rows)]


def _gradients(model, Z, target):
    """Gradient of each row's target output at the rows of ``Z`` (one forward, one backward)."""
    import torch

    Z = Z.requires_grad_(True)
    selected = model(Z).gather(1, target[:, None])
    (grad,) = torch.autograd.grad(selected.sum(), Z)
    return grad


def floor_smoothgrad(model, X, noise, rows=None):
    """SmoothGrad on a given noise bank ``(n_samples, d)``; ``rows=None``: all rows at once."""
    import torch

    Xt = torch.as_tensor(X, dtype=torch.float32)
    target = predicted_class(model, Xt)
    bank = torch.as_tensor(noise, dtype=torch.float32)
    m, d = bank.shape
    parts = []
    for start, stop in _chunks(Xt.shape[0], rows):
        c = stop - start
        Z = (Xt[start:stop, None, :] + bank[None]).reshape(c * m, d)
        grad = _gradients(model, Z, target[start:stop].repeat_interleave(m))
        parts.append(grad.reshape(c, m, d).mean(dim=1))
    return torch.cat(parts).double().numpy()


def floor_ig(model, X, n_steps, rows=None):
    """IG from a zero baseline with Gauss-Legendre nodes; ``rows=None``: all rows at once."""
    import torch

    nodes, weights = np.polynomial.legendre.leggauss(n_steps)
    alphas = torch.as_tensor(0.5 * (nodes + 1.0), dtype=torch.float32)[None, :, None]
    w = torch.as_tensor(0.5 * weights, dtype=torch.float32)[None, :, None]
    Xt = torch.as_tensor(X, dtype=torch.float32)
    target = predicted_class(model, Xt)
    d = Xt.shape[1]
    parts = []
    for start, stop in _chunks(Xt.shape[0], rows):
        c = stop - start
        Xc = Xt[start:stop]
        Z = (alphas * Xc[:, None, :]).reshape(c * n_steps, d)
        grad = _gradients(model, Z, target[start:stop].repeat_interleave(n_steps))
        parts.append(Xc * (w * grad.reshape(c, n_steps, d)).sum(dim=1))
    return torch.cat(parts).double().numpy()


# -- the benchmark -----------------------------------------------------------------------------


def relative_error(a, b):
    """``max |a - b| / max |b|``: the error relative to the attributions' scale."""
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def report(title, n_rows, per_row, timings, ours, floor, peers, clock):
    """Print one method's table and return ``(speedup over the peer, ours / floor time)``.

    Rates and ratios use the best time on ``clock``; both clocks of that run are shown.
    """
    t_ours = timings[ours][0]
    rows = []
    for name, (seconds, wall, cpu, _) in timings.items():
        rows.append(
            [
                name,
                f"{wall:.3f}",
                f"{cpu:.3f}",
                f"{n_rows / seconds:,.0f}",
                f"{n_rows * per_row / seconds:,.0f}",
                f"{seconds / t_ours:.2f}",
            ]
        )
    print(f"\n{title}: {n_rows} rows x {per_row} model evaluations per row ({clock} clock)")
    print_table(["implementation", "wall s", "cpu s", "rows/s", "evals/s", "time / ours"], rows)
    peer = min(peers, key=lambda name: timings[name][0])
    speedup = timings[peer][0] / t_ours
    to_floor = t_ours / timings[floor][0]
    print(f"peer figure = {peer}: ours is {speedup:.1f}x its rows/s (target >= 10x)")
    print(f"ours / floor time = {to_floor:.2f} (target <= 1.3)")
    return speedup, to_floor


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--features", type=int, default=30)
    parser.add_argument("--hidden", type=int, nargs="+", default=[64, 64])
    parser.add_argument("--samples", type=int, default=50, help="SmoothGrad noisy copies")
    parser.add_argument("--steps", type=int, default=50, help="IG quadrature points")
    parser.add_argument("--noise-scale", type=float, default=0.1)
    parser.add_argument("--repeats", type=int, default=7, help="repeats of ours and the floor")
    parser.add_argument("--captum-repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="rank repeats and compute rates by wall time or by this process's CPU time",
    )
    parser.add_argument("--check-rows", type=int, default=8)
    parser.add_argument("--check-samples", type=int, default=4000)
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.samples, args.steps = 300, 8, 8
        args.repeats, args.captum_repeats = 1, 1
        args.check_rows, args.check_samples = 4, 400

    import captum  # noqa: F401  (imported for the version report)
    import torch

    import skexplain.models
    from skexplain.perturbations import GaussianNoise

    set_threads(args.threads)
    print_environment("bench_gradients: SmoothGrad and IntegratedGradients, torch MLP (CPU)")
    batch = skexplain.models.DEFAULT_BATCH_SIZE
    chunk = {"sg": max(1, batch // args.samples), "ig": max(1, batch // args.steps)}
    print(
        f"model: MLP {args.features}-{'-'.join(map(str, args.hidden))}-2 tanh float32 eval; "
        f"rows {args.rows}; skexplain DEFAULT_BATCH_SIZE {batch} "
        f"(SmoothGrad {chunk['sg']} rows per chunk, IG {chunk['ig']})"
    )
    model = build_model(args.features, args.hidden, 2)
    X = np.random.default_rng(0).standard_normal((args.rows, args.features))
    s, n, k = args.noise_scale, args.samples, args.steps
    nt_batch = max(1, min(n, batch // args.rows))  # Captum's chunking near our chunk size
    ig_batch = max(args.rows, batch)  # Captum requires internal_batch_size >= rows

    # SmoothGrad ---------------------------------------------------------------------------
    noise = GaussianNoise(s).draw(n, args.features, 0)["noise"]
    timed = {
        "skexplain SmoothGrad": lambda: ours_smoothgrad(model, X, s, n),
        "floor: one autograd call": lambda: floor_smoothgrad(model, X, noise),
        "floor: pure torch, our chunks": lambda: floor_smoothgrad(model, X, noise, chunk["sg"]),
    }
    sg = measure(timed, args.repeats, args.clock)
    peers = {
        "Captum NoiseTunnel, one call": lambda: captum_smoothgrad(model, X, s, n),
        f"Captum, nt_samples_batch_size={nt_batch}": lambda: captum_smoothgrad(
            model, X, s, n, nt_batch
        ),
    }
    if args.quick:
        peers.popitem()
    sg.update(measure(peers, args.captum_repeats, args.clock))

    # IntegratedGradients -------------------------------------------------------------------
    timed = {
        "skexplain IntegratedGradients": lambda: ours_ig(model, X, k),
        "floor: one autograd call": lambda: floor_ig(model, X, k),
        "floor: pure torch, our chunks": lambda: floor_ig(model, X, k, chunk["ig"]),
    }
    ig = measure(timed, args.repeats, args.clock)
    peers = {
        "Captum IG, one call": lambda: captum_ig(model, X, k),
        f"Captum IG, internal_batch_size={ig_batch}": lambda: captum_ig(model, X, k, ig_batch),
    }
    if args.quick:
        peers.popitem()
    ig.update(measure(peers, args.captum_repeats, args.clock))

    print()
    W = sg["skexplain SmoothGrad"][3]
    err = relative_error(W, sg["floor: one autograd call"][3])
    check(err < 1e-5, f"SmoothGrad = floor on the same noise bank, rel. error {err:.1e} < 1e-5")
    err = relative_error(ig["skexplain IntegratedGradients"][3], ig["Captum IG, one call"][3])
    check(err < 1e-5, f"IntegratedGradients = Captum (gausslegendre), rel. error {err:.1e} < 1e-5")
    err = relative_error(W, sg["Captum NoiseTunnel, one call"][3])
    print(f"SmoothGrad vs Captum at n_samples={n} (different draws): rel. difference {err:.2f}")

    # SmoothGrad in expectation: many samples on a few rows. Both are means of n iid gradients
    # of the same distribution, so their difference has variance 2 Var[grad] / n per entry.
    Xc, m = X[: args.check_rows], args.check_samples
    torch.manual_seed(1)  # Captum draws its noise from torch's global generator
    ours = ours_smoothgrad(model, Xc, s, m, random_state=1)
    theirs = captum_smoothgrad(model, Xc, s, m)
    se = np.sqrt(2.0 * ours_vargrad(model, Xc, s, m, random_state=2) / m)
    z = np.abs(ours - theirs) / np.maximum(se, 1e-12)
    check(
        z.max() < 6.0,
        f"SmoothGrad = Captum in expectation ({args.check_rows} rows x {m} samples): "
        f"max |z| {z.max():.2f} < 6 over {z.size} attributions, mean |z| {z.mean():.2f}",
    )

    sg_speed, sg_floor = report(
        "SmoothGrad",
        args.rows,
        n,
        sg,
        "skexplain SmoothGrad",
        "floor: one autograd call",
        [name for name in sg if name.startswith("Captum")],
        args.clock,
    )
    ig_speed, ig_floor = report(
        "IntegratedGradients",
        args.rows,
        k,
        ig,
        "skexplain IntegratedGradients",
        "floor: one autograd call",
        [name for name in ig if name.startswith("Captum")],
        args.clock,
    )
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    return {
        "smoothgrad": {"speedup": sg_speed, "to_floor": sg_floor},
        "integrated_gradients": {"speedup": ig_speed, "to_floor": ig_floor},
    }


if __name__ == "__main__":
    main()
