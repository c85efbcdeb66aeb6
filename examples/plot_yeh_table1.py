"""Yeh et al. (2019), Table 1 pattern, on scikit-learn's digits.

A small ReLU network is trained on the 8x8 digits (pixels scaled to [0, 1]) and the logit of
the predicted class is explained at ``n_rows`` test rows by

* Grad, Grad-SG (:class:`~skexplain.SmoothGrad`), IG, IG-SG
  (:class:`~skexplain.KernelSmoothed` around :class:`~skexplain.IntegratedGradients`), all in
  the paper's *local* form (IG with ``multiply_by_inputs=False``: the path-averaged gradient);
* NB, the infidelity-optimal explanation for the noisy-baseline perturbation
  (:class:`~skexplain.InfidelityOptimal`, Yeh et al. Prop. 2.1);
* KernelSHAP (:class:`~skexplain.KernelShapExplainer`, the ``shap`` package) against a single
  all-zero background row, brought to local form ``phi / (x - b)`` where ``x != b`` (0 elsewhere):
  by Prop. 2.5 the infidelity optimum under Shapley-kernel subsets, times ``x - b``, is the
  Shapley value.

Columns: SENS_MAX (:func:`~skexplain.metrics.max_sensitivity`), infidelity under the noisy
baseline and under Shapley-kernel subsets (:func:`~skexplain.metrics.infidelity`), each the mean
over the rows with its standard error. The paper's claims (Table 1 and section 5):

(i)   smoothing lowers both SENS_MAX and INFD of Grad and of IG;
(ii)  NB has the lowest INFD under the noisy baseline;
(iii) KernelSHAP has the lowest INFD under Shapley subsets (among Grad, IG and SmoothGrad).

Settings, following the authors' code (github.com/chihkuanyeh/saliency_evaluation, local
explanations on MNIST, pixels in [0, 1]) unless said otherwise:

* SENS_MAX: uniform noise in the L-infinity ball of radius ``r = 0.2`` (their ``sen_r``; 0.1 is
  their setting for the *global* table), divided by ``||phi(x)||`` as their code does
  (``relative=True``; the paper's Definition 3.1 and skexplain's default are absolute), max over
  50 draws (their ``sen_N``). The radius is in pixel units of [0, 1] images. Every perturbed
  input is re-explained with fresh noise (``explainer_noise="fresh"``), as their code draws new
  SmoothGrad noise at each one; skexplain's default reuses the explainer's noise bank.
* Noisy baseline: ``x~ = 0 + N(0, 0.2^2 I)`` (their ``0.2``). Their code also clips ``x~`` into
  [0, 1]; :class:`~skexplain.perturbations.NoisyBaseline` follows the paper's text (no clipping).
* Infidelity is scaled by the optimal ``beta`` first (``normalize=True``), as their code does.
* SmoothGrad radius: their SG draws uniform noise in ``[-0.2, 0.2]`` per pixel; skexplain's
  smoothing kernels are gaussian (or a euclidean ball), so we use gaussian noise of the same
  per-pixel variance, ``sigma = 0.2 / sqrt(3) ~= 0.115``. They average 500 draws; fewer here.
* IG: path from the all-zero baseline, as theirs (they use 10 Riemann steps).
* NB is fitted on ``nb_samples`` draws with one seed and scored on fresh draws with another;
  ``run`` also returns its infidelity on the draws it was fitted on.

Run ``python examples/plot_yeh_table1.py`` (under a minute on two CPU cores) or with ``--full``
for more rows and samples.
"""

import argparse
import time
from contextlib import contextmanager

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from skexplain import (
    Gradient,
    InfidelityOptimal,
    IntegratedGradients,
    KernelShapExplainer,
    KernelSmoothed,
    SmoothGrad,
)
from skexplain.metrics import infidelity, max_sensitivity
from skexplain.perturbations import NoisyBaseline, ShapleySubsets

