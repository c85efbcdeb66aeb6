"""Agarwal et al. (2021): SmoothGrad and C-LIME converge to one explanation, and it is robust.

SmoothGrad (:class:`~skexplain.SmoothGrad`, gaussian noise ``N(0, sigma^2 I)``) averages the
gradient over noisy copies of a row; C-LIME (:class:`~skexplain.CLIME`, ``alpha=0``: ordinary
least squares with an intercept, no kernel, no discretization) fits a line to the outputs at the
same kind of copies. Theorem 1: both have the expectation ``Sigma^{-1} Cov(x~, f(x~))``. This
script checks, at 10 to 10,000 samples and ``sigma^2`` in {0.01, 0.1, 1} (the paper's section 6.4):

(i)   the distance between the SmoothGrad and C-LIME explanations of a row falls toward 0 as the
      number of samples grows, and is smaller for smaller sigma at every sample size (so a given
      distance is reached with fewer samples: "faster for smaller sigma");
(ii)  SmoothGrad is closer than C-LIME to their common limit at every sample size. On
      ``f(x) = sum_d sin(x_d)`` (:class:`~skexplain.functions.SumOfSines`) the limit is known:
      ``cos(x) exp(-sigma^2 / 2)`` (Stein's lemma);
(iii) ridge C-LIME (``alpha > 0``) goes to ``(Sigma + alpha I)^{-1} Cov(x~, f(x~))``, which is
      ``sigma^2 / (sigma^2 + alpha)`` times that limit for ``Sigma = sigma^2 I`` (Appendix D);
(iv)  Theorem 2, robustness: explanations of nearby points stay close. Measured as in the
      paper's section 6.3 (10 neighbours per row, each explained with its own draws; the mean
      over rows of the largest distance falls as samples grow) and as a Lipschitz estimate
      ``max ||phi(x) - phi(x')|| / ||x - x'||`` over the neighbours (all points explained with one
      bank of draws, so the Monte Carlo noise cancels in the difference), which should fall as
      sigma grows and not grow with the dimension (sum of sines with 4, 16 and 64 features).

The real model is the paper's kind of network (two hidden layers of 10 ELU units, Adam,
cross-entropy) trained with torch on scikit-learn's breast_cancer, standardized; the explained
output is its logit for the positive class, at test rows (``--network-output probability``
explains the probability instead: this network is so confident that the probability is flat at
most test rows, its gradient there below 1e-10, and the distances measure little). It has no
closed-form limit, so only (i) and (iv) are measured there.

Each claim is printed with the numbers it was decided on, ``holds`` or ``FAILS``; the figure
(``--out``, default ``agarwal_convergence.png``) shows the curves. Run
``python examples/plot_agarwal_convergence.py`` (well under a minute on two CPU cores) or with
``--full`` for more rows, seeds and sample sizes.
"""

import argparse
import time
from contextlib import contextmanager

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skexplain import CLIME, Gradient, SmoothGrad
from skexplain.functions import SumOfSines
from skexplain.models import as_model

# sigma^2 in {0.01, 0.1, 1}, the paper's section 6.4.
SIGMAS = (0.1, float(np.sqrt(0.1)), 1.0)
RIDGE_ALPHA = 0.1

DEFAULT = {
    "sample_sizes": (10, 100, 1000, 10_000),
    "n_rows": 10,
    "n_seeds": 3,
    "n_features": 4,
    "dimensions": (4, 16, 64),
    "n_neighbors": 10,
    "robust_sample_sizes": (10, 100, 1000),
    "lipschitz_samples": 1000,
}
FULL = {
    "sample_sizes": (10, 30, 100, 300, 1000, 3000, 10_000),
    "n_rows": 40,
    "n_seeds": 10,
    "n_features": 4,
    "dimensions": (4, 16, 64, 256),
    "n_neighbors": 10,
    "robust_sample_sizes": (10, 100, 1000, 10_000),
    "lipschitz_samples": 10_000,
}
NEIGHBOR_RADIUS = 0.1  # distance of each neighbour from its row, in feature units


