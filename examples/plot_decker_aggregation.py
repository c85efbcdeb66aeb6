"""Decker et al. (2024), Tables 1 and 2 pattern, on scikit-learn's breast_cancer and wine.

A small ReLU network (``d``-64-64-``C``) is trained on the standardized features and the logit of
the predicted class is explained at ``n_rows`` test rows (the paper explains logits of image
classifiers) by six members,

* Grad (:class:`~skexplain.Gradient`), InputxGrad (:class:`~skexplain.InputXGradient`), IntGrad
  (:class:`~skexplain.IntegratedGradients`, all-zero baseline = the training mean),
  SmoothGrad and VarGrad (gaussian noise of standard deviation ``noise_scale``), C-LIME
  (:class:`~skexplain.CLIME`, same noise); optionally KernelSHAP
  (:class:`~skexplain.KernelShapExplainer`, ``kernel_shap=True``; off by default, see below),

and by five aggregations of them (:class:`~skexplain.AggregatingExplainer`): AGG_mean, AGG_var
and the paper's AGG_faith, AGG_opt, AGG_robust, whose per-row convex weights are fitted on
``m_agg = 50`` metric samples.

Every method is evaluated on ``m_eval = 200`` *fresh* metric samples (other seeds than the
aggregator's) and on the same scale: as in the paper (Appendix C.2) members are made comparable
by ``normalize_attributions(..., "abs_maxabs")`` (absolute value, divided by the row's
maximum), the scale the aggregator combines them on with the paper's settings
(:func:`~skexplain.aggregation.decker_settings`; the aggregator's own defaults keep signs and
scales), and the convex aggregates are evaluated as they come out (a convex
combination of such rows). Columns, each the mean over the rows with its standard error:

* SENS_AVG: :func:`~skexplain.metrics.avg_sensitivity`, ``E ||phi(x) - phi(x + eps)||^2`` with
  ``eps ~ U[-0.1, 0.1]^d`` (Appendix C.1; squared, absolute);
* SENS_MAX: :func:`~skexplain.metrics.max_sensitivity`, ``max ||phi(x) - phi(x + eps)||`` over
  the same 200 draws, **absolute** (``relative=False``; every phi has max 1 or less);
* INFD: :func:`~skexplain.metrics.infidelity` with 20% of the features set to 0 (the training
  mean, :class:`~skexplain.perturbations.SubsetBaseline`), the paper's binary ``I``
  (``binary_masks=True``) and Yeh's optimal ``beta`` (``normalize=True``; Appendix C.1 "we also
  incorporated the normalization"): the metric AGG_faith and AGG_opt optimize here;
* FAITH-CORR (FCOR): :func:`~skexplain.metrics.faithfulness_correlation` on the same 200 subsets.

A supplementary table gives two more infidelities on the same subsets: with skexplain's default
``I = x - x~ = z * x`` (``"INFD_diff"``, beta-normalized) and unnormalized with binary ``I``
(``"INFD_raw"``).

Two conventions to know when reading the numbers:

* With the binary mask ``z`` as ``I``, ``I^T phi = sum_{j in S} phi_j`` is the attribution sum that
  FCOR correlates with the output drop (Bhatt et al.), so INFD and FCOR measure the same thing;
  skexplain's default ``I = z * x`` weighs each attribution by its input value instead. The
  aggregator's faith term scales each member by its own optimal ``beta`` before solving, as the
  released code does, so it targets the normalized metric.
* The sensitivity of an optimized aggregate is measured with its weights *fixed* at the row
  (``sensitivity_weights="fixed"``): ``phi_w(x + eps) = sum_i w_i(x) phi_i(x + eps)``. That is the
  generalized L2 metric the weights minimize (Decker et al., section 4 and Theorem 4.3: the gain
  on fresh samples for the estimated weights). ``"refit"`` instead re-solves the weights at every
  perturbed copy (what ``AggregatingExplainer.transform`` does there); it costs ``m_agg`` member
  explanations per copy, so only small runs are practical (about 20 s a row here). The weights
  then move with the copy, which adds to the sensitivity: on 5 rows AGG_robust lost its lead to
  SmoothGrad and C-LIME that way.
* The explained output is the logit of the class predicted at the row, and the metrics keep
  that class for the row's perturbed copies (every method is re-explained as a skexplain
  explainer, which passes it on). ``run`` reports the fraction of sensitivity draws at which the
  predicted class changes, the only draws where this matters (a few in a thousand at most here).

AGG_var follows the paper's formula (``var_form="paper"``), the member mean divided by the
feature-wise standard deviation plus ``epsilon``; it is not a convex combination and its scale
is ``1 / epsilon`` where the members agree, so it is max-normalized like the members before it
is evaluated.

KernelSHAP (shap's reference implementation) explains one row per call in Python (about 30 ms
here); every sensitivity evaluation explains 200 copies of each row for each method that
includes it, so it is off by default and only practical with a few rows (3 rows: 100 s).

Run ``python examples/plot_decker_aggregation.py`` (20 rows of each dataset, about 30-60 s on
two busy CPU cores) or with ``--full`` (100 rows of breast_cancer, the 54 test rows of wine; a
few minutes). ``--dataset`` picks one dataset, ``--kernel-shap`` adds KernelSHAP.
"""