METHODS = ("Grad", "Grad-SG", "IG", "IG-SG", "NB", "KernelSHAP")
COLUMNS = ("SENS_MAX", "INFD_NB", "INFD_SHAP")
# Gaussian SmoothGrad with the per-pixel variance of Yeh et al.'s uniform noise in [-0.2, 0.2].
SG_SCALE = 0.2 / np.sqrt(3.0)

# Settings of the default run and of ``--full``.
DEFAULT = {
    "n_rows": 20,
    "sens_samples": 50,
    "sg_samples": 50,
    "ig_steps": 10,
    "infd_samples": 1000,
    "nb_samples": 1000,
    "shap_samples": 500,
}
FULL = {
    "n_rows": 50,
    "sens_samples": 50,
    "sg_samples": 200,
    "ig_steps": 20,
    "infd_samples": 10000,
    "nb_samples": 4000,
    "shap_samples": 2000,
}


def train_network(random_state=0, epochs=20):
    """Train a 64-128-128-10 ReLU network on the digits; return it, the test rows and accuracy.

    Returns
    -------
    module : torch.nn.Module
        In eval mode; it outputs raw logits.
    X_test : ndarray of shape (450, 64)
        Test pixels in [0, 1].
    accuracy : float
        Test accuracy.
    """
    X, y = load_digits(return_X_y=True)
    X = X / 16.0  # pixels in [0, 1], as MNIST in Yeh et al.
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=random_state, stratify=y
    )
    torch.manual_seed(random_state)
    module = torch.nn.Sequential(
        torch.nn.Linear(64, 128),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 128),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 10),
    )
    optimizer = torch.optim.Adam(module.parameters(), lr=3e-3)
    X_t = torch.as_tensor(X_train, dtype=torch.float32)
    y_t = torch.as_tensor(y_train)
    generator = torch.Generator().manual_seed(random_state)
    for _ in range(epochs):
        order = torch.randperm(len(X_t), generator=generator)
        for start in range(0, len(X_t), 128):
            batch = order[start : start + 128]
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(module(X_t[batch]), y_t[batch])
            loss.backward()
            optimizer.step()
    module.eval()
    with torch.no_grad():
        predicted = module(torch.as_tensor(X_test, dtype=torch.float32)).argmax(1).numpy()
    return module, X_test, float((predicted == y_test).mean())


def local_form(attributions, X, baseline=0.0):
    """Divide global attributions by ``x - baseline`` where it is non-zero (0 elsewhere)."""
    difference = X - baseline
    nonzero = difference != 0
    return np.divide(attributions, difference, out=np.zeros_like(attributions), where=nonzero)


@contextmanager
def _limit_threads(n_threads):
    """Run the block with ``n_threads`` torch and BLAS threads (None: unchanged), then restore."""
    if n_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        with threadpool_limits(limits=n_threads):
            yield
    finally:
        torch.set_num_threads(previous)


def _mean_se(values):
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2:
        return float(values.mean()), float("nan")
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(values.size))