def sines_limit(X, sigma):
    """Theorem 1's limit for ``sum_d sin(x_d)``: ``cos(x) exp(-sigma^2 / 2)`` (Stein's lemma)."""
    return np.cos(X) * np.exp(-(sigma**2) / 2)


def train_network(random_state=0, epochs=60, output="raw"):
    """The paper's network on breast_cancer: 30-10-10-1 ELU, Adam, cross-entropy, float64.

    Returns
    -------
    model : ModelAdapter
        The network's logit (``output="raw"``) or probability (``"probability"``) of the positive
        class, through :func:`skexplain.models.as_model`.
    X_test : ndarray of shape (114, 30)
        Standardized test rows (the scaler is fitted on the training rows).
    accuracy : float
        Test accuracy.
    """
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, random_state=random_state, stratify=y
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    torch.manual_seed(random_state)
    module = torch.nn.Sequential(
        torch.nn.Linear(30, 10),
        torch.nn.ELU(),
        torch.nn.Linear(10, 10),
        torch.nn.ELU(),
        torch.nn.Linear(10, 1),
    ).double()
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-2)
    X_t = torch.as_tensor(X_train)
    y_t = torch.as_tensor(y_train, dtype=torch.float64)
    generator = torch.Generator().manual_seed(random_state)
    for _ in range(epochs):
        order = torch.randperm(len(X_t), generator=generator)
        for start in range(0, len(X_t), 64):
            batch = order[start : start + 64]
            optimizer.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                module(X_t[batch])[:, 0], y_t[batch]
            )
            loss.backward()
            optimizer.step()
    module.eval()
    with torch.no_grad():
        logits = module(torch.as_tensor(X_test))[:, 0].numpy()
    accuracy = float(((logits > 0) == y_test).mean())
    return as_model(module, output=output, device="cpu"), X_test, accuracy


def _explain(Explainer, model, X, sigma, n_samples, seed, **params):
    explainer = Explainer(
        model=model,
        noise_scale=sigma,
        n_samples=n_samples,
        random_state=seed,
        units="raw",
        **params,
    )
    return explainer.fit(X).transform(X)


def _row_distance(A, B):
    """Mean over rows of the euclidean distance between two explanations of each row."""
    return float(np.linalg.norm(A - B, axis=-1).mean())


def convergence(model, X, sigma, sample_sizes, seeds, limit=None, ridge_alpha=None):
    """SmoothGrad vs C-LIME at each sample size, averaged over rows and seeds.

    Parameters
    ----------
    model : model accepted by :func:`skexplain.models.as_model`
    X : ndarray of shape (n_rows, n_features)
    sigma : float
        Standard deviation of the gaussian noise of both explainers.
    sample_sizes : sequence of int
    seeds : sequence of int
        One seed per repetition; SmoothGrad and C-LIME get different draws.
    limit : ndarray of shape (n_rows, n_features) or None
        The expected explanation (Theorem 1), where it is known.
    ridge_alpha : float or None
        Also fit ridge C-LIME with this penalty and measure it against
        ``sigma^2 / (sigma^2 + alpha) * limit`` (needs ``limit``).

    Returns
    -------
    dict of ndarray of shape (len(sample_sizes),)
        ``"distance"`` (SmoothGrad to C-LIME); with ``limit``: ``"sg_error"``,
        ``"clime_error"``; with ``ridge_alpha``: ``"ridge_error"`` (to the ridge limit) and
        ``"ridge_to_ols_limit"`` (to the unpenalized limit). Each is the mean euclidean norm.
    """
    keys = ["distance"]
    if limit is not None:
        keys += ["sg_error", "clime_error"]
        if ridge_alpha is not None:
            keys += ["ridge_error", "ridge_to_ols_limit"]
            ridge_limit = sigma**2 / (sigma**2 + ridge_alpha) * limit
    out = {key: np.zeros(len(sample_sizes)) for key in keys}
    for i, n in enumerate(sample_sizes):
        for seed in seeds:
            sg = _explain(SmoothGrad, model, X, sigma, n, 2 * seed)
            cl = _explain(CLIME, model, X, sigma, n, 2 * seed + 1)
            out["distance"][i] += _row_distance(sg, cl)
            if limit is not None:
                out["sg_error"][i] += _row_distance(sg, limit)
                out["clime_error"][i] += _row_distance(cl, limit)
                if ridge_alpha is not None:
                    ridge = _explain(CLIME, model, X, sigma, n, 2 * seed + 1, alpha=ridge_alpha)
                    out["ridge_error"][i] += _row_distance(ridge, ridge_limit)
                    out["ridge_to_ols_limit"][i] += _row_distance(ridge, limit)
    return {key: value / len(seeds) for key, value in out.items()}