import argparse
import time
from functools import partial

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skexplain import (
    CLIME,
    AggregatingExplainer,
    Gradient,
    InputXGradient,
    IntegratedGradients,
    KernelShapExplainer,
    SmoothGrad,
    VarGrad,
)
from skexplain.aggregation import decker_settings, normalize_attributions
from skexplain.metrics import (
    avg_sensitivity,
    faithfulness_correlation,
    infidelity,
    max_sensitivity,
)
from skexplain.perturbations import SubsetBaseline, UniformBall

DATASETS = {"breast_cancer": load_breast_cancer, "wine": load_wine}
AGGREGATES = ("AGG_mean", "AGG_var", "AGG_faith", "AGG_opt", "AGG_robust")  # the paper's order
STRATEGIES = {
    "AGG_mean": "mean",
    "AGG_var": "var",
    "AGG_faith": "faith",
    "AGG_opt": "opt",
    "AGG_robust": "robust",
}
COLUMNS = ("SENS_AVG", "SENS_MAX", "INFD", "FCOR")
EXTRA_COLUMNS = ("INFD_diff", "INFD_raw")
LOWER_IS_BETTER = {"SENS_AVG": True, "SENS_MAX": True, "INFD": True, "FCOR": False}

# Settings of the default run and of ``--full``.
DEFAULT = {"n_rows": 20}
FULL = {"n_rows": 100}


def train_network(dataset="breast_cancer", random_state=0, epochs=300):
    """Train a ``d``-64-64-``C`` ReLU network on standardized features, full batch, with Adam.

    Returns
    -------
    module : torch.nn.Module
        In eval mode; it outputs raw logits.
    X_train, X_test : ndarray
        Standardized with the training split's mean and standard deviation (so 0 is the mean).
    accuracy : float
        Test accuracy.
    """
    X, y = DATASETS[dataset](return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=random_state, stratify=y
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    torch.manual_seed(random_state)
    d, n_classes = X.shape[1], int(y.max()) + 1
    module = torch.nn.Sequential(
        torch.nn.Linear(d, 64),
        torch.nn.ReLU(),
        torch.nn.Linear(64, 64),
        torch.nn.ReLU(),
        torch.nn.Linear(64, n_classes),
    )
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3, weight_decay=1e-4)
    X_t = torch.as_tensor(X_train, dtype=torch.float32)
    y_t = torch.as_tensor(y_train)
    for _ in range(epochs):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(module(X_t), y_t).backward()
        optimizer.step()
    module.eval()
    with torch.no_grad():
        predicted = module(torch.as_tensor(X_test, dtype=torch.float32)).argmax(1).numpy()
    return module, X_train, X_test, float((predicted == y_test).mean())