def run(
    n_rows=DEFAULT["n_rows"],
    random_state=0,
    *,
    sens_radius=0.2,
    sens_samples=DEFAULT["sens_samples"],
    noise_scale=0.2,
    sg_scale=SG_SCALE,
    sg_samples=DEFAULT["sg_samples"],
    ig_steps=DEFAULT["ig_steps"],
    infd_samples=DEFAULT["infd_samples"],
    nb_samples=DEFAULT["nb_samples"],
    shap_samples=DEFAULT["shap_samples"],
    n_threads=1,
    verbose=False,
):
    """Compute the table: SENS_MAX and infidelities of six explanations of the digits network.

    Parameters
    ----------
    n_rows : int
        Test rows explained (the first ``n_rows`` of the test split).
    random_state : int
        Seeds the network, the split and every draw. The explainers' noise, the sensitivity
        draws, the two infidelity banks and NB's fitting draws use distinct seeds derived from it.
    sens_radius, sens_samples : float, int
        Radius (L-infinity, pixel units) and draws of SENS_MAX.
    noise_scale : float
        Standard deviation of the noisy baseline around the all-zero image.
    sg_scale, sg_samples : float, int
        Gaussian smoothing kernel of Grad-SG and IG-SG, and its draws.
    ig_steps : int
        Quadrature points of IG.
    infd_samples : int
        Draws of each infidelity estimate (one bank shared by the methods).
    nb_samples : int
        Draws NB is fitted on (a bank different from the evaluation bank).
    shap_samples : int
        Coalitions per row of KernelSHAP (shap's ``nsamples``).
    n_threads : int or None
        Torch and BLAS threads during the run, restored afterwards; None leaves them as they
        are. The network and NB's 64 x 64 solves are tiny, so one thread is fastest, and much
        faster when other processes share the cores (one thread per core can then be ten times
        slower).
    verbose : bool
        Print the time each method takes.

    Returns
    -------
    dict
        ``table[method][column] = (mean, standard_error)`` under ``"table"`` (SENS_MAX of
        KernelSHAP is NaN: not computed, see the module notes), the per-row values under
        ``"rows"``, and ``"accuracy"``, ``"nb_infd_same_draws"``, ``"settings"``, ``"seconds"``.
    """
    with _limit_threads(n_threads):
        return _run(
            n_rows,
            random_state,
            sens_radius=sens_radius,
            sens_samples=sens_samples,
            noise_scale=noise_scale,
            sg_scale=sg_scale,
            sg_samples=sg_samples,
            ig_steps=ig_steps,
            infd_samples=infd_samples,
            nb_samples=nb_samples,
            shap_samples=shap_samples,
            verbose=verbose,
        )


def _run(
    n_rows,
    random_state,
    *,
    sens_radius,
    sens_samples,
    noise_scale,
    sg_scale,
    sg_samples,
    ig_steps,
    infd_samples,
    nb_samples,
    shap_samples,
    verbose,
):
    start = time.perf_counter()
    module, X_test, accuracy = train_network(random_state)
    X = X_test[:n_rows]
    baseline = np.zeros(X.shape[1])
    seeds = np.random.RandomState(random_state).randint(0, 2**31 - 1, size=5)
    explainer_seed, sens_seed, nb_eval_seed, nb_fit_seed, shap_eval_seed = (int(s) for s in seeds)
    noisy_baseline = NoisyBaseline(baseline=baseline, scale=noise_scale)
    shapley = ShapleySubsets(baseline=baseline)

    integrated = IntegratedGradients(baseline=baseline, n_steps=ig_steps, multiply_by_inputs=False)
    explainers = {
        "Grad": Gradient(model=module),
        "Grad-SG": SmoothGrad(
            model=module, noise_scale=sg_scale, n_samples=sg_samples, random_state=explainer_seed
        ),
        "IG": IntegratedGradients(
            model=module, baseline=baseline, n_steps=ig_steps, multiply_by_inputs=False
        ),
        "IG-SG": KernelSmoothed(
            integrated,
            model=module,
            noise_scale=sg_scale,
            n_samples=sg_samples,
            random_state=explainer_seed,
        ),
        "NB": InfidelityOptimal(
            model=module,
            perturbation=noisy_baseline,
            n_samples=nb_samples,
            random_state=nb_fit_seed,
        ),
    }
    rows = {}
    seconds = {}
    for name, explainer in explainers.items():
        tic = time.perf_counter()
        explainer.fit(X)
        phi = explainer.transform(X)
        rows[name] = {
            "SENS_MAX": max_sensitivity(
                explainer,
                X,
                radius=sens_radius,
                n_samples=sens_samples,
                relative=True,
                explainer_noise="fresh",
                random_state=sens_seed,
            )
        }
        rows[name]["_phi"] = phi
        seconds[name] = time.perf_counter() - tic

    # KernelSHAP against one all-zero background row: its values sum to f(x) - f(0). SENS_MAX
    # is not computed for it: its local form divides by x - b, which the sensitivity noise
    # brings arbitrarily close to 0 at blank pixels.
    tic = time.perf_counter()
    shap_explainer = KernelShapExplainer(
        model=module, n_samples=shap_samples, n_background=1, random_state=explainer_seed
    ).fit(baseline[None, :])
    rows["KernelSHAP"] = {
        "SENS_MAX": np.full(n_rows, np.nan),
        "_phi": local_form(shap_explainer.transform(X), X, baseline),
    }
    seconds["KernelSHAP"] = time.perf_counter() - tic

    for name in METHODS:
        tic = time.perf_counter()
        phi = rows[name].pop("_phi")
        rows[name]["INFD_NB"] = infidelity(
            module,
            X,
            phi,
            perturbation=noisy_baseline,
            n_samples=infd_samples,
            normalize=True,
            random_state=nb_eval_seed,
        )
        rows[name]["INFD_SHAP"] = infidelity(
            module,
            X,
            phi,
            perturbation=shapley,
            n_samples=infd_samples,
            normalize=True,
            random_state=shap_eval_seed,
        )
        if name == "NB":
            same_draws = infidelity(
                module,
                X,
                phi,
                perturbation=noisy_baseline,
                n_samples=nb_samples,
                normalize=True,
                random_state=nb_fit_seed,
            )
        seconds[name] += time.perf_counter() - tic
        if verbose:
            print(f"{name:<11s} {seconds[name]:6.1f} s", flush=True)

    table = {name: {col: _mean_se(rows[name][col]) for col in COLUMNS} for name in METHODS}
    return {
        "table": table,
        "rows": rows,
        "accuracy": accuracy,
        "nb_infd_same_draws": _mean_se(same_draws),
        "settings": {
            "n_rows": n_rows,
            "random_state": random_state,
            "sens_radius": sens_radius,
            "sens_samples": sens_samples,
            "noise_scale": noise_scale,
            "sg_scale": sg_scale,
            "sg_samples": sg_samples,
            "ig_steps": ig_steps,
            "infd_samples": infd_samples,
            "nb_samples": nb_samples,
            "shap_samples": shap_samples,
        },
        "seconds": {**seconds, "total": time.perf_counter() - start},
    }