def neighbors(X, n_neighbors, radius, random_state):
    """``n_neighbors`` points at euclidean distance ``radius`` from each row, random directions.

    Returns
    -------
    ndarray of shape (n_neighbors, n_rows, n_features)
    """
    rng = np.random.default_rng(random_state)
    directions = rng.normal(size=(n_neighbors, *X.shape))
    directions /= np.linalg.norm(directions, axis=-1, keepdims=True)
    return X[None] + radius * directions


def robustness_distance(model, X, Xn, sigma, sample_sizes, seed=0):
    """The paper's section 6.3 measure: mean over rows of the largest ``||phi(x) - phi(x')||``.

    Every point (a row or one of its neighbours) is explained with its own draws, as when each
    explanation is computed on its own.

    Returns
    -------
    dict
        ``"SmoothGrad"`` and ``"C-LIME"``: ndarray of shape (len(sample_sizes),).
    """
    out = {}
    for name, Explainer in (("SmoothGrad", SmoothGrad), ("C-LIME", CLIME)):
        values = []
        for n in sample_sizes:
            base = _explain(Explainer, model, X, sigma, n, seed)
            dist = [
                np.linalg.norm(_explain(Explainer, model, Z, sigma, n, seed + 1 + k) - base, axis=1)
                for k, Z in enumerate(Xn)
            ]
            values.append(float(np.max(dist, axis=0).mean()))
        out[name] = np.array(values)
    return out


def lipschitz_estimate(model, X, Xn, sigma, n_samples, seed=0, limit=None):
    """Mean over rows of ``max_k ||phi(x) - phi(x'_k)|| / ||x - x'_k||`` (Theorem 2's constant).

    The rows and their neighbours are explained in one call, so with one bank of draws: the
    difference then has no Monte Carlo noise of order ``1 / sqrt(n_samples)`` that, divided by
    a small ``||x - x'||``, would swamp the estimate.

    Parameters
    ----------
    limit : callable or None
        ``limit(X, sigma)``, the expected explanation, where known.

    Returns
    -------
    dict of float
        ``"SmoothGrad"``, ``"C-LIME"``, ``"Gradient"`` (sigma -> 0) and, with ``limit``,
        ``"limit"``.
    """
    k, n_rows, d = Xn.shape
    points = np.concatenate([X, Xn.reshape(-1, d)])
    step = np.linalg.norm(Xn - X[None], axis=-1)

    def ratio(phi):
        base, others = phi[:n_rows], phi[n_rows:].reshape(k, n_rows, d)
        return float((np.linalg.norm(others - base[None], axis=-1) / step).max(axis=0).mean())

    out = {
        "SmoothGrad": ratio(_explain(SmoothGrad, model, points, sigma, n_samples, seed)),
        "C-LIME": ratio(_explain(CLIME, model, points, sigma, n_samples, seed)),
        "Gradient": ratio(Gradient(model=model).fit(points).transform(points)),
    }
    if limit is not None:
        out["limit"] = ratio(limit(points, sigma))
    return out


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


