"""Tadesse et al. (2024), Figures 1 and 2 and Appendix E: fronts against SmoothGrad and LIME.

:class:`~skexplain.PropertyOptimizedExplainer` (gradient-matching faithfulness with
``lambda_faithful = 1``, pairwise robustness weighted by ``lambda_robust``) traces a front of
(faithfulness, robustness) losses as ``lambda_robust`` sweeps from 0 to large values (Figure 1),
and a front of (faithfulness, complexity) losses as ``lambda_complex`` does (Figure 2).
:class:`~skexplain.SmoothGrad` and :class:`~skexplain.CLIME` give one point per noise scale
``delta`` (gaussian noise of standard deviation ``delta``, or uniform noise in the euclidean ball
of radius ``delta``). Every explanation, ours included, is scored with the same functions,
:func:`~skexplain.metrics.gradient_matching_loss`, :func:`~skexplain.metrics.robustness_loss`
(the optimizer's pair weights and length scale) and :func:`~skexplain.metrics.complexity`, each
summed over the explained rows.

Two conventions for the robustness loss ``sum_{n,n'} S_nn' ||W_n - W_n'||^2`` (``--weights``):

* ``precision`` (the default; the paper after its erratum and the authors' released code, dtak/
  POE): ``S = -pinv(K)``, the negated precision of a gaussian kernel ``K`` over the points; about
  half the weights are negative; the GP form of the paper's Prop. 1. Points: the authors' grid,
  the first 100 points of the 5 x 5 x 5 grid ``linspace(-5, 5, 5)^3`` (end points included, numpy
  meshgrid order); length scale 3 (their ``delta_kernel`` for the synthetic functions).
* ``kernel``: ``S = K``, a graph Laplacian's weights (every nearby pair pulls its explanations
  together). Points: :func:`skexplain.functions.grid`, ``n_per_axis`` cell centres per axis in
  (-5, 5)^3 (5 by default, 125 points, spacing 2; 10 with ``--full``); length scale the spacing,
  so that a point's six axis neighbours weigh ``exp(-1/2) = 0.61`` and points two cells away 0.14.

The claims (PAPERS.md, section 1):

(a) on ``sum x^3``, ``sum sin(exp(x))`` and ``sum exp(x)`` no SmoothGrad or C-LIME setting beats
    the front: for every ``delta`` there is a ``lambda_robust`` at least as good on both losses;
(b) SmoothGrad's robustness loss barely moves with ``delta`` on the cubic;
(c) raising ``lambda_complex`` lowers complexity (``sum_n ||W_n||_1``) and raises the
    faithfulness loss, monotonically (Figure 2: ``sum x^3``, ``sum exp(x)``, ``sum x^2``, with
    ``lambda_robust`` 0 and 0.1); and no SmoothGrad or C-LIME setting beats the
    faithfulness-complexity front.

How dominance is decided. A baseline point is dominated *by the sweep* when one of the swept
lambdas is at least as good on both losses. Where no swept value is (the point falls between two
of them), the witness is refined: along the front the second loss (robustness, or complexity) of
the optimum falls monotonically with its lambda and the faithfulness loss rises, so the best
candidate is the smallest lambda whose second loss is at most the baseline's; it is found by
bisection on ``log lambda`` between the two swept values around it, refitting the explainer each
time, and the point is dominated when that optimum's faithfulness loss is at most the baseline's.
(By convexity the exact front dominates every explanation whatsoever; with precision weights the
objective is convex here because the Laplacian of ``-pinv(K)`` is positive semi-definite on these
points, which the explainer checks. What the experiment checks is the solver, the losses and how
far from the front the baselines lie.)

Settings.

* ``lambda_robust``: 0 (the gradient itself) and 20 values log-spaced in [1e-6, 1e5] (precision)
  or [1e-4, 1e3] (kernel); ``lambda_complex``: 0 and 12 values log-spaced from 0.01 to 1.9 times
  the largest absolute gradient (at twice it every attribution is 0); ``delta``: 10 values
  log-spaced in [0.01, 3] (the authors' range is [1e-5, 3]).
* SmoothGrad and C-LIME use one seeded noise bank for all rows and for all ``delta`` (the same
  standard draws scaled by ``delta``): 2,000 draws by default on the grid, 500 on the tabular
  data, 10,000 with ``--full`` (the authors' number).
* Appendix E: a two-hidden-layer ReLU network (64 units each, float64) is trained on
  standardized breast_cancer and wine (half of each for training, scaler fitted there); the logit
  of class 1 is explained at the first 100 test rows (wine has 89). The length scale is the
  median distance from an explained row to its 5th nearest explained row (standardized units);
  ``delta`` in [0.01, 3] standardized units.

Run ``python examples/plot_tadesse_fronts.py [--weights kernel] [--out tadesse_fronts.png]``
(about a minute on two CPU cores) or with ``--full`` for the bigger sweep.
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
    "quadratic": (Polynomial(2), "sum x^2"),
}
FIGURE_1 = ("cubic", "sin_exp", "exp")
FIGURE_2 = ("cubic", "exp", "quadratic")
DATASETS = {"breast_cancer": load_breast_cancer, "wine": load_wine}
BASELINES = (
    ("SmoothGrad", "gaussian"),
    ("SmoothGrad", "uniform"),
    ("CLIME", "gaussian"),
    ("CLIME", "uniform"),
)
GAUSSIAN_BASELINES = (("SmoothGrad", "gaussian"), ("CLIME", "gaussian"))
_EXPLAINERS = {"SmoothGrad": SmoothGrad, "CLIME": CLIME}

# The robustness weights' conventions: lambda_robust's range, and the authors' length scale.
LAMBDA_RANGES = {"precision": (1e-6, 1e5), "kernel": (1e-4, 1e3)}
PAPER_LENGTH_SCALE = 3.0

# Settings of the default run and of ``--full``.
DEFAULT = {"n_per_axis": 5, "n_lambdas": 20, "n_deltas": 10, "n_samples": 2000}
FULL = {"n_per_axis": 10, "n_lambdas": 40, "n_deltas": 20, "n_samples": 10000}
TABULAR_DEFAULT = {"n_rows": 100, "n_lambdas": 20, "n_deltas": 10, "n_samples": 500}
TABULAR_FULL = {"n_rows": 100, "n_lambdas": 40, "n_deltas": 20, "n_samples": 5000}


def paper_grid(n_points=100, n_features=3, low=-5.0, high=5.0):
    """The authors' points: the first ``n_points`` of the smallest regular grid that has as many.

    ``linspace(low, high, size)`` on every axis (end points included), ``size`` the smallest
    integer with ``size**n_features >= n_points``, in numpy's meshgrid order: for 100 points in
    3 dimensions, 5 values per axis (spacing 2.5) and 100 of the 125 points.
    """
    size = 2
    while size**n_features < n_points:
        size += 1
    axis = np.linspace(low, high, size)
    points = np.stack(np.meshgrid(*[axis] * n_features), axis=-1).reshape(-1, n_features)
    return points[:n_points]


def points_and_length_scale(weights, n_per_axis=DEFAULT["n_per_axis"], length_scale=None):
    """The synthetic experiments' points and length scale under a convention (module docstring)."""
    if weights == "precision":
        X = paper_grid()
        return X, PAPER_LENGTH_SCALE if length_scale is None else float(length_scale)
    X = grid(3, n_per_axis)
    return X, 10.0 / n_per_axis if length_scale is None else float(length_scale)


