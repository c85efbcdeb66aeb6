"""Tadesse et al. (2024), Figure 1 and Appendix E: faithfulness-robustness fronts.

:class:`~skexplain.PropertyOptimizedExplainer` (gradient-matching faithfulness with
``lambda_faithful = 1``, pairwise gaussian robustness weighted by ``lambda_robust``) traces a
front of (faithfulness, robustness) losses as ``lambda_robust`` sweeps from 0 to large values.
:class:`~skexplain.SmoothGrad` and :class:`~skexplain.CLIME` give one point per noise scale
``delta`` (gaussian noise of standard deviation ``delta``, or uniform noise in the euclidean ball
of radius ``delta``). Every explanation, ours included, is scored with the same functions,
:func:`~skexplain.metrics.gradient_matching_loss` and :func:`~skexplain.metrics.robustness_loss`
(gaussian kernel, the optimizer's length scale), each summed over the explained rows.

The claims (PAPERS.md, section 1):

(a) on ``sum x^3``, ``sum sin(exp(x))`` and ``sum exp(x)`` no SmoothGrad or C-LIME setting beats
    the front: for every ``delta`` there is a ``lambda_robust`` at least as good on both losses;
(b) SmoothGrad's robustness loss barely moves with ``delta`` on the cubic;
(c) raising ``lambda_complex`` lowers complexity (``sum_n ||W_n||_1``) and raises the
    faithfulness loss, monotonically.

How (a) is decided. A baseline point is dominated *by the sweep* when one of the swept
``lambda_robust`` values is at least as good on both losses. Where no swept value is (the point
falls between two of them), the witness is refined: the robustness loss of the optimum falls
monotonically with ``lambda_robust`` and its faithfulness loss rises, so the best candidate is the
smallest ``lambda`` whose robustness loss is at most the baseline's; it is found by bisection on
``log lambda`` between the two swept values around it, refitting the explainer each time, and the
point is dominated when that optimum's faithfulness loss is at most the baseline's. (By convexity
the exact front dominates every explanation whatsoever; what the experiment checks is the
solver, the losses and how far from the front the baselines lie.)

Settings.

* Points: the grid of :func:`skexplain.functions.grid` with ``n_per_axis`` cell centres per axis
  in (-5, 5)^3: 5 per axis (125 points, spacing 2; the paper uses 100 grid points for D = 3) by
  default, 10 per axis (1,000 points, spacing 1) with ``--full``. The grid is symmetric about 0.
* Length scale: the grid spacing ``h``. Each point's six axis neighbours then weigh
  ``exp(-1/2) = 0.61``, the diagonal ones 0.37 and points two cells away 0.14, so the loss
  compares explanations of neighbouring points, not of the whole box (a length scale much larger
  than ``h`` makes robustness a global penalty on any variation; much smaller, and no pair of
  points is similar).
* ``lambda_robust``: 0 (the gradient itself) and 20 values log-spaced in [1e-4, 1e3];
  ``delta``: 10 values log-spaced in [0.01, 3].
* SmoothGrad and C-LIME use one seeded noise bank for all rows and for all ``delta`` (the same
  standard draws scaled by ``delta``): 2,000 draws by default on the grid, 500 on the tabular
  data, 5,000 with ``--full``.
* Appendix E: a two-hidden-layer ReLU network (64 units each, float64) is trained on
  standardized breast_cancer and wine (half of each for training, scaler fitted there); the logit
  of class 1 is explained at the first 100 test rows (wine has 89). The length scale is the
  median distance from an explained row to its 5th nearest explained row (standardized units);
  ``delta`` in [0.01, 3] standardized units.

Run ``python examples/plot_tadesse_fronts.py [--out tadesse_fronts.png]`` (under a minute on two
CPU cores) or with ``--full`` for the bigger sweep.
"""

import argparse
import time
from contextlib import contextmanager

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skexplain import CLIME, PropertyOptimizedExplainer, SmoothGrad
from skexplain.functions import Polynomial, SinExp, SumOfExp, grid
from skexplain.metrics import complexity, gradient_matching_loss, robustness_loss