def run(
    sample_sizes=DEFAULT["sample_sizes"],
    n_rows=DEFAULT["n_rows"],
    n_seeds=DEFAULT["n_seeds"],
    n_features=DEFAULT["n_features"],
    dimensions=DEFAULT["dimensions"],
    n_neighbors=DEFAULT["n_neighbors"],
    robust_sample_sizes=DEFAULT["robust_sample_sizes"],
    lipschitz_samples=DEFAULT["lipschitz_samples"],
    *,
    sigmas=SIGMAS,
    ridge_alpha=RIDGE_ALPHA,
    radius=NEIGHBOR_RADIUS,
    network_output="raw",
    random_state=0,
    n_threads=1,
):
    """Measure everything the claims are decided on.

    Parameters
    ----------
    sample_sizes : sequence of int
        Samples per explanation for the convergence curves (i)-(iii).
    n_rows : int
        Rows explained: uniform in ``(-3, 3)^n_features`` for the sum of sines, the first test
        rows for the network.
    n_seeds : int
        Repetitions averaged in the convergence curves.
    n_features : int
        Dimension of the sum of sines in (i)-(iii).
    dimensions : sequence of int
        Dimensions of the sum of sines in the Lipschitz estimates of (iv).
    n_neighbors, radius : int, float
        Neighbours per row and their distance from it, for (iv).
    robust_sample_sizes : sequence of int
        Sample sizes of the paper's robustness measure on the network.
    lipschitz_samples : int
        Samples per explanation in the Lipschitz estimates.
    sigmas : sequence of float
        Noise standard deviations, increasing.
    ridge_alpha : float
        Penalty of ridge C-LIME in (iii).
    network_output : {"raw", "probability"}
        The network's explained output: its logit, or the probability of the positive class
        (flat, gradient near 0, at most rows of this confident network).
    random_state : int
    n_threads : int or None
        Torch and BLAS threads during the run (None: unchanged); one is fastest for these
        small models on shared cores.

    Returns
    -------
    dict
        ``"sines"``, ``"network"``: ``{sigma: convergence(...)}``; ``"network_robustness"``:
        ``{sigma: robustness_distance(...)}``; ``"lipschitz_sines"``:
        ``{(sigma, d): lipschitz_estimate(...)}``; ``"lipschitz_network"``:
        ``{sigma: lipschitz_estimate(...)}``; ``"accuracy"``, ``"settings"``, ``"seconds"``.
    """
    start = time.perf_counter()
    settings = {
        "sample_sizes": tuple(sample_sizes),
        "n_rows": n_rows,
        "n_seeds": n_seeds,
        "n_features": n_features,
        "dimensions": tuple(dimensions),
        "n_neighbors": n_neighbors,
        "robust_sample_sizes": tuple(robust_sample_sizes),
        "lipschitz_samples": lipschitz_samples,
        "sigmas": tuple(sigmas),
        "ridge_alpha": ridge_alpha,
        "radius": radius,
        "network_output": network_output,
        "random_state": random_state,
    }
    seeds = [random_state * 1000 + s for s in range(n_seeds)]
    rng = np.random.default_rng(random_state)
    sines = SumOfSines()
    result = {"settings": settings, "seconds": {}}
    with _limit_threads(n_threads):
        tic = time.perf_counter()
        X_sin = rng.uniform(-3.0, 3.0, size=(n_rows, n_features))
        result["sines"] = {
            s: convergence(sines, X_sin, s, sample_sizes, seeds, sines_limit(X_sin, s), ridge_alpha)
            for s in sigmas
        }
        result["lipschitz_sines"] = {}
        for d in dimensions:
            X_d = rng.uniform(-3.0, 3.0, size=(n_rows, d))
            Xn = neighbors(X_d, n_neighbors, radius, random_state + d)
            for s in sigmas:
                result["lipschitz_sines"][(s, d)] = lipschitz_estimate(
                    sines, X_d, Xn, s, lipschitz_samples, random_state, sines_limit
                )
        result["seconds"]["sines"] = time.perf_counter() - tic

        tic = time.perf_counter()
        network, X_test, accuracy = train_network(random_state, output=network_output)
        result["accuracy"] = accuracy
        X_net = X_test[:n_rows]
        Xn = neighbors(X_net, n_neighbors, radius, random_state)
        result["network"] = {s: convergence(network, X_net, s, sample_sizes, seeds) for s in sigmas}
        result["network_robustness"] = {
            s: robustness_distance(network, X_net, Xn, s, robust_sample_sizes, random_state)
            for s in sigmas
        }
        result["lipschitz_network"] = {
            s: lipschitz_estimate(network, X_net, Xn, s, lipschitz_samples, random_state)
            for s in sigmas
        }
        values = network.predict(X_net)
        probability = values if network_output == "probability" else 1 / (1 + np.exp(-values))
        result["network_rows"] = {
            "median_confidence": float(np.median(np.maximum(probability, 1 - probability))),
            "median_gradient_norm": float(
                np.median(np.linalg.norm(network.gradient(X_net), axis=1))
            ),
            "n_features": X_net.shape[1],
        }
        result["seconds"]["network"] = time.perf_counter() - tic
    result["seconds"]["total"] = time.perf_counter() - start
    return result