def lambda_sweep(n_lambdas=20, low=1e-4, high=1e3):
    """0 followed by ``n_lambdas`` values log-spaced in ``[low, high]``."""
    return np.r_[0.0, np.logspace(np.log10(low), np.log10(high), n_lambdas)]


def complexity_sweep(gradients, n_lambdas=12, low=0.01):
    """0 and ``n_lambdas`` values of ``lambda_complex`` log-spaced from ``low`` to 1.9 times the
    largest absolute gradient (from twice it on, every attribution is 0)."""
    high = 1.9 * float(np.abs(gradients).max())
    return lambda_sweep(n_lambdas, low, high)


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
def property_losses(model, X, W, length_scale, target=None, weights="precision"):
    """(faithfulness, robustness): gradient matching and pairwise robustness, summed."""
    faithful = float(gradient_matching_loss(model, X, W, target=target).sum())
    robust = float(
        robustness_loss(X, W, kernel="gaussian", length_scale=length_scale, weights=weights).sum()
    )
    return faithful, robust


def _relative_gap(own, measured):
    return abs(own - measured) / max(abs(measured), 1e-12)


def _optimum_losses(model, X, length_scale, target, weights, **lambdas):
    """Fit the explainer with ``lambdas``: the metrics' faithfulness, robustness and complexity
    of its optimum, and ``mismatch``, the largest relative difference between the explainer's
    own ``losses_`` and the metrics' losses."""
    explainer = PropertyOptimizedExplainer(
        model=model,
        length_scale=length_scale,
        robustness_weights=weights,
        target=target,
        **lambdas,
    )
    W = explainer.fit_transform(X)
    faithful, robust = property_losses(model, X, W, length_scale, target, weights)
    measured = {"faithful": faithful, "robust": robust, "complex": float(complexity(W).sum())}
    own = explainer.losses_  # robustness only where lambda_robust > 0
    mismatch = max(_relative_gap(own[key], value) for key, value in measured.items() if key in own)
    return faithful, robust, measured["complex"], mismatch