FUNCTIONS = {
    "cubic": (Polynomial(3), "sum x^3"),
    "sin_exp": (SinExp(), "sum sin(exp(x))"),
    "exp": (SumOfExp(), "sum exp(x)"),
}
DATASETS = {"breast_cancer": load_breast_cancer, "wine": load_wine}
BASELINES = (
    ("SmoothGrad", "gaussian"),
    ("SmoothGrad", "uniform"),
    ("CLIME", "gaussian"),
    ("CLIME", "uniform"),
)
_EXPLAINERS = {"SmoothGrad": SmoothGrad, "CLIME": CLIME}

# Settings of the default run and of ``--full``.
DEFAULT = {"n_per_axis": 5, "n_lambdas": 20, "n_deltas": 10, "n_samples": 2000}
FULL = {"n_per_axis": 10, "n_lambdas": 40, "n_deltas": 20, "n_samples": 5000}
TABULAR_DEFAULT = {"n_rows": 100, "n_lambdas": 20, "n_deltas": 10, "n_samples": 500}
TABULAR_FULL = {"n_rows": 100, "n_lambdas": 40, "n_deltas": 20, "n_samples": 5000}


def lambda_sweep(n_lambdas=20, low=1e-4, high=1e3):
    """0 followed by ``n_lambdas`` values log-spaced in ``[low, high]``."""
    return np.r_[0.0, np.logspace(np.log10(low), np.log10(high), n_lambdas)]


def delta_sweep(n_deltas=10, low=0.01, high=3.0):
    """``n_deltas`` noise scales log-spaced in ``[low, high]``."""
    return np.logspace(np.log10(low), np.log10(high), n_deltas)


@contextmanager
def _limit_threads(n_threads):
    """Run the block with ``n_threads`` torch and BLAS threads (None: unchanged), then restore.

    The problems are small (a 125 x 125 eigendecomposition per fit): one thread is fastest, and
    several threads on shared cores can be ten times slower.
    """
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


# -- losses and fronts ----------------------------------------------------------------------------
def property_losses(model, X, W, length_scale, target=None):
    """(faithfulness, robustness): gradient matching and pairwise gaussian robustness, summed."""
    faithful = float(gradient_matching_loss(model, X, W, target=target).sum())
    robust = float(robustness_loss(X, W, kernel="gaussian", length_scale=length_scale).sum())
    return faithful, robust


def _optimized(model, X, lambda_robust, length_scale, target):
    explainer = PropertyOptimizedExplainer(
        model=model, lambda_robust=lambda_robust, length_scale=length_scale, target=target
    )
    W = explainer.fit_transform(X)
    faithful, robust = property_losses(model, X, W, length_scale, target)
    # The optimizer's own bookkeeping must agree with the metrics.
    own = explainer.losses_
    gap = abs(own["faithful"] - faithful) / max(faithful, 1e-12)
    if lambda_robust > 0:
        gap = max(gap, abs(own["robust"] - robust) / max(robust, 1e-12))
    return faithful, robust, gap


def optimized_front(model, X, lambdas, length_scale, target=None):
    """Losses of the property-optimized explanations over ``lambda_robust``.

    Returns
    -------
    dict
        ``lambda``, ``faithful``, ``robust`` (arrays over ``lambdas``) and ``loss_mismatch``:
        the largest relative difference between the explainer's ``losses_`` and the metrics.
    """
    rows = [_optimized(model, X, lam, length_scale, target) for lam in lambdas]
    faithful, robust, gap = (np.array(column) for column in zip(*rows, strict=True))
    return {
        "lambda": np.asarray(lambdas, dtype=np.float64),
        "faithful": faithful,
        "robust": robust,
        "loss_mismatch": float(gap.max()),
    }