# -- the claims, each decided on the numbers it prints ---------------------------------------------


def _falls(values, factor):
    """Each value below the previous one, and the last below ``factor`` times the first."""
    values = np.asarray(values)
    return bool(np.all(np.diff(values) < 0) and values[-1] < factor * values[0])


def _increasing_in_sigma(curves, key):
    """At every sample size, the value for each sigma is below the value for the next sigma."""
    stacked = np.array([curves[s][key] for s in sorted(curves)])  # (n_sigmas, n_sizes)
    return bool(np.all(np.diff(stacked, axis=0) > 0))


def _fmt(values):
    return " ".join(f"{v:.3g}" for v in values)


def claims(result):
    """Every claim with its verdict and the numbers it was decided on.

    Returns
    -------
    list of (str, str, bool, str)
        ``(key, claim, holds, numbers)``; ``key`` is the claim's short name, used by the tests.
    """
    st = result["settings"]
    sizes, sigmas = st["sample_sizes"], st["sigmas"]
    d_network = result["network_rows"]["n_features"]

    def underdetermined(sample_sizes):
        small = [n for n in sample_sizes if n < d_network + 1]
        if not small:
            return ""
        return (
            f" (at n = {_fmt(small)} < d + 1 = {d_network + 1} C-LIME's least squares is"
            " underdetermined: the pseudo-inverse gives the minimum-norm slope)"
        )

    fall = (sizes[0] / sizes[-1]) ** 0.5 * 3  # 1 / sqrt(n), with room for a factor 3
    out = []

    for model in ("sines", "network"):
        curves = result[model]
        numbers = "; ".join(f"sigma {s:.3g}: {_fmt(curves[s]['distance'])}" for s in sigmas)
        holds = all(_falls(curves[s]["distance"], fall) for s in sigmas)
        if model == "network":
            numbers += underdetermined(sizes)
        out.append(
            (
                f"i_distance_falls_{model}",
                f"(i) {model}: SG-to-C-LIME distance falls with n, last < {fall:.3g} x first",
                holds,
                numbers,
            )
        )
        out.append(
            (
                f"i_smaller_sigma_closer_{model}",
                f"(i) {model}: distance smaller for smaller sigma at every n",
                _increasing_in_sigma(curves, "distance"),
                numbers,
            )
        )

    sines = result["sines"]
    holds = all(np.all(sines[s]["sg_error"] < sines[s]["clime_error"]) for s in sigmas)
    numbers = "; ".join(
        f"sigma {s:.3g}: SG {_fmt(sines[s]['sg_error'])} | C-LIME {_fmt(sines[s]['clime_error'])}"
        for s in sigmas
    )
    out.append(
        (
            "ii_smoothgrad_closer_to_limit",
            "(ii) sines: SmoothGrad's error to cos(x) e^{-sigma^2/2} < C-LIME's, every sigma and n",
            holds,
            numbers,
        )
    )
    holds = all(
        _falls(sines[s]["sg_error"], fall) and _falls(sines[s]["clime_error"], fall) for s in sigmas
    )
    out.append(
        (
            "ii_both_reach_limit",
            f"(ii) sines: both errors to the limit fall with n, last < {fall:.3g} x first",
            holds,
            numbers,
        )
    )

    alpha = st["ridge_alpha"]
    holds = all(
        _falls(sines[s]["ridge_error"], fall)
        and sines[s]["ridge_error"][-1] < 0.5 * sines[s]["ridge_to_ols_limit"][-1]
        for s in sigmas
    )
    numbers = "; ".join(
        f"sigma {s:.3g} (factor {s**2 / (s**2 + alpha):.3g}): to ridge limit "
        f"{_fmt(sines[s]['ridge_error'])} | to OLS limit at n={sizes[-1]} "
        f"{sines[s]['ridge_to_ols_limit'][-1]:.3g}"
        for s in sigmas
    )
    out.append(
        (
            "iii_ridge_limit",
            f"(iii) sines: ridge C-LIME (alpha={alpha}) -> sigma^2/(sigma^2+alpha) x limit "
            "(error falls; at the largest n < half its distance to the OLS limit)",
            holds,
            numbers,
        )
    )

    robust = result["network_robustness"]
    holds = all(_falls(robust[s][m], 1.0) for s in sigmas for m in ("SmoothGrad", "C-LIME"))
    numbers = "; ".join(
        f"sigma {s:.3g}: SG {_fmt(robust[s]['SmoothGrad'])} | C-LIME {_fmt(robust[s]['C-LIME'])}"
        for s in sigmas
    )
    numbers += underdetermined(st["robust_sample_sizes"])
    out.append(
        (
            "iv_neighbors_close_network",
            f"(iv) network: mean max distance to {st['n_neighbors']} neighbours falls with n "
            f"(n = {_fmt(st['robust_sample_sizes'])})",
            holds,
            numbers,
        )
    )

    lip = result["lipschitz_sines"]
    dims = st["dimensions"]
    for method in ("SmoothGrad", "C-LIME"):
        holds = all(np.all(np.diff([lip[(s, d)][method] for s in sigmas]) < 0) for d in dims)
        numbers = "; ".join(f"d={d}: {_fmt([lip[(s, d)][method] for s in sigmas])}" for d in dims)
        out.append(
            (
                f"iv_lipschitz_falls_with_sigma_sines_{method}",
                f"(iv) sines: {method}'s Lipschitz estimate falls as sigma grows, every d",
                holds,
                numbers,
            )
        )
        growth = [lip[(s, dims[-1])][method] / lip[(s, dims[0])][method] for s in sigmas]
        out.append(
            (
                f"iv_lipschitz_dimension_free_sines_{method}",
                f"(iv) sines: {method}'s Lipschitz estimate at d={dims[-1]} <= 1.25 x at "
                f"d={dims[0]} (sqrt(d) growth would be {np.sqrt(dims[-1] / dims[0]):.3g} x)",
                bool(max(growth) <= 1.25),
                "ratio per sigma: " + _fmt(growth),
            )
        )
    lip_net = result["lipschitz_network"]
    holds = all(
        np.all(np.diff([lip_net[s][m] for s in sigmas]) < 0) for m in ("SmoothGrad", "C-LIME")
    )
    numbers = "; ".join(
        f"{m}: {_fmt([lip_net[s][m] for s in sigmas])}" for m in ("SmoothGrad", "C-LIME")
    )
    rows = result["network_rows"]
    numbers += (
        f"; Gradient (sigma -> 0): {lip_net[sigmas[0]]['Gradient']:.3g}. At the explained rows"
        f" the median max(p, 1 - p) is {rows['median_confidence']:.4f} and the median norm of"
        f" the gradient of the explained output ({st['network_output']})"
        f" {rows['median_gradient_norm']:.3g}"
    )
    out.append(
        (
            "iv_lipschitz_falls_with_sigma_network",
            "(iv) network: Lipschitz estimate falls as sigma grows",
            holds,
            numbers,
        )
    )
    return out