def robust_solver(model, X, length_scale, target=None, weights="precision"):
    """``solve(lambda_robust) -> (faithfulness, robustness, mismatch)`` of the optimum."""

    def solve(lambda_robust):
        faithful, robust, _, mismatch = _optimum_losses(
            model, X, length_scale, target, weights, lambda_robust=lambda_robust
        )
        return faithful, robust, mismatch

    return solve


def complexity_solver(model, X, length_scale, lambda_robust=0.0, weights="precision"):
    """``solve(lambda_complex) -> (faithfulness, complexity, mismatch, robustness)``."""

    def solve(lambda_complex):
        faithful, robust, sparsity, mismatch = _optimum_losses(
            model,
            X,
            length_scale,
            None,
            weights,
            lambda_robust=lambda_robust,
            lambda_complex=lambda_complex,
        )
        return faithful, sparsity, mismatch, robust

    return solve


def optimized_front(solve, lambdas, axis="robust"):
    """Losses of the optimized explanations over ``lambdas``.

    Returns
    -------
    dict
        ``lambda``, ``faithful`` and ``axis`` (the second loss; arrays over ``lambdas``), more
        arrays where ``solve`` returns more (``robust`` of the complexity fronts), and
        ``loss_mismatch``: the largest relative difference between the explainer's ``losses_``
        and the metrics.
    """
    rows = [solve(float(lam)) for lam in lambdas]
    columns = [np.array(column) for column in zip(*rows, strict=True)]
    out = {
        "lambda": np.asarray(lambdas, dtype=np.float64),
        "faithful": columns[0],
        axis: columns[1],
        "loss_mismatch": float(columns[2].max()),
    }
    if len(columns) > 3:
        out["robust"] = columns[3]
    return out


def baseline_explanations(model, X, method, noise, deltas, n_samples, random_state=0, target=None):
    """SmoothGrad's or C-LIME's explanations of X at every noise scale (one seeded bank)."""
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
        yield explainer.fit(X).transform(X)


def baseline_front(
    model,
    X,
    method,
    noise,
    deltas,
    n_samples,
    length_scale,
    random_state=0,
    target=None,
    weights="precision",
):
    """Losses of SmoothGrad or C-LIME over the noise scales ``deltas``: faithfulness, robustness
    and complexity."""
    losses = []
    for W in baseline_explanations(
        model, X, method, noise, deltas, n_samples, random_state, target
    ):
        faithful, robust = property_losses(model, X, W, length_scale, target, weights)
        losses.append((faithful, robust, float(complexity(W).sum())))
    faithful, robust, sparsity = (np.array(column) for column in zip(*losses, strict=True))
    return {
        "delta": np.asarray(deltas, dtype=np.float64),
        "faithful": faithful,
        "robust": robust,
        "complexity": sparsity,
    }