def baseline_front(
    model, X, method, noise, deltas, n_samples, length_scale, random_state=0, target=None
):
    """Losses of SmoothGrad or C-LIME over the noise scales ``deltas`` (one seeded bank)."""
    faithful, robust = [], []
    for delta in deltas:
        explainer = _EXPLAINERS[method](
            model=model,
            noise=noise,
            noise_scale=float(delta),
            n_samples=n_samples,
            units="raw",  # Tadesse et al.'s delta is in input units
            random_state=random_state,
            target=target,
        )
        W = explainer.fit(X).transform(X)
        f, r = property_losses(model, X, W, length_scale, target)
        faithful.append(f)
        robust.append(r)
    return {
        "delta": np.asarray(deltas, dtype=np.float64),
        "faithful": np.array(faithful),
        "robust": np.array(robust),
    }


def _refine(model, X, front, robust_b, length_scale, target, n_iter=30):
    """Smallest ``lambda`` whose optimum has robustness loss <= ``robust_b``, by bisection.

    Returns ``(lambda, faithful, robust)`` of that optimum (the bracket's upper end), or None
    when even the largest swept ``lambda`` is not robust enough.
    """
    lambdas, robust = front["lambda"], front["robust"]
    feasible = np.flatnonzero(robust <= robust_b)
    if feasible.size == 0:
        return None
    upper = int(feasible.min())
    if upper == 0:
        return float(lambdas[0]), float(front["faithful"][0]), float(robust[0])
    hi = float(lambdas[upper])
    lo = float(lambdas[upper - 1]) if lambdas[upper - 1] > 0 else hi * 1e-8
    best = (hi, float(front["faithful"][upper]), float(robust[upper]))
    log_lo, log_hi = np.log(lo), np.log(hi)
    for _ in range(n_iter):
        mid = 0.5 * (log_lo + log_hi)
        faithful, robust_mid, _ = _optimized(model, X, float(np.exp(mid)), length_scale, target)
        if robust_mid <= robust_b:
            log_hi, best = mid, (float(np.exp(mid)), faithful, robust_mid)
        else:
            log_lo = mid
    return best


def dominance(model, X, front, baseline, length_scale, target=None, refine=True):
    """Is each baseline point dominated by the front (both losses at least as low)?

    Returns
    -------
    dict
        Per baseline point: ``by_sweep`` (bool), ``sweep_lambda`` (the smallest swept
        ``lambda`` that dominates it, NaN if none), ``dominated`` (bool, after refinement),
        ``witness_lambda``, ``witness_faithful``, ``witness_robust`` (the refined witness where
        refinement ran, else the swept one; NaN if none) and ``refined`` (bool).
    """
    F, R = front["faithful"], front["robust"]
    n = baseline["faithful"].size
    out = {
        "by_sweep": np.zeros(n, dtype=bool),
        "sweep_lambda": np.full(n, np.nan),
        "dominated": np.zeros(n, dtype=bool),
        "witness_lambda": np.full(n, np.nan),
        "witness_faithful": np.full(n, np.nan),
        "witness_robust": np.full(n, np.nan),
        "refined": np.zeros(n, dtype=bool),
    }
    for i, (fb, rb) in enumerate(zip(baseline["faithful"], baseline["robust"], strict=True)):
        ok = np.flatnonzero((F <= fb) & (R <= rb))
        if ok.size:
            j = int(ok.min())
            out["by_sweep"][i] = out["dominated"][i] = True
            out["sweep_lambda"][i] = out["witness_lambda"][i] = front["lambda"][j]
            out["witness_faithful"][i], out["witness_robust"][i] = F[j], R[j]
        elif refine:
            witness = _refine(model, X, front, rb, length_scale, target)
            out["refined"][i] = True
            if witness is not None:
                lam, fw, rw = witness
                out["witness_lambda"][i] = lam
                out["witness_faithful"][i], out["witness_robust"][i] = fw, rw
                out["dominated"][i] = fw <= fb and rw <= rb
    return out


def _fronts(
    model,
    X,
    length_scale,
    lambdas,
    deltas,
    n_samples,
    baselines,
    random_state,
    target,
    refine,
    verbose,
    name,
):
    tic = time.perf_counter()
    front = optimized_front(model, X, lambdas, length_scale, target)
    result = {"front": front, "baselines": {}, "length_scale": float(length_scale)}
    for method, noise in baselines:
        points = baseline_front(
            model, X, method, noise, deltas, n_samples, length_scale, random_state, target
        )
        points["dominance"] = dominance(model, X, front, points, length_scale, target, refine)
        result["baselines"][f"{method}-{noise}"] = points
    result["seconds"] = time.perf_counter() - tic
    if verbose:
        print(f"{name}: {result['seconds']:.1f} s", flush=True)
    return result