def format_table(result):
    """The measured curves, then the claims with their verdicts."""
    st = result["settings"]
    sizes = st["sample_sizes"]
    lines = []
    header = f"{'model':<8s}{'sigma':>7s} {'quantity':<26s}" + "".join(f"{n:>10d}" for n in sizes)
    lines += [header, "-" * len(header)]
    labels = {
        "distance": "||SG - C-LIME||",
        "sg_error": "||SG - limit||",
        "clime_error": "||C-LIME - limit||",
        "ridge_error": "||ridge - ridge limit||",
        "ridge_to_ols_limit": "||ridge - OLS limit||",
    }
    for model in ("sines", "network"):
        for s in st["sigmas"]:
            for key, values in result[model][s].items():
                lines.append(
                    f"{model:<8s}{s:>7.3g} {labels[key]:<26s}"
                    + "".join(f"{v:>10.3g}" for v in values)
                )
    lines.append("")
    rs = st["robust_sample_sizes"]
    header = f"{'network':<8s}{'sigma':>7s} {'mean max ||phi(x)-phi(x_k)||':<30s}" + "".join(
        f"{n:>10d}" for n in rs
    )
    lines += [header, "-" * len(header)]
    for s in st["sigmas"]:
        for method, values in result["network_robustness"][s].items():
            lines.append(
                f"{'':<8s}{s:>7.3g} {method:<30s}" + "".join(f"{v:>10.3g}" for v in values)
            )
    lines.append("")
    header = (
        f"{'Lipschitz estimate':<20s}{'d':>5s}{'sigma':>7s}"
        f"{'SmoothGrad':>12s}{'C-LIME':>10s}{'limit':>10s}{'Gradient':>10s}"
    )
    lines += [header, "-" * len(header)]
    entries = [
        ("sines", d, s, v)
        for (s, d), v in sorted(
            result["lipschitz_sines"].items(), key=lambda kv: (kv[0][1], kv[0][0])
        )
    ]
    entries += [("network", 30, s, v) for s, v in result["lipschitz_network"].items()]
    for name, d, s, v in entries:
        limit = f"{v['limit']:>10.3g}" if "limit" in v else f"{'-':>10s}"
        lines.append(
            f"{name:<20s}{d:>5d}{s:>7.3g}{v['SmoothGrad']:>12.3g}{v['C-LIME']:>10.3g}"
            f"{limit}{v['Gradient']:>10.3g}"
        )
    lines.append("")
    for _, claim, holds, numbers in claims(result):
        lines.append(f"[{'holds' if holds else 'FAILS'}] {claim}")
        lines.append(f"        {numbers}")
    return "\n".join(lines)