def _refine(front_, bound, solve, axis, n_iter=30):
    """Smallest lambda whose optimum has its ``axis`` loss <= ``bound``, by bisection.

    Returns ``(lambda, faithful, other)`` of that optimum (the bracket's upper end), or None
    when even the largest swept lambda does not reach the bound.
    """
    lambdas, other = front_["lambda"], front_[axis]
    feasible = np.flatnonzero(other <= bound)
    if feasible.size == 0:
        return None
    upper = int(feasible.min())
    if upper == 0:
        return float(lambdas[0]), float(front_["faithful"][0]), float(other[0])
    hi = float(lambdas[upper])
    lo = float(lambdas[upper - 1]) if lambdas[upper - 1] > 0 else hi * 1e-8
    best = (hi, float(front_["faithful"][upper]), float(other[upper]))
    log_lo, log_hi = np.log(lo), np.log(hi)
    for _ in range(n_iter):
        mid = 0.5 * (log_lo + log_hi)
        faithful, other_mid = solve(float(np.exp(mid)))[:2]
        if other_mid <= bound:
            log_hi, best = mid, (float(np.exp(mid)), faithful, other_mid)
        else:
            log_lo = mid
    return best


def dominance(front_, baseline, solve, refine=True, axis="robust"):
    """Is each baseline point dominated by the front (both losses at least as low)?

    Parameters
    ----------
    front_ : dict
        From :func:`optimized_front`.
    baseline : dict
        From :func:`baseline_front`.
    solve : callable
        The front's ``solve(lambda)`` (:func:`robust_solver`, :func:`complexity_solver`), for
        the refinement.
    refine : bool
    axis : {"robust", "complexity"}
        The second loss.

    Returns
    -------
    dict
        Per baseline point: ``by_sweep`` (bool), ``sweep_lambda`` (the smallest swept
        lambda that dominates it, NaN if none), ``dominated`` (bool, after refinement),
        ``witness_lambda``, ``witness_faithful``, ``witness_other`` (the refined witness where
        refinement ran, else the swept one; NaN if none) and ``refined`` (bool).
    """
    F, R = front_["faithful"], front_[axis]
    n = baseline["faithful"].size
    out = {
        "by_sweep": np.zeros(n, dtype=bool),
        "sweep_lambda": np.full(n, np.nan),
        "dominated": np.zeros(n, dtype=bool),
        "witness_lambda": np.full(n, np.nan),
        "witness_faithful": np.full(n, np.nan),
        "witness_other": np.full(n, np.nan),
        "refined": np.zeros(n, dtype=bool),
    }
    for i, (fb, rb) in enumerate(zip(baseline["faithful"], baseline[axis], strict=True)):
        ok = np.flatnonzero((F <= fb) & (R <= rb))
        if ok.size:
            j = int(ok.min())
            out["by_sweep"][i] = out["dominated"][i] = True
            out["sweep_lambda"][i] = out["witness_lambda"][i] = front_["lambda"][j]
            out["witness_faithful"][i], out["witness_other"][i] = F[j], R[j]
        elif refine:
            witness = _refine(front_, rb, solve, axis)
            out["refined"][i] = True
            if witness is not None:
                lam, fw, rw = witness
                out["witness_lambda"][i] = lam
                out["witness_faithful"][i], out["witness_other"][i] = fw, rw
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
    weights,
):
    tic = time.perf_counter()
    solve = robust_solver(model, X, length_scale, target, weights)
    optimized = optimized_front(solve, lambdas)
    result = {"front": optimized, "baselines": {}, "length_scale": float(length_scale)}
    for method, noise in baselines:
        points = baseline_front(
            model, X, method, noise, deltas, n_samples, length_scale, random_state, target, weights
        )
        points["dominance"] = dominance(optimized, points, solve, refine)
        result["baselines"][f"{method}-{noise}"] = points
    result["seconds"] = time.perf_counter() - tic
    if verbose:
        print(f"{name}: {result['seconds']:.1f} s", flush=True)
    return result