def synthetic_fronts(
    functions=tuple(FUNCTIONS),
    *,
    n_per_axis=DEFAULT["n_per_axis"],
    n_lambdas=DEFAULT["n_lambdas"],
    n_deltas=DEFAULT["n_deltas"],
    n_samples=DEFAULT["n_samples"],
    lambdas=None,
    deltas=None,
    baselines=BASELINES,
    length_scale=None,
    random_state=0,
    refine=True,
    n_threads=1,
    verbose=False,
):
    """Fronts of Figure 1 (first row) on a grid in (-5, 5)^3.

    Parameters
    ----------
    functions : sequence of {"cubic", "sin_exp", "exp"}
    n_per_axis : int
        Grid points per axis (the grid has ``n_per_axis**3`` points).
    n_lambdas, n_deltas : int
        Sizes of the default sweeps (:func:`lambda_sweep`, :func:`delta_sweep`).
    n_samples : int
        Noise draws of SmoothGrad and C-LIME.
    lambdas, deltas : array-like or None
        Explicit sweeps instead of the defaults.
    baselines : sequence of (method, noise)
        Methods "SmoothGrad" or "CLIME", noise "gaussian" or "uniform".
    length_scale : float or None
        Gaussian kernel length scale of the robustness loss; None: the grid spacing.
    random_state : int
        Seed of the baselines' noise bank.
    refine : bool
        Refine the witness of baseline points that no swept ``lambda`` dominates.
    n_threads : int or None
        Torch and BLAS threads during the run (None: unchanged).
    verbose : bool

    Returns
    -------
    dict
        ``{function: {"front", "baselines", "length_scale", "seconds"}}`` plus ``"settings"``;
        ``front`` from :func:`optimized_front`, each baseline from :func:`baseline_front` with
        its :func:`dominance` under ``"dominance"``.
    """
    lambdas = lambda_sweep(n_lambdas) if lambdas is None else np.asarray(lambdas, dtype=float)
    deltas = delta_sweep(n_deltas) if deltas is None else np.asarray(deltas, dtype=float)
    X = grid(3, n_per_axis)
    if length_scale is None:
        length_scale = 10.0 / n_per_axis
    out = {
        "settings": {
            "n_points": X.shape[0],
            "n_per_axis": n_per_axis,
            "length_scale": float(length_scale),
            "lambdas": lambdas,
            "deltas": deltas,
            "n_samples": n_samples,
            "random_state": random_state,
        }
    }
    with _limit_threads(n_threads):
        for name in functions:
            model = FUNCTIONS[name][0]
            out[name] = _fronts(
                model,
                X,
                length_scale,
                lambdas,
                deltas,
                n_samples,
                baselines,
                random_state,
                None,
                refine,
                verbose,
                name,
            )
    return out


def flatness(front_result, baseline="SmoothGrad-gaussian"):
    """Claim (b): relative ranges ``(max - min) / max`` of the losses over each sweep.

    Returns
    -------
    dict
        ``baseline_robust`` and ``baseline_faithful`` over ``delta``; ``front_robust`` and
        ``front_faithful`` over ``lambda_robust``.
    """

    def spread(values):
        values = np.asarray(values, dtype=np.float64)
        return float((values.max() - values.min()) / values.max())

    points = front_result["baselines"][baseline]
    front = front_result["front"]
    return {
        "baseline_robust": spread(points["robust"]),
        "baseline_faithful": spread(points["faithful"]),
        "front_robust": spread(front["robust"]),
        "front_faithful": spread(front["faithful"]),
    }