def make_members(
    random_state=0,
    *,
    noise_scale=0.2,
    sg_samples=50,
    ig_steps=20,
    clime_samples=200,
    kernel_shap=False,
    shap_samples=200,
    shap_background=10,
):
    """The aggregated explainers, as ``(name, explainer)`` pairs without a model."""
    members = [
        ("Grad", Gradient()),
        ("InputxGrad", InputXGradient()),
        ("IntGrad", IntegratedGradients(baseline=0.0, n_steps=ig_steps)),
        (
            "SmoothGrad",
            SmoothGrad(noise_scale=noise_scale, n_samples=sg_samples, random_state=random_state),
        ),
        (
            "VarGrad",
            VarGrad(noise_scale=noise_scale, n_samples=sg_samples, random_state=random_state),
        ),
        (
            "C-LIME",
            CLIME(noise_scale=noise_scale, n_samples=clime_samples, random_state=random_state),
        ),
    ]
    if kernel_shap:
        members.append(
            (
                "KernelSHAP",
                KernelShapExplainer(
                    n_samples=shap_samples,
                    n_background=shap_background,
                    random_state=random_state,
                ),
            )
        )
    return members


def _mean_se(values):
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size < 2:
        return float(np.mean(values)) if values.size else float("nan"), float("nan")
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(values.size))