def plot(result, path):
    """Four panels: (i) distance, (ii)-(iii) errors to the limits, (iv) robustness; saved."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    st = result["settings"]
    sizes, sigmas = st["sample_sizes"], st["sigmas"]
    colors = dict(zip(sigmas, ("tab:blue", "tab:orange", "tab:green"), strict=False))
    fig, axes = plt.subplots(2, 2, figsize=(11, 8.5))

    ax = axes[0, 0]
    for s in sigmas:
        ax.plot(
            sizes,
            result["sines"][s]["distance"],
            "o-",
            color=colors[s],
            label=f"sines, sigma {s:.2g}",
        )
        ax.plot(
            sizes,
            result["network"][s]["distance"],
            "s--",
            color=colors[s],
            label=f"network, sigma {s:.2g}",
        )
    ax.set(title="(i) ||SmoothGrad - C-LIME||", xlabel="samples", ylabel="mean distance")

    ax = axes[0, 1]
    for s in sigmas:
        curves = result["sines"][s]
        ax.plot(
            sizes, curves["sg_error"], "o-", color=colors[s], label=f"SmoothGrad, sigma {s:.2g}"
        )
        ax.plot(
            sizes, curves["clime_error"], "s--", color=colors[s], label=f"C-LIME, sigma {s:.2g}"
        )
        ax.plot(
            sizes, curves["ridge_error"], ":", color=colors[s], label=f"ridge C-LIME, sigma {s:.2g}"
        )
    ax.set(
        title=f"(ii)-(iii) sines: distance to the limit (ridge: alpha={st['ridge_alpha']})",
        xlabel="samples",
        ylabel="mean distance",
    )

    ax = axes[1, 0]
    rs = st["robust_sample_sizes"]
    for s in sigmas:
        robust = result["network_robustness"][s]
        ax.plot(rs, robust["SmoothGrad"], "o-", color=colors[s], label=f"SmoothGrad, sigma {s:.2g}")
        ax.plot(rs, robust["C-LIME"], "s--", color=colors[s], label=f"C-LIME, sigma {s:.2g}")
    ax.set(
        title=f"(iv) network: mean max distance to {st['n_neighbors']} neighbours",
        xlabel="samples",
        ylabel="distance",
    )

    ax = axes[1, 1]
    dims = st["dimensions"]
    for s in sigmas:
        lip = [result["lipschitz_sines"][(s, d)] for d in dims]
        ax.plot(
            dims,
            [v["SmoothGrad"] for v in lip],
            "o-",
            color=colors[s],
            label=f"SmoothGrad, sigma {s:.2g}",
        )
        ax.plot(
            dims, [v["C-LIME"] for v in lip], "s--", color=colors[s], label=f"C-LIME, sigma {s:.2g}"
        )
        ax.plot(
            dims, [v["limit"] for v in lip], ":", color=colors[s], label=f"limit, sigma {s:.2g}"
        )
    ax.set(
        title="(iv) sines: Lipschitz estimate vs dimension",
        xlabel="features",
        ylabel="max ||dphi|| / ||dx||",
        ylim=(0, None),
    )
    ax.set_xscale("log")
    ax.set_xticks(dims, [str(d) for d in dims])
    ax.minorticks_off()
    for ax in axes.flat[:3]:
        ax.set_xscale("log")
        ax.set_yscale("log")
    for ax in axes.flat:
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="more rows, seeds and sample sizes")
    parser.add_argument("--out", default="agarwal_convergence.png", help="the figure's path")
    parser.add_argument(
        "--network-output",
        choices=("raw", "probability"),
        default="raw",
        help="the network's explained output: its logit (default) or probability",
    )
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)
    settings = FULL if args.full else DEFAULT
    result = run(random_state=args.random_state, network_output=args.network_output, **settings)
    st = result["settings"]
    print(
        f"sum of sines in {st['n_features']} features at {st['n_rows']} rows in (-3, 3)^d; "
        f"breast_cancer network (test accuracy {result['accuracy']:.3f}, explained output: "
        f"{st['network_output']}) at {st['n_rows']} test rows; mean euclidean distances over "
        f"rows and {st['n_seeds']} seeds; "
        f"neighbours at distance {st['radius']}; Lipschitz estimates with "
        f"{st['lipschitz_samples']} samples"
    )
    print(format_table(result))
    plot(result, args.out)
    seconds = result["seconds"]
    print(
        f"figure: {args.out}; {seconds['sines']:.1f} s sines, {seconds['network']:.1f} s network, "
        f"{seconds['total']:.1f} s total"
    )
    return result


if __name__ == "__main__":
    main()