def complexity_front(
    function="cubic",
    *,
    lambdas_complex=(0.0, 0.3, 1.0, 3.0, 10.0, 30.0, 60.0),
    lambda_robust=0.0,
    n_per_axis=5,
    length_scale=None,
    n_threads=1,
):
    """Claim (c): faithfulness loss and complexity of the optimum over ``lambda_complex``.

    Returns
    -------
    dict
        ``lambda_complex``, ``faithful`` (gradient matching, summed), ``complexity`` (L1,
        summed) and ``robust`` (pairwise, summed) as arrays.
    """
    X = grid(3, n_per_axis)
    if length_scale is None:
        length_scale = 10.0 / n_per_axis
    model = FUNCTIONS[function][0]
    faithful, sparsity, robust = [], [], []
    with _limit_threads(n_threads):
        for lam in lambdas_complex:
            W = PropertyOptimizedExplainer(
                model=model,
                lambda_robust=lambda_robust,
                lambda_complex=float(lam),
                length_scale=length_scale,
            ).fit_transform(X)
            f, r = property_losses(model, X, W, length_scale)
            faithful.append(f)
            robust.append(r)
            sparsity.append(float(complexity(W).sum()))
    return {
        "lambda_complex": np.asarray(lambdas_complex, dtype=np.float64),
        "lambda_robust": float(lambda_robust),
        "faithful": np.array(faithful),
        "complexity": np.array(sparsity),
        "robust": np.array(robust),
    }