def run(
    dataset="breast_cancer",
    n_rows=DEFAULT["n_rows"],
    random_state=0,
    *,
    m_agg=50,
    m_eval=200,
    radius=0.1,
    subset_fraction=0.2,
    noise_scale=0.2,
    sg_samples=50,
    ig_steps=20,
    clime_samples=200,
    kernel_shap=False,
    shap_samples=200,
    shap_background=10,
    sensitivity_weights="fixed",
    n_threads=1,
    verbose=False,
):
    """Compute the table: robustness and faithfulness of the members and of five aggregations.

    Parameters
    ----------
    dataset : {"breast_cancer", "wine"}
    n_rows : int
        Test rows explained: the first ``n_rows`` of the test split (30% of the data: 171 rows
        for breast_cancer, 54 for wine), or all of them if there are fewer.
    random_state : int
        Seeds the network, the split and every draw. The members' noise, the aggregator's
        ``m_agg`` metric samples, and the evaluation's sensitivity and subset draws use distinct
        seeds derived from it.
    m_agg : int
        Metric samples the aggregation weights are fitted on (``n_samples`` of the aggregator).
    m_eval : int
        Fresh metric samples of every evaluation (sensitivity draws, subsets).
    radius : float
        Half-width of the uniform sensitivity noise ``U[-radius, radius]^d``, for fitting
        (AGG_robust, AGG_opt) and evaluation.
    subset_fraction : float
        Fraction of the features set to the baseline 0 by infidelity and FCOR.
    noise_scale, sg_samples, ig_steps, clime_samples : float, int, int, int
        Member settings: gaussian noise of SmoothGrad, VarGrad and C-LIME, draws of SmoothGrad
        and VarGrad, quadrature points of IntGrad, draws of C-LIME.
    kernel_shap : bool
        Add KernelSHAP (``shap_samples`` coalitions, ``shap_background`` k-means background rows)
        as a seventh member. Slow: see the module notes.
    sensitivity_weights : {"fixed", "refit"}
        How the optimized aggregates are re-explained at perturbed copies: with the weights of
        the row, or re-solving the weights at each copy (``transform``; very slow).
    n_threads : int or None
        torch threads during the run (restored afterwards); None leaves them alone. One thread
        is fastest for this small network on a shared machine.
    verbose : bool
        Print the time each method takes.

    Returns
    -------
    dict
        ``table[method][column] = (mean, standard_error)`` under ``"table"`` for the columns
        SENS_AVG, SENS_MAX, INFD, FCOR, INFD_diff and INFD_raw; the per-row values under
        ``"rows"``; the per-row weights of the convex methods (members, AGG_mean, AGG_faith,
        AGG_opt, AGG_robust) under ``"weights"``;
        ``"methods"`` (the row order), ``"members"``, ``"accuracy"``, ``"flipped"`` (the
        fraction of sensitivity draws whose predicted class differs from the row's),
        ``"settings"`` and ``"seconds"``.
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {sorted(DATASETS)}, got {dataset!r}")
    if sensitivity_weights not in ("fixed", "refit"):
        raise ValueError(
            f"sensitivity_weights must be 'fixed' or 'refit', got {sensitivity_weights!r}"
        )
    threads = torch.get_num_threads()
    if n_threads is not None:
        torch.set_num_threads(n_threads)
    try:
        return _run(
            dataset,
            n_rows,
            random_state,
            m_agg=m_agg,
            m_eval=m_eval,
            radius=radius,
            subset_fraction=subset_fraction,
            member_settings={
                "noise_scale": noise_scale,
                "sg_samples": sg_samples,
                "ig_steps": ig_steps,
                "clime_samples": clime_samples,
                "kernel_shap": kernel_shap,
                "shap_samples": shap_samples,
                "shap_background": shap_background,
            },
            sensitivity_weights=sensitivity_weights,
            verbose=verbose,
        )
    finally:
        torch.set_num_threads(threads)


def _run(
    dataset,
    n_rows,
    random_state,
    *,
    m_agg,
    m_eval,
    radius,
    subset_fraction,
    member_settings,
    sensitivity_weights,
    verbose,
):
    start = time.perf_counter()
    module, X_train, X_test, accuracy = train_network(dataset, random_state)
    X = X_test[:n_rows]
    n_rows = X.shape[0]  # wine's test split has 54 rows
    seeds = np.random.RandomState(random_state).randint(0, 2**31 - 1, size=4)
    member_seed, agg_seed, sens_seed, subset_seed = (int(s) for s in seeds)
    members = make_members(member_seed, **member_settings)
    names = [name for name, _ in members]
    methods = names + list(AGGREGATES)
    seconds = {"train": time.perf_counter() - start}

    # the paper's settings (decker_settings), with this run's radius and subset fraction
    paper = decker_settings()
    paper["metric_params"]["avg_sensitivity"]["radius"] = radius
    paper["metric_params"]["infidelity"]["perturbation"] = SubsetBaseline(
        baseline=0.0, fraction=subset_fraction
    )

    def aggregator(strategy, chosen=members):
        return AggregatingExplainer(
            chosen,
            model=module,
            strategy=strategy,
            n_samples=m_agg,
            random_state=agg_seed,
            **paper,
        ).fit(X_train)

    fitted = {label: aggregator(STRATEGIES[label]) for label in AGGREGATES}
    k = len(members)
    weights = {name: np.tile(np.eye(k)[j], (n_rows, 1)) for j, name in enumerate(names)}
    weights["AGG_mean"] = np.full((n_rows, k), 1.0 / k)
    for label in ("AGG_faith", "AGG_opt", "AGG_robust"):
        weights[label] = fitted[label].weights(X)

    # SENS_AVG of every convex combination of the normalized members from one pass over fresh
    # draws: the metric's quadratic form Q, with SENS_AVG(phi_w) = w^T Q w (Decker et al.,
    # Def. 4.1) for weights fixed at the row.
    sens_kwargs = {"radius": radius, "n_samples": m_eval, "random_state": sens_seed}
    Q = avg_sensitivity(
        [explainer for _, explainer in fitted["AGG_mean"].explainers_],
        X,
        return_quadratic=True,
        postprocess=partial(normalize_attributions, method=paper["normalize"]),
        **sens_kwargs,
    )

    # The explainers SENS_MAX re-explains perturbed copies with (and SENS_AVG, where no fixed
    # weights apply). A member is an aggregator of itself alone with weight 1, and AGG_var one of
    # the AGG_var aggregator: their attributions are max-normalized by the same code path.
    evaluated = {name: aggregator([1.0], [(name, member)]) for name, member in members}
    evaluated["AGG_mean"] = fitted["AGG_mean"]
    evaluated["AGG_var"] = aggregator([1.0], [("AGG_var", fitted["AGG_var"])])

    def row_aggregator(label, i):
        """The aggregate with weights fixed at row i, without the members of weight 0."""
        w = np.clip(weights[label][i], 0.0, None)
        keep = np.flatnonzero(w > 1e-12)
        return aggregator(w[keep] / w[keep].sum(), [members[j] for j in keep])

    rows = {}
    for name in methods:
        tic = time.perf_counter()
        explainer = evaluated[name] if name in evaluated else fitted[name]
        phi = explainer.transform(X)
        refit = name in STRATEGIES and name != "AGG_var" and sensitivity_weights == "refit"
        if name == "AGG_var" or refit:
            sens_avg = avg_sensitivity(explainer, X, **sens_kwargs)
        else:
            sens_avg = np.einsum("nk,nkl,nl->n", weights[name], Q, weights[name])
        if name in ("AGG_faith", "AGG_opt", "AGG_robust") and not refit:
            sens_max = np.array(
                [
                    max_sensitivity(
                        row_aggregator(name, i), X[i : i + 1], relative=False, **sens_kwargs
                    )[0]
                    for i in range(n_rows)
                ]
            )
        else:
            sens_max = max_sensitivity(explainer, X, relative=False, **sens_kwargs)
        subsets = SubsetBaseline(baseline=0.0, fraction=subset_fraction)
        # INFD: Decker et al.'s convention, binary masks and Yeh's optimal scale (what the
        # aggregator optimizes with the paper's settings); INFD_diff: skexplain's default
        # I = x - x~; INFD_raw: binary masks without the optimal scale.
        infd = {
            key: infidelity(
                module,
                X,
                phi,
                perturbation=subsets,
                n_samples=m_eval,
                normalize=normalize,
                binary_masks=binary,
                random_state=subset_seed,
            )
            for key, normalize, binary in (
                ("INFD", True, True),
                ("INFD_diff", True, False),
                ("INFD_raw", False, True),
            )
        }
        fcor = faithfulness_correlation(
            module,
            X,
            phi,
            subset_fraction=subset_fraction,
            baseline=0.0,
            n_samples=m_eval,
            random_state=subset_seed,
        )
        rows[name] = {"SENS_AVG": sens_avg, "SENS_MAX": sens_max, **infd, "FCOR": fcor}
        seconds[name] = time.perf_counter() - tic
        if verbose:
            print(f"  {name:<11s} {seconds[name]:6.1f} s", flush=True)

    # How often a sensitivity draw changes the predicted class (the explained logit then
    # belongs to another class at the copy than at the row).
    Z = UniformBall(radius=radius, norm="inf").sample(X, m_eval, random_state=sens_seed)
    with torch.no_grad():
        at_rows = module(torch.as_tensor(X, dtype=torch.float32)).argmax(1).numpy()
        at_copies = module(torch.as_tensor(Z, dtype=torch.float32)).argmax(2).numpy()
    flipped = float((at_copies != at_rows[:, None]).mean())

    columns = COLUMNS + EXTRA_COLUMNS
    table = {name: {col: _mean_se(rows[name][col]) for col in columns} for name in methods}
    return {
        "table": table,
        "rows": rows,
        "weights": weights,
        "methods": methods,
        "members": names,
        "accuracy": accuracy,
        "flipped": flipped,
        "settings": {
            "dataset": dataset,
            "n_rows": n_rows,
            "n_features": X.shape[1],
            "random_state": random_state,
            "m_agg": m_agg,
            "m_eval": m_eval,
            "radius": radius,
            "subset_fraction": subset_fraction,
            "sensitivity_weights": sensitivity_weights,
            **member_settings,
        },
        "seconds": {**seconds, "total": time.perf_counter() - start},
    }


def ranks(result, column):
    """Rank of every method on ``column`` (1 = best), by the mean over the rows."""
    means = np.array([result["table"][name][column][0] for name in result["methods"]])
    order = np.argsort(means if LOWER_IS_BETTER[column] else -means, kind="stable")
    rank = np.empty(len(order), dtype=int)
    rank[order] = np.arange(1, len(order) + 1)
    return dict(zip(result["methods"], rank.tolist(), strict=True))


def claims(result):
    """The paper's orderings, each ``(holds, numbers)``, from the means over the rows.

    ``"a:SENS_AVG"``, ``"a:SENS_MAX"``: AGG_robust has the lowest value of the members, AGG_mean
    and AGG_var; ``"b:INFD"``, ``"b:FCOR"``: AGG_faith has the lowest INFD and the highest FCOR
    of the same; ``"c:<column>"``: AGG_opt is first or second of all methods on that column.
    ``numbers`` is a short text with the means that decide it.
    """
    table = result["table"]
    baselines = result["members"] + ["AGG_mean", "AGG_var"]
    out = {}
    for claim, label, columns in (
        ("a", "AGG_robust", ("SENS_AVG", "SENS_MAX")),
        ("b", "AGG_faith", ("INFD", "FCOR")),
    ):
        for column in columns:
            ours = table[label][column][0]
            others = {name: table[name][column][0] for name in baselines}
            pick = min if LOWER_IS_BETTER[column] else max
            best = pick(others, key=others.get)
            holds = ours < others[best] if LOWER_IS_BETTER[column] else ours > others[best]
            numbers = f"{label} {ours:.4g}, best other {best} {others[best]:.4g}"
            out[f"{claim}:{column}"] = (bool(holds), numbers)
    for column in COLUMNS:
        rank = ranks(result, column)
        leaders = sorted(rank, key=rank.get)[:2]
        numbers = (
            f"AGG_opt {table['AGG_opt'][column][0]:.4g} ranks {rank['AGG_opt']}; "
            + ", ".join(f"{name} {table[name][column][0]:.4g}" for name in leaders)
        )
        out[f"c:{column}"] = (rank["AGG_opt"] <= 2, numbers)
    return out


def format_table(result, columns=COLUMNS):
    """The table in the paper's layout: methods as rows, mean (standard error) per column.

    ``*`` marks the best mean of a column (of all methods).
    """
    titles = {
        "SENS_AVG": "SENS_AVG",
        "SENS_MAX": "SENS_MAX",
        "INFD": "INFD",
        "FCOR": "FAITH-CORR",
        "INFD_diff": "INFD (I = x - x~)",
        "INFD_raw": "INFD (unnormalized)",
    }
    header = f"{'Method':<12s}" + "".join(f"{titles[column]:>22s}" for column in columns)
    lines = [header, "-" * len(header)]
    best = {}
    for column in columns:
        means = {name: result["table"][name][column][0] for name in result["methods"]}
        pick = min if LOWER_IS_BETTER.get(column, True) else max
        best[column] = pick(means, key=means.get)
    for name in result["methods"]:
        cells = []
        for column in columns:
            mean, se = result["table"][name][column]
            mark = "*" if best[column] == name else " "
            cells.append(f"{mean:.4f} +- {se:.4f}{mark}")
        lines.append(f"{name:<12s}" + "".join(f"{c:>22s}" for c in cells))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="more rows")
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--dataset", choices=sorted(DATASETS), action="append")
    parser.add_argument("--kernel-shap", action="store_true", help="add KernelSHAP (slow)")
    args = parser.parse_args(argv)
    settings = FULL if args.full else DEFAULT
    for dataset in args.dataset or ["breast_cancer", "wine"]:
        result = run(
            dataset,
            random_state=args.random_state,
            kernel_shap=args.kernel_shap,
            verbose=True,
            **settings,
        )
        s = result["settings"]
        print(
            f"\n{dataset} (d = {s['n_features']}), d-64-64-C ReLU network, test accuracy "
            f"{result['accuracy']:.3f}; logit of the predicted class at {s['n_rows']} test rows; "
            "mean +- standard error, * = best"
        )
        print(
            f"weights fitted on m_agg = {s['m_agg']} samples, evaluated on m_eval = "
            f"{s['m_eval']} fresh ones; SENS: eps ~ U[-{s['radius']}, {s['radius']}], absolute, "
            f"SENS_AVG squared, aggregate weights {s['sensitivity_weights']}; INFD/FCOR: "
            f"{s['subset_fraction']:.0%} of the features set to 0, INFD beta-normalized; "
            f"{result['flipped']:.2%} of the sensitivity draws change the predicted class"
        )
        print(format_table(result))
        print("Supplementary infidelities (AGG_faith and AGG_opt minimize the unnormalized one):")
        print(format_table(result, EXTRA_COLUMNS))
        for key, (holds, numbers) in claims(result).items():
            print(f"  claim {key:<11s} {'holds' if holds else 'FAILS':<6s} {numbers}")
        print(f"total {result['seconds']['total']:.1f} s")


if __name__ == "__main__":
    main()