def format_table(result):
    """The table in the paper's layout: methods as rows, mean (standard error) per column."""
    header = f"{'Method':<11s}" + "".join(
        f"{title:>22s}" for title in ("SENS_MAX", "INFD (noisy baseline)", "INFD (Shapley)")
    )
    lines = [header, "-" * len(header)]
    for name in METHODS:
        cells = []
        for col in COLUMNS:
            mean, se = result["table"][name][col]
            cells.append(f"{'-':>22s}" if np.isnan(mean) else f"{mean:>13.4g} ({se:.2g})")
        lines.append(f"{name:<11s}" + "".join(f"{c:>22s}" for c in cells))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="more rows and samples")
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)
    settings = FULL if args.full else DEFAULT
    result = run(random_state=args.random_state, verbose=True, **settings)
    s = result["settings"]
    print(
        f"\ndigits, 64-128-128-10 ReLU network, test accuracy {result['accuracy']:.3f}; "
        f"{s['n_rows']} test rows, mean (standard error)"
    )
    print(
        f"SENS_MAX: r = {s['sens_radius']} (L-inf), {s['sens_samples']} draws, relative, "
        "fresh noise; "
        f"INFD: {s['infd_samples']} draws, beta-normalized; noisy baseline 0 + "
        f"N(0, {s['noise_scale']}^2); SG sigma = {s['sg_scale']:.3f}, {s['sg_samples']} draws; "
        f"NB fitted on {s['nb_samples']} other draws; KernelSHAP nsamples = {s['shap_samples']}"
    )
    print(format_table(result))
    mean, se = result["nb_infd_same_draws"]
    print(f"NB's INFD (noisy baseline) on the draws it was fitted on: {mean:.4g} ({se:.2g})")
    print(f"total {result['seconds']['total']:.1f} s")


if __name__ == "__main__":
    main()