def synthetic_fronts(
    functions=FIGURE_1,
    *,
    weights="precision",
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
    """Fronts of Figure 1 (first row) in (-5, 5)^3.

    Parameters
    ----------
    functions : sequence of {"cubic", "sin_exp", "exp", "quadratic"}
    weights : {"precision", "kernel"}
        The robustness weights, and with them the points and the default length scale (the
        module docstring).
    n_per_axis : int
        Grid points per axis under ``weights="kernel"`` (the grid has ``n_per_axis**3``
        points); precision weights use the authors' 100 points.
    n_lambdas, n_deltas : int
        Sizes of the default sweeps (:func:`lambda_sweep` over the convention's range,
        :func:`delta_sweep`).
    n_samples : int
        Noise draws of SmoothGrad and C-LIME.
    lambdas, deltas : array-like or None
        Explicit sweeps instead of the defaults.
    baselines : sequence of (method, noise)
        Methods "SmoothGrad" or "CLIME", noise "gaussian" or "uniform".
    length_scale : float or None
        Gaussian kernel length scale of the robustness loss; None: the convention's.
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
        ``front`` from :func:`optimized_front`, each baseline from :func:`baseline_front` with its
        :func:`dominance` under ``"dominance"``.
    """
    if lambdas is None:
        lambdas = lambda_sweep(n_lambdas, *LAMBDA_RANGES[weights])
    lambdas = np.asarray(lambdas, dtype=float)
    deltas = delta_sweep(n_deltas) if deltas is None else np.asarray(deltas, dtype=float)
    X, length_scale = points_and_length_scale(weights, n_per_axis, length_scale)
    out = {
        "settings": {
            "weights": weights,
            "n_points": X.shape[0],
            "n_per_axis": n_per_axis if weights == "kernel" else None,
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
                weights,
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
    optimized = front_result["front"]
    return {
        "baseline_robust": spread(points["robust"]),
        "baseline_faithful": spread(points["faithful"]),
        "front_robust": spread(optimized["robust"]),
        "front_faithful": spread(optimized["faithful"]),
    }


def complexity_fronts(
    functions=FIGURE_2,
    *,
    weights="precision",
    lambdas_robust=(0.0, 0.1),
    n_lambdas=12,
    lambdas_complex=None,
    n_per_axis=DEFAULT["n_per_axis"],
    n_deltas=DEFAULT["n_deltas"],
    n_samples=DEFAULT["n_samples"],
    deltas=None,
    baselines=GAUSSIAN_BASELINES,
    length_scale=None,
    random_state=0,
    refine=True,
    n_threads=1,
    verbose=False,
):
    """Figure 2 and claim (c): faithfulness-complexity fronts over ``lambda_complex``.

    One front per value of ``lambdas_robust``; SmoothGrad and C-LIME (gaussian noise, the
    paper's "normal sampling") over ``delta``, each point's dominance decided in the
    (faithfulness, complexity) plane by the front of the first ``lambdas_robust`` (0 by default:
    the exact faithfulness-complexity front).

    Returns
    -------
    dict
        ``{function: {"fronts": {lambda_robust: front}, "baselines", "length_scale",
        "seconds"}}`` plus ``"settings"``; each front from :func:`optimized_front`, with
        ``complexity`` and ``robust``.
    """
    deltas = delta_sweep(n_deltas) if deltas is None else np.asarray(deltas, dtype=float)
    X, length_scale = points_and_length_scale(weights, n_per_axis, length_scale)
    out = {
        "settings": {
            "weights": weights,
            "n_points": X.shape[0],
            "length_scale": float(length_scale),
            "lambdas_robust": tuple(float(lam) for lam in lambdas_robust),
            "deltas": deltas,
            "n_samples": n_samples,
        }
    }
    with _limit_threads(n_threads):
        for name in functions:
            tic = time.perf_counter()
            model = FUNCTIONS[name][0]
            sweep = lambdas_complex
            if sweep is None:
                sweep = complexity_sweep(model.gradient(X), n_lambdas)
            solvers = {
                float(lam): complexity_solver(model, X, length_scale, float(lam), weights)
                for lam in lambdas_robust
            }
            fronts = {
                lam: optimized_front(solve, sweep, "complexity") for lam, solve in solvers.items()
            }
            first = float(lambdas_robust[0])
            result = {"fronts": fronts, "baselines": {}, "length_scale": float(length_scale)}
            for method, noise in baselines:
                points = baseline_front(
                    model,
                    X,
                    method,
                    noise,
                    deltas,
                    n_samples,
                    length_scale,
                    random_state,
                    None,
                    weights,
                )
                points["dominance"] = dominance(
                    fronts[first], points, solvers[first], refine, axis="complexity"
                )
                result["baselines"][f"{method}-{noise}"] = points
            result["seconds"] = time.perf_counter() - tic
            if verbose:
                print(f"{name} (complexity): {result['seconds']:.1f} s", flush=True)
            out[name] = result
    return out


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
    baselines=GAUSSIAN_BASELINES,
    weights="precision",
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
    lambdas = lambda_sweep(n_lambdas, *LAMBDA_RANGES[weights])
    deltas = delta_sweep(n_deltas)
    out = {
        "settings": {
            "weights": weights,
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
                weights,
            )
            result.update(accuracy=accuracy, n_rows=X.shape[0], n_features=X.shape[1])
            out[name] = result
    return out


# -- printing and plotting -------------------------------------------------------------------------
_AXIS_NAMES = {"robust": "robustness", "complexity": "complexity"}


def _names(result):
    return [name for name in result if name != "settings"]


def _verdict(dom, i):
    if dom["by_sweep"][i]:
        return f"yes, lambda = {dom['sweep_lambda'][i]:.3g}"
    if dom["dominated"][i]:
        return f"yes, refined lambda = {dom['witness_lambda'][i]:.4g}"
    verdict = "NO"
    if np.isfinite(dom["witness_lambda"][i]):
        verdict += (
            f" (best lambda {dom['witness_lambda'][i]:.4g}: "
            f"{dom['witness_faithful'][i]:.4g}, {dom['witness_other'][i]:.4g})"
        )
    return verdict


def _front_lines(front_, axis, name):
    columns = [("faithful", "faithfulness"), (axis, _AXIS_NAMES[axis])]
    if axis != "robust" and "robust" in front_:
        columns.append(("robust", "robustness"))
    lines = [f"{name:>14s} " + " ".join(f"{title:>12s}" for _, title in columns)]
    for i, lam in enumerate(front_["lambda"]):
        lines.append(f"{lam:14.3g} " + " ".join(f"{front_[key][i]:12.4g}" for key, _ in columns))
    return lines


def _baseline_lines(r, axis):
    lines = [
        f"{'baseline':<20s} {'delta':>7s} {'faithfulness':>12s} {_AXIS_NAMES[axis]:>12s}  dominated"
    ]
    for label, points in r["baselines"].items():
        for i, delta in enumerate(points["delta"]):
            lines.append(
                f"{label:<20s} {delta:7.3g} {points['faithful'][i]:12.4g} "
                f"{points[axis][i]:12.4g}  {_verdict(points['dominance'], i)}"
            )
    lines.append(_summary(r))
    return lines


def format_fronts(result, titles=None):
    """Figure 1 as text: the optimized losses over lambda, then each baseline over delta."""
    lines = []
    for name in _names(result):
        r = result[name]
        title = (titles or {}).get(name, name)
        lines.append(f"\n== {title}  (length_scale {r['length_scale']:.3g}) ==")
        lines += _front_lines(r["front"], "robust", "lambda_robust")
        lines += _baseline_lines(r, "robust")
    return "\n".join(lines)


def format_complexity(result, titles=None):
    """Figure 2 as text: each front over ``lambda_complex`` (with its robustness loss), then the
    baselines, dominated or not in the (faithfulness, complexity) plane."""
    lines = []
    for name in _names(result):
        r = result[name]
        title = (titles or {}).get(name, name)
        for lambda_robust, front_ in r["fronts"].items():
            lines.append(f"\n== {title}: lambda_robust = {lambda_robust:g} ==")
            lines += _front_lines(front_, "complexity", "lambda_complex")
        lines += _baseline_lines(r, "complexity")
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
        optimized = r["front"]
        lines.append(
            "front (lambda: faithfulness, robustness): "
            + "; ".join(
                f"{lam:.2g}: {f:.3g}, {rb:.3g}"
                for lam, f, rb in zip(
                    optimized["lambda"], optimized["faithful"], optimized["robust"], strict=True
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
                    f"{dom['witness_faithful'][i]:10.4g} {dom['witness_other'][i]:10.4g}{mark}"
                )
        lines.append(_summary(r))
    return "\n".join(lines)


_COLORS = {"SmoothGrad": "tab:blue", "CLIME": "tab:green"}
_FRONT_COLORS = ("tab:red", "tab:orange", "tab:purple", "tab:brown")


def plot_fronts(result, path, titles=None):
    """Figures 1 and 2's layout: one panel per function, faithfulness (x) against robustness or
    complexity (y), log-log.

    Optimized fronts are red (orange for a second ``lambda_robust`` on Figure 2), SmoothGrad
    blue, C-LIME green (filled circles gaussian noise, open squares uniform noise). Points with a
    zero loss (``lambda = 0`` has zero faithfulness loss) cannot be drawn on a log axis and are
    left out.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = _names(result)
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.8), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        r = result[name]
        if "fronts" in r:
            axis = "complexity"
            fronts = {f"optimized, lambda_robust {lam:g}": f for lam, f in r["fronts"].items()}
        else:
            axis, fronts = "robust", {"optimized (lambda)": r["front"]}
        for (label, front_), color in zip(fronts.items(), _FRONT_COLORS, strict=False):
            keep = (front_["faithful"] > 0) & (front_[axis] > 0)
            ax.plot(
                front_["faithful"][keep],
                front_[axis][keep],
                "o-",
                color=color,
                ms=4,
                label=label,
                zorder=4,
            )
        for label, points in r["baselines"].items():
            method, noise = label.split("-")
            gaussian = noise == "gaussian"
            ax.plot(
                points["faithful"],
                points[axis],
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
        ax.set_ylabel(f"{_AXIS_NAMES[axis]} loss")
        ax.set_title((titles or {}).get(name, name))
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _save_figure(result, path, titles=None):
    if not path:
        return
    try:
        plot_fronts(result, path, titles)
        print(f"figure: {path}")
    except ImportError:
        print("matplotlib is not installed: no figure")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--weights",
        choices=("precision", "kernel"),
        default="precision",
        help="robustness weights: the paper's S = -pinv(K) (default) or the kernel S = K",
    )
    parser.add_argument("--out", default="tadesse_fronts.png", help="PNG of Figure 1's fronts")
    parser.add_argument(
        "--complexity-out",
        default="tadesse_complexity.png",
        help="PNG of Figure 2's fronts ('' to skip the figure)",
    )
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
    result = synthetic_fronts(
        weights=args.weights, random_state=args.random_state, verbose=True, **settings
    )
    s = result["settings"]
    titles = {name: title for name, (_, title) in FUNCTIONS.items()}
    where = (
        "the authors' grid"
        if s["weights"] == "precision"
        else f"a grid of {s['n_per_axis']} cell centres per axis"
    )
    print(
        f"\nFigure 1: {s['n_points']} points of {where} in (-5, 5)^3, robustness weights "
        f"{s['weights']!r} of a gaussian kernel with length_scale {s['length_scale']:.3g}, "
        f"{s['n_samples']} noise draws"
    )
    print(format_fronts(result, titles))
    flat = flatness(result["cubic"])
    print(
        "\nclaim (b), cubic, relative range (max - min) / max: SmoothGrad (gaussian) robustness "
        f"{flat['baseline_robust']:.2e} over delta (its faithfulness "
        f"{flat['baseline_faithful']:.3f}); the front's robustness {flat['front_robust']:.3f} "
        "over lambda"
    )
    _save_figure(result, args.out, titles)
    figure_2 = complexity_fronts(
        weights=args.weights,
        n_per_axis=settings["n_per_axis"],
        n_deltas=settings["n_deltas"],
        n_samples=settings["n_samples"],
        random_state=args.random_state,
        verbose=True,
    )
    print("\nFigure 2 and claim (c): faithfulness-complexity fronts over lambda_complex")
    print(format_complexity(figure_2, titles))
    _save_figure(figure_2, args.complexity_out, titles)
    if not args.no_tabular:
        tabular = tabular_fronts(
            weights=args.weights,
            random_state=args.random_state,
            verbose=True,
            **(TABULAR_FULL if args.full else TABULAR_DEFAULT),
        )
        print("\nAppendix E (MLPs):")
        print(format_tabular(tabular))
        _save_figure(tabular, args.tabular_out)
    print(f"total {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