# -- Appendix E: MLPs on tabular data --------------------------------------------------------------
def train_mlp(dataset, random_state=0, epochs=200, hidden=64):
    """Train a two-hidden-layer ReLU network on a standardized sklearn dataset.

    Returns
    -------
    module : torch.nn.Module
        float64, eval mode, raw logits.
    X_test : ndarray
        Standardized test rows (half of the data; the scaler is fitted on the training half).
    accuracy : float
    """
    X, y = DATASETS[dataset](return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.5, random_state=random_state, stratify=y
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    torch.manual_seed(random_state)
    d, k = X.shape[1], int(y.max()) + 1
    module = torch.nn.Sequential(
        torch.nn.Linear(d, hidden),
        torch.nn.ReLU(),
        torch.nn.Linear(hidden, hidden),
        torch.nn.ReLU(),
        torch.nn.Linear(hidden, k),
    ).double()
    optimizer = torch.optim.Adam(module.parameters(), lr=3e-3, weight_decay=1e-4)
    X_t, y_t = torch.as_tensor(X_train), torch.as_tensor(y_train)
    for _ in range(epochs):  # full batch: a few hundred rows
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(module(X_t), y_t).backward()
        optimizer.step()
    module.eval()
    with torch.no_grad():
        predicted = module(torch.as_tensor(X_test)).argmax(1).numpy()
    return module, X_test, float((predicted == y_test).mean())


def knn_length_scale(X, k=5):
    """Median distance from a row of X to its ``k``-th nearest other row."""
    squared = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(squared, np.inf)
    return float(np.median(np.sqrt(np.sort(squared, axis=1)[:, k - 1])))


def tabular_fronts(
    datasets=tuple(DATASETS),
    *,
    n_rows=TABULAR_DEFAULT["n_rows"],
    n_lambdas=TABULAR_DEFAULT["n_lambdas"],
    n_deltas=TABULAR_DEFAULT["n_deltas"],
    n_samples=TABULAR_DEFAULT["n_samples"],
    baselines=(("SmoothGrad", "gaussian"), ("CLIME", "gaussian")),
    target=1,
    random_state=0,
    refine=True,
    n_threads=1,
    verbose=False,
):
    """Appendix E: fronts for MLPs trained on breast_cancer and wine (logit of ``target``).

    Returns
    -------
    dict
        ``{dataset: {"front", "baselines", "length_scale", "accuracy", "n_rows", "seconds"}}``
        plus ``"settings"``.
    """
    lambdas = lambda_sweep(n_lambdas)
    deltas = delta_sweep(n_deltas)
    out = {
        "settings": {
            "lambdas": lambdas,
            "deltas": deltas,
            "n_samples": n_samples,
            "target": target,
            "random_state": random_state,
        }
    }
    with _limit_threads(n_threads):
        for name in datasets:
            module, X_test, accuracy = train_mlp(name, random_state)
            X = X_test[:n_rows]
            length_scale = knn_length_scale(X)
            result = _fronts(
                module,
                X,
                length_scale,
                lambdas,
                deltas,
                n_samples,
                baselines,
                random_state,
                target,
                refine,
                verbose,
                name,
            )
            result.update(accuracy=accuracy, n_rows=X.shape[0], n_features=X.shape[1])
            out[name] = result
    return out


# -- printing and plotting -------------------------------------------------------------------------
def _names(result):
    return [name for name in result if name != "settings"]


def format_fronts(result, titles=None):
    """The fronts as text: the optimized losses over lambda, then each baseline over delta."""
    lines = []
    for name in _names(result):
        r = result[name]
        title = (titles or {}).get(name, name)
        lines.append(f"\n== {title}  (length_scale {r['length_scale']:.3g}) ==")
        front = r["front"]
        lines.append(f"{'lambda_robust':>14s} {'faithfulness':>12s} {'robustness':>12s}")
        for lam, f, rb in zip(front["lambda"], front["faithful"], front["robust"], strict=True):
            lines.append(f"{lam:14.3g} {f:12.4g} {rb:12.4g}")
        lines.append(
            f"{'baseline':<20s} {'delta':>7s} {'faithfulness':>12s} {'robustness':>12s}  dominated"
        )
        for label, points in r["baselines"].items():
            dom = points["dominance"]
            for i, delta in enumerate(points["delta"]):
                if dom["by_sweep"][i]:
                    verdict = f"yes, lambda = {dom['sweep_lambda'][i]:.3g}"
                elif dom["dominated"][i]:
                    verdict = f"yes, refined lambda = {dom['witness_lambda'][i]:.4g}"
                else:
                    verdict = "NO"
                    if np.isfinite(dom["witness_lambda"][i]):
                        verdict += (
                            f" (best lambda {dom['witness_lambda'][i]:.4g}: "
                            f"{dom['witness_faithful'][i]:.4g}, {dom['witness_robust'][i]:.4g})"
                        )
                lines.append(
                    f"{label:<20s} {delta:7.3g} {points['faithful'][i]:12.4g} "
                    f"{points['robust'][i]:12.4g}  {verdict}"
                )
        lines.append(_summary(r))
    return "\n".join(lines)


def _summary(r):
    parts = []
    for label, points in r["baselines"].items():
        dom = points["dominance"]
        parts.append(
            f"{label}: {int(dom['dominated'].sum())}/{dom['dominated'].size} dominated "
            f"({int(dom['by_sweep'].sum())} by the sweep)"
        )
    return "summary: " + "; ".join(parts)


def format_tabular(result):
    """Appendix E as a table: per dataset, the baselines' points and the front's witness."""
    lines = []
    for name in _names(result):
        r = result[name]
        lines.append(
            f"\n== {name}: MLP test accuracy {r['accuracy']:.3f}, {r['n_rows']} rows x "
            f"{r['n_features']} features, logit of class {result['settings']['target']}, "
            f"length_scale {r['length_scale']:.3g} =="
        )
        front = r["front"]
        lines.append(
            "front (lambda: faithfulness, robustness): "
            + "; ".join(
                f"{lam:.2g}: {f:.3g}, {rb:.3g}"
                for lam, f, rb in zip(
                    front["lambda"], front["faithful"], front["robust"], strict=True
                )
            )
        )
        lines.append(
            f"{'baseline':<20s} {'delta':>7s} {'faithful':>10s} {'robust':>10s}   "
            f"{'witness lambda':>14s} {'faithful':>10s} {'robust':>10s}"
        )
        for label, points in r["baselines"].items():
            dom = points["dominance"]
            for i, delta in enumerate(points["delta"]):
                mark = "" if dom["by_sweep"][i] else (" refined" if dom["dominated"][i] else " NO")
                lines.append(
                    f"{label:<20s} {delta:7.3g} {points['faithful'][i]:10.4g} "
                    f"{points['robust'][i]:10.4g}   {dom['witness_lambda'][i]:14.4g} "
                    f"{dom['witness_faithful'][i]:10.4g} {dom['witness_robust'][i]:10.4g}{mark}"
                )
        lines.append(_summary(r))
    return "\n".join(lines)


_COLORS = {"SmoothGrad": "tab:blue", "CLIME": "tab:green"}


def plot_fronts(result, path, titles=None):
    """Figure 1's layout: one panel per function, faithfulness (x) vs robustness (y), log-log.

    The optimized front is red, SmoothGrad blue, C-LIME green (filled circles gaussian noise,
    open squares uniform noise). ``lambda_robust = 0`` has zero faithfulness loss and cannot be
    drawn on a log axis; it is left out of the plot.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = _names(result)
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.8), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        r = result[name]
        front = r["front"]
        keep = front["faithful"] > 0
        ax.plot(
            front["faithful"][keep],
            front["robust"][keep],
            "o-",
            color="tab:red",
            ms=4,
            label="optimized (lambda)",
            zorder=4,
        )
        for label, points in r["baselines"].items():
            method, noise = label.split("-")
            gaussian = noise == "gaussian"
            ax.plot(
                points["faithful"],
                points["robust"],
                "o-" if gaussian else "s--",
                color=_COLORS[method],
                mfc=_COLORS[method] if gaussian else "none",
                ms=5 if method == "CLIME" else 3.5,
                lw=1,
                label=f"{'LIME' if method == 'CLIME' else method} ({noise})",
                zorder=3 if method == "SmoothGrad" else 2,
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("faithfulness loss")
        ax.set_ylabel("robustness loss")
        ax.set_title((titles or {}).get(name, name))
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="tadesse_fronts.png", help="PNG of the synthetic fronts")
    parser.add_argument(
        "--tabular-out",
        default="tadesse_fronts_tabular.png",
        help="PNG of the Appendix E fronts ('' to skip the figure)",
    )
    parser.add_argument("--full", action="store_true", help="bigger grid and sweeps")
    parser.add_argument("--no-tabular", action="store_true", help="skip Appendix E")
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    settings = FULL if args.full else DEFAULT
    result = synthetic_fronts(random_state=args.random_state, verbose=True, **settings)
    s = result["settings"]
    titles = {name: title for name, (_, title) in FUNCTIONS.items()}
    print(
        f"\nFigure 1: {s['n_points']} grid points in (-5, 5)^3, gaussian robustness kernel with "
        f"length_scale {s['length_scale']:.3g} (the grid spacing), {s['n_samples']} noise draws"
    )
    print(format_fronts(result, titles))
    flat = flatness(result["cubic"])
    print(
        "\nclaim (b), cubic, relative range (max - min) / max: SmoothGrad (gaussian) robustness "
        f"{flat['baseline_robust']:.2e} over delta (its faithfulness "
        f"{flat['baseline_faithful']:.3f}); the front's robustness {flat['front_robust']:.3f} "
        "over lambda"
    )
    for lambda_robust in (0.0, 0.1):
        c = complexity_front(lambda_robust=lambda_robust, n_per_axis=s["n_per_axis"])
        print(f"claim (c), cubic, lambda_robust = {lambda_robust:g}:")
        print("  lambda_complex " + " ".join(f"{v:10.3g}" for v in c["lambda_complex"]))
        print("  faithfulness   " + " ".join(f"{v:10.4g}" for v in c["faithful"]))
        print("  complexity     " + " ".join(f"{v:10.4g}" for v in c["complexity"]))
    try:
        plot_fronts(result, args.out, titles)
        print(f"figure: {args.out}")
    except ImportError:
        print("matplotlib is not installed: no figure")
    if not args.no_tabular:
        tabular = tabular_fronts(
            random_state=args.random_state,
            verbose=True,
            **(TABULAR_FULL if args.full else TABULAR_DEFAULT),
        )
        print("\nAppendix E (MLPs):")
        print(format_tabular(tabular))
        if args.tabular_out:
            try:
                plot_fronts(tabular, args.tabular_out)
                print(f"figure: {args.tabular_out}")
            except ImportError:
                pass
    print(f"total {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
