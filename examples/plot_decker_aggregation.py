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
``m_agg = 50`` metric samples. Every method is evaluated on ``m_eval = 200`` *fresh* metric
samples (other seeds than the aggregator's).

The paper's conventions, passed explicitly (:func:`aggregation_settings`, from
:func:`skexplain.aggregation.decker_settings`, and the metric calls), so that the tables do not
move with the package's defaults (which keep signs and units):

* members are made comparable by their absolute value divided by the row's maximum
  (``normalize="abs_maxabs"``, Appendix C.2); the aggregates combine and are evaluated on that
  scale (a convex combination of such rows), and every other method is max-normalized the same
  way;
* AGG_var is the paper's formula (``var_form="paper"``), the member mean divided by the
  feature-wise standard deviation plus a small ``epsilon`` (1e-8); it is not a convex
  combination, so it is max-normalized like the members before it is evaluated (its scale is
  ``1 / epsilon`` where the members agree);
* AGG_opt adds the infidelity and sensitivity quadratic forms, each divided by its own
  Frobenius norm at the row (``form_normalization="mean"``, Appendix C.2);
* the metrics of Appendix C.1: sensitivity noise ``eps ~ U[-0.1, 0.1]^d`` in raw units (the
  features are standardized), infidelity and FCOR with 20% of the features set to 0 (the
  training mean, :class:`~skexplain.perturbations.SubsetBaseline`), binary ``I``
  (``binary_masks=True``) and Yeh's optimal ``beta`` (``normalize=True``; "we also incorporated
  the normalization");
* stochastic explainers draw fresh noise at the row and at every perturbed copy
  (``explainer_noise="fresh"``), in the aggregator's sensitivity form and in the evaluation, as
  Captum, Quantus and the released code do.

``conventions="released"`` follows the authors' released code (thomdeck/aggopt) where it differs
from the paper's text (``decker_settings(released=True)``): AGG_var divides the mean by the
variance (``ddof=1``) plus 0.226, and AGG_opt, with the released defaults (64 infidelity draws
summed in 16 batches of 4, 20 sensitivity draws), divides each quadratic form by the Frobenius
norm of its batches' matrices stacked.

Columns, each the mean over the rows with its standard error:

* SENS_AVG: ``E ||phi(x) - phi(x + eps)||^2``, absolute and squared: the generalized L2 metric
  AGG_robust and AGG_opt minimize (Appendix C.2);
* SENS_MAX: ``max ||phi(x) - phi(x + eps)||`` over the same 200 draws, absolute;
* SENS_AVG_Q and SENS_MAX_Q: the same changes scored as Quantus' ``AvgSensitivity`` and
  ``MaxSensitivity`` (version 0.4.2 and later) score them, relative and not squared:
  ``mean_j ||phi(x) - phi(x + eps_j)|| / ||phi(x)||`` and the ``max_j`` of the same. The paper's
  evaluation used Quantus (Appendix C.1: "computed using the implementation provided by
  Quantus"), with ``lower_bound = 0.1`` (its ``U[-0.1, 0.1]``) and 200 samples;
* INFD: :func:`~skexplain.metrics.infidelity` as above, the metric AGG_faith and AGG_opt minimize;
* FAITH-CORR (FCOR): :func:`~skexplain.metrics.faithfulness_correlation` on the same 200 subsets.

All four sensitivities of a method come from one pass over the same draws. A supplementary table
gives two more infidelities on the same subsets: with skexplain's default ``I = x - x~ = z * x``
(``"INFD_diff"``, beta-normalized) and unnormalized with binary ``I`` (``"INFD_raw"``).

Two protocols for the sensitivity of the optimized aggregates (``sensitivity_weights``):

* ``"fixed"``: the weights of the row are kept at its perturbed copies,
  ``phi_w(x + eps) = sum_i w_i(x) phi_i(x + eps)``: the generalized L2 metric the weights
  minimize (Decker et al., section 4 and Theorem 4.3, the gain on fresh samples for the
  estimated weights);
* ``"refit"``: the weights are re-solved at every perturbed copy from its own fresh metric
  samples (``AggregatingExplainer.transform`` there), as Quantus does when it calls an
  aggregator's explain function at ``x + eps``. The weights then move with the copy, and their
  estimation noise adds to the sensitivity. It costs ``m_agg`` member explanations per copy
  (10 to 20 s a row for each of AGG_robust and AGG_opt on two busy cores), so only small runs
  are practical.

The paper's own protocol for Table 1 is the second one with Quantus' scores (SENS_AVG_Q,
SENS_MAX_Q); ``claims(result, sensitivity="quantus")`` checks the claims on those columns.

The explained output is the logit of the class predicted at the row, and the metrics keep
that class for the row's perturbed copies (every method is re-explained as a skexplain
explainer, which passes it on). ``run`` reports the fraction of sensitivity draws at which the
predicted class changes, the only draws where this matters (a few in a thousand at most here).

KernelSHAP (shap's reference implementation) explains one row per call in Python (about 30 ms
here); every sensitivity evaluation explains 200 copies of each row for each method that
includes it, so it is off by default and only practical with a few rows (3 rows: 100 s).

Run ``python examples/plot_decker_aggregation.py`` (20 rows of each dataset, about a minute on
two busy CPU cores) or with ``--full`` (100 rows of breast_cancer, the 54 test rows of wine; a
few minutes). ``--refit`` re-solves the weights at every copy (``--rows`` picks fewer rows);
``--released`` takes the released code's conventions, ``--common-noise`` reuses the explainers'
draws at every copy; ``--dataset`` picks one dataset, ``--kernel-shap`` adds KernelSHAP.
"""

import argparse
import time

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

from skexplain import (
    CLIME,
    AggregatingExplainer,
    AttributionAggregator,
    Gradient,
    InputXGradient,
    IntegratedGradients,
    KernelShapExplainer,
    SmoothGrad,
    VarGrad,
)
from skexplain.aggregation import decker_settings, normalize_attributions
from skexplain.base import explain_perturbed
from skexplain.metrics import faithfulness_correlation, infidelity
from skexplain.models import as_model
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
OPTIMIZED = ("AGG_faith", "AGG_opt", "AGG_robust")
COLUMNS = ("SENS_AVG", "SENS_MAX", "INFD", "FCOR")
SENSITIVITY_COLUMNS = ("SENS_AVG", "SENS_MAX", "SENS_AVG_Q", "SENS_MAX_Q")
QUANTUS = {"SENS_AVG": "SENS_AVG_Q", "SENS_MAX": "SENS_MAX_Q"}  # the paper's evaluation
EXTRA_COLUMNS = ("INFD_diff", "INFD_raw")
LOWER_IS_BETTER = {"FCOR": False}  # every other column: lower is better

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


def aggregation_settings(
    conventions="paper", *, radius=0.1, subset_fraction=0.2, explainer_noise="fresh"
):
    """The keyword arguments of :class:`~skexplain.AggregatingExplainer` for the paper's tables.

    :func:`skexplain.aggregation.decker_settings` (``released=True`` for
    ``conventions="released"``), with the sensitivity noise ``U[-radius, radius]^d`` in raw units,
    ``subset_fraction`` of the features set to 0 for infidelity, and ``explainer_noise`` for the
    members' own noise at the sensitivity copies.
    """
    if conventions not in ("paper", "released"):
        raise ValueError(f"conventions must be 'paper' or 'released', got {conventions!r}")
    settings = decker_settings(released=conventions == "released")
    params = settings["metric_params"]
    params["avg_sensitivity"].update(radius=radius, units="raw", explainer_noise=explainer_noise)
    params["infidelity"]["perturbation"] = SubsetBaseline(baseline=0.0, fraction=subset_fraction)
    return settings


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
    noise = {"noise_scale": noise_scale, "units": "raw", "random_state": random_state}
    members = [
        ("Grad", Gradient()),
        ("InputxGrad", InputXGradient()),
        ("IntGrad", IntegratedGradients(baseline=0.0, n_steps=ig_steps)),
        ("SmoothGrad", SmoothGrad(n_samples=sg_samples, **noise)),
        ("VarGrad", VarGrad(n_samples=sg_samples, **noise)),
        ("C-LIME", CLIME(n_samples=clime_samples, **noise)),
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


def explain_copies(explainers, X, perturbations, *, explainer_noise="fresh", random_state=None):
    """Fitted explainers' attributions at the rows X and at their perturbed copies, one pass.

    Parameters
    ----------
    explainers : list of k fitted explainers
        Each explains the rows and their copies, keeping the class predicted at each row.
    X : ndarray of shape (n, d)
        The rows.
    perturbations : ndarray of shape (n, m, d)
        The perturbed copies of every row.
    explainer_noise : {"fresh", "common"}, default="fresh"
        Reseed the explainers' own noise at the rows and at every copy index (the papers' code),
        or reuse it (see :mod:`skexplain.metrics`' sensitivity notes).
    random_state : int or None
        Seeds the fresh noise.

    Returns
    -------
    phi_x : ndarray of shape (n, k, d)
    phi_z : ndarray of shape (n, m, k, d)
    """
    fresh = check_random_state(random_state) if explainer_noise == "fresh" else None

    def reduce(values, Z, X_rows, rows):
        phi_x, phi_z = values  # (c, k, d), (c, m, k, d)
        return np.concatenate([phi_x[:, None], phi_z], axis=1)

    values = explain_perturbed(
        list(explainers),
        X,
        lambda X_rows, rows: perturbations[rows],
        perturbations.shape[1],
        reduce,
        fresh_noise=fresh,
    )
    return values[:, 0], values[:, 1:]


def sensitivity_scores(phi_x, phi_z):
    """The four sensitivities of attributions ``phi_x`` (n, d) and ``phi_z`` at copies (n, m, d).

    With ``delta_j = phi(x) - phi(x~_j)`` over the copies ``x~_j`` of a row: ``"SENS_AVG"`` the
    mean of ``||delta_j||^2`` (absolute, squared: Decker et al.'s generalized L2 metric, what
    :func:`~skexplain.metrics.avg_sensitivity` computes), ``"SENS_MAX"`` the max of
    ``||delta_j||`` (absolute, :func:`~skexplain.metrics.max_sensitivity`), ``"SENS_AVG_Q"`` and
    ``"SENS_MAX_Q"`` the mean and the max of ``||delta_j|| / ||phi(x)||`` (Quantus'
    ``AvgSensitivity`` and ``MaxSensitivity`` since its version 0.4.2; a zero explanation
    divides by 1). Returns a dict from column name to an array of shape (n,).
    """
    change = np.linalg.norm(phi_z - phi_x[:, None], axis=2)  # (n, m)
    scale = np.linalg.norm(phi_x, axis=1)[:, None]
    relative = change / np.where(scale > 0, scale, 1.0)
    stats = (change**2).mean(axis=1), change.max(axis=1), relative.mean(axis=1)
    return dict(zip(SENSITIVITY_COLUMNS, stats + (relative.max(axis=1),), strict=True))


def sensitivities(explainer, X, perturbations, *, explainer_noise="fresh", random_state=None):
    """The four sensitivities (:func:`sensitivity_scores`) of one fitted explainer.

    See :func:`explain_copies` for the parameters.
    """
    phi_x, phi_z = explain_copies(
        [explainer], X, perturbations, explainer_noise=explainer_noise, random_state=random_state
    )
    return sensitivity_scores(phi_x[:, 0], phi_z[:, :, 0])


def convex_sensitivities(weights, phi_x, phi_z):
    """The sensitivities of the per-row convex combinations ``weights`` (n, k) of k members.

    ``phi_x`` (n, k, d) and ``phi_z`` (n, m, k, d) are the members' (normalized) attributions
    from :func:`explain_copies`; the weights of a row are kept at its copies.
    """
    return sensitivity_scores(
        np.einsum("nk,nkd->nd", weights, phi_x), np.einsum("nk,nmkd->nmd", weights, phi_z)
    )


def var_sensitivities(var, X, perturbations, phi_x, phi_z):
    """The sensitivities of AGG_var computed from the members' attributions at the copies.

    ``var`` is a fitted :class:`~skexplain.AttributionAggregator` with ``strategy="var"`` (it
    combines given attributions without re-explaining); ``phi_x`` (n, k, d) and ``phi_z``
    (n, m, k, d) are the members' attributions at the rows X and at their copies
    ``perturbations`` (n, m, d), from :func:`explain_copies`. AGG_var is max-normalized like the
    members (``var.normalize``) before it is scored.
    """
    n, m, k, d = phi_z.shape

    def combine(rows, members):
        union = np.hstack([rows, members.reshape(rows.shape[0], k * d)])
        return normalize_attributions(var.transform(union), var.normalize)

    a_x = combine(X, phi_x)
    a_z = combine(perturbations.reshape(n * m, d), phi_z.reshape(n * m, k, d))
    return sensitivity_scores(a_x, a_z.reshape(n, m, d))


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
    explainer_noise="fresh",
    conventions="paper",
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
        ``m_agg`` metric samples, the evaluation's sensitivity and subset draws and the fresh
        explainer noise of the evaluation use distinct seeds derived from it.
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
    explainer_noise : {"fresh", "common"}
        The explainers' own noise in the sensitivities (the aggregator's form and the
        evaluation): drawn afresh at the row and at every copy (the papers' code) or reused
        (common random numbers).
    conventions : {"paper", "released"}
        The paper's AGG_var and AGG_opt normalization, or the released code's (see
        :func:`aggregation_settings`).
    n_threads : int or None
        torch threads during the run (restored afterwards); None leaves them alone. One thread
        is fastest for this small network on a shared machine.
    verbose : bool
        Print the time each method takes.

    Returns
    -------
    dict
        ``table[method][column] = (mean, standard_error)`` under ``"table"`` for the columns
        SENS_AVG, SENS_MAX, SENS_AVG_Q, SENS_MAX_Q, INFD, FCOR, INFD_diff and INFD_raw; the
        per-row values under ``"rows"``; the per-row weights of the convex methods (members,
        AGG_mean, AGG_faith, AGG_opt, AGG_robust) under ``"weights"``;
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
    if explainer_noise not in ("fresh", "common"):
        raise ValueError(f"explainer_noise must be 'fresh' or 'common', got {explainer_noise!r}")
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
            explainer_noise=explainer_noise,
            conventions=conventions,
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
    explainer_noise,
    conventions,
    verbose,
):
    start = time.perf_counter()
    module, X_train, X_test, accuracy = train_network(dataset, random_state)
    model = as_model(module, output="raw")  # the logits, as the paper explains them
    X = X_test[:n_rows]
    n_rows = X.shape[0]  # wine's test split has 54 rows
    seeds = np.random.RandomState(random_state).randint(0, 2**31 - 1, size=5)
    member_seed, agg_seed, sens_seed, subset_seed, noise_seed = (int(s) for s in seeds)
    members = make_members(member_seed, **member_settings)
    names = [name for name, _ in members]
    methods = names + list(AGGREGATES)
    seconds = {"train": time.perf_counter() - start}
    settings = aggregation_settings(
        conventions,
        radius=radius,
        subset_fraction=subset_fraction,
        explainer_noise=explainer_noise,
    )

    def aggregator(strategy, chosen=members):
        return AggregatingExplainer(
            chosen,
            model=model,
            strategy=strategy,
            random_state=agg_seed,
            **{**settings, "n_samples": m_agg},
        ).fit(X_train)

    fitted = {label: aggregator(STRATEGIES[label]) for label in AGGREGATES}
    k = len(members)
    weights = {name: np.tile(np.eye(k)[j], (n_rows, 1)) for j, name in enumerate(names)}
    weights["AGG_mean"] = np.full((n_rows, k), 1.0 / k)
    for label in OPTIMIZED:
        weights[label] = fitted[label].weights(X)

    # The attributions at the rows of the members and of AGG_var: a member is an aggregator of
    # itself alone with weight 1, and AGG_var one of the AGG_var aggregator, so that they are
    # max-normalized by the same code path as the aggregates. A convex aggregate at the rows is
    # its weights times the normalized members.
    evaluated = {name: aggregator([1.0], [(name, member)]) for name, member in members}
    evaluated["AGG_var"] = aggregator([1.0], [("AGG_var", fitted["AGG_var"])])

    # One bank of m_eval sensitivity draws shared by every row and every method, and the
    # members' normalized attributions at the rows and at every copy: the sensitivities of every
    # convex method with weights fixed at the row, and of AGG_var (the pipeline form of the
    # aggregator combines given attributions), follow from these without re-explaining.
    Z = UniformBall(radius=radius, norm="inf").sample(X, m_eval, random_state=sens_seed)
    noise = {"explainer_noise": explainer_noise, "random_state": noise_seed}
    phi_x, phi_z = explain_copies([e for _, e in fitted["AGG_mean"].explainers_], X, Z, **noise)
    phi_x, phi_z = (normalize_attributions(a, settings["normalize"]) for a in (phi_x, phi_z))
    var = AttributionAggregator(k, model=model, strategy="var", **settings)
    var.fit(np.zeros((1, (k + 1) * X.shape[1])))
    refit = OPTIMIZED if sensitivity_weights == "refit" else ()
    subsets = SubsetBaseline(baseline=0.0, fraction=subset_fraction)
    rows, phis = {}, {}
    for name in methods:
        tic = time.perf_counter()
        if name in weights and name not in names:  # AGG_mean and the optimized aggregates
            members_at_X = np.stack([phis[member] for member in names], axis=1)
            phi = np.einsum("nk,nkd->nd", weights[name], members_at_X)  # = their transform(X)
        else:
            phi = evaluated[name].transform(X)
        phis[name] = phi
        if name in refit:  # the weights re-solved at every copy by the aggregate's transform
            sens = sensitivities(fitted[name], X, Z, **noise)
        elif name == "AGG_var":
            sens = var_sensitivities(var, X, Z, phi_x, phi_z)
        else:
            sens = convex_sensitivities(weights[name], phi_x, phi_z)
        # INFD: Decker et al.'s convention, binary masks and Yeh's optimal scale (what the
        # aggregator optimizes); INFD_diff: skexplain's default I = x - x~; INFD_raw: binary
        # masks without the optimal scale.
        infd = {
            key: infidelity(
                model,
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
            model,
            X,
            phi,
            subset_fraction=subset_fraction,
            baseline=0.0,
            n_samples=m_eval,
            random_state=subset_seed,
        )
        rows[name] = {**sens, **infd, "FCOR": fcor}
        seconds[name] = time.perf_counter() - tic
        if verbose:
            print(f"  {name:<11s} {seconds[name]:6.1f} s", flush=True)

    # How often a sensitivity draw changes the predicted class (the explained logit then
    # belongs to another class at the copy than at the row).
    with torch.no_grad():
        at_rows = module(torch.as_tensor(X, dtype=torch.float32)).argmax(1).numpy()
        at_copies = module(torch.as_tensor(Z, dtype=torch.float32)).argmax(2).numpy()
    flipped = float((at_copies != at_rows[:, None]).mean())

    columns = SENSITIVITY_COLUMNS + ("INFD", "FCOR") + EXTRA_COLUMNS
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
            "explainer_noise": explainer_noise,
            "conventions": conventions,
            "normalize": settings["normalize"],
            "var_form": settings["var_form"],
            "form_normalization": settings["form_normalization"],
            **member_settings,
        },
        "seconds": {**seconds, "total": time.perf_counter() - start},
    }


def _lower_is_better(column):
    return LOWER_IS_BETTER.get(column, True)


def _column(column, sensitivity):
    """The result column that holds ``column`` under the ``sensitivity`` scoring."""
    if sensitivity not in ("l2", "quantus"):
        raise ValueError(f"sensitivity must be 'l2' or 'quantus', got {sensitivity!r}")
    return QUANTUS.get(column, column) if sensitivity == "quantus" else column


def ranks(result, column):
    """Rank of every method on ``column`` (1 = best), by the mean over the rows."""
    means = np.array([result["table"][name][column][0] for name in result["methods"]])
    order = np.argsort(means if _lower_is_better(column) else -means, kind="stable")
    rank = np.empty(len(order), dtype=int)
    rank[order] = np.arange(1, len(order) + 1)
    return dict(zip(result["methods"], rank.tolist(), strict=True))


def claims(result, sensitivity="l2"):
    """The paper's orderings, each ``(holds, numbers)``, from the means over the rows.

    ``"a:SENS_AVG"``, ``"a:SENS_MAX"``: AGG_robust has the lowest value of the members, AGG_mean
    and AGG_var; ``"b:INFD"``, ``"b:FCOR"``: AGG_faith has the lowest INFD and the highest FCOR
    of the same; ``"c:<column>"``: AGG_opt is first or second of all methods on that column.
    ``sensitivity="l2"`` reads the sensitivity claims on SENS_AVG and SENS_MAX (absolute, the
    average squared), ``"quantus"`` on SENS_AVG_Q and SENS_MAX_Q (relative, not squared).
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
            scored = _column(column, sensitivity)
            ours = table[label][scored][0]
            others = {name: table[name][scored][0] for name in baselines}
            lower = _lower_is_better(scored)
            best = (min if lower else max)(others, key=others.get)
            holds = ours < others[best] if lower else ours > others[best]
            numbers = f"{label} {ours:.4g}, best other {best} {others[best]:.4g}"
            out[f"{claim}:{column}"] = (bool(holds), numbers)
    for column in COLUMNS:
        scored = _column(column, sensitivity)
        rank = ranks(result, scored)
        leaders = sorted(rank, key=rank.get)[:2]
        numbers = (
            f"AGG_opt {table['AGG_opt'][scored][0]:.4g} ranks {rank['AGG_opt']}; "
            + ", ".join(f"{name} {table[name][scored][0]:.4g}" for name in leaders)
        )
        out[f"c:{column}"] = (rank["AGG_opt"] <= 2, numbers)
    return out


TITLES = {
    "SENS_AVG": "SENS_AVG",
    "SENS_MAX": "SENS_MAX",
    "SENS_AVG_Q": "SENS_AVG (Quantus)",
    "SENS_MAX_Q": "SENS_MAX (Quantus)",
    "INFD": "INFD",
    "FCOR": "FAITH-CORR",
    "INFD_diff": "INFD (I = x - x~)",
    "INFD_raw": "INFD (unnormalized)",
}


def format_table(result, columns=COLUMNS):
    """The table in the paper's layout: methods as rows, mean (standard error) per column.

    ``*`` marks the best mean of a column (of all methods); the last columns give each method's
    rank on every column (1 = best).
    """
    header = f"{'Method':<12s}" + "".join(f"{TITLES[column]:>22s}" for column in columns)
    header += "  ranks"
    lines = [header, "-" * len(header)]
    rank = {column: ranks(result, column) for column in columns}
    for name in result["methods"]:
        cells = []
        for column in columns:
            mean, se = result["table"][name][column]
            mark = "*" if rank[column][name] == 1 else " "
            cells.append(f"{mean:.4f} +- {se:.4f}{mark}")
        ranked = " ".join(f"{rank[column][name]:>2d}" for column in columns)
        lines.append(f"{name:<12s}" + "".join(f"{c:>22s}" for c in cells) + "  " + ranked)
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="more rows")
    parser.add_argument("--rows", type=int, help="explained rows (overrides --full)")
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--dataset", choices=sorted(DATASETS), action="append")
    parser.add_argument("--kernel-shap", action="store_true", help="add KernelSHAP (slow)")
    parser.add_argument(
        "--refit", action="store_true", help="re-solve the weights at every copy (slow)"
    )
    parser.add_argument(
        "--released", action="store_true", help="the released code's AGG_var and AGG_opt"
    )
    parser.add_argument(
        "--common-noise",
        action="store_true",
        help="reuse the explainers' and the aggregator's draws at every copy",
    )
    args = parser.parse_args(argv)
    settings = dict(FULL if args.full else DEFAULT)
    if args.rows is not None:
        settings["n_rows"] = args.rows
    for dataset in args.dataset or ["breast_cancer", "wine"]:
        result = run(
            dataset,
            random_state=args.random_state,
            kernel_shap=args.kernel_shap,
            sensitivity_weights="refit" if args.refit else "fixed",
            conventions="released" if args.released else "paper",
            explainer_noise="common" if args.common_noise else "fresh",
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
            f"{s['conventions']} conventions (normalize={s['normalize']}, AGG_var "
            f"{s['var_form']}, AGG_opt forms normalized {s['form_normalization']}); "
            f"weights fitted on m_agg = {s['m_agg']} samples, evaluated on m_eval = "
            f"{s['m_eval']} fresh ones; SENS: eps ~ U[-{s['radius']}, {s['radius']}], aggregate "
            f"weights {s['sensitivity_weights']}, explainer noise {s['explainer_noise']}; "
            f"INFD/FCOR: {s['subset_fraction']:.0%} of the features set to 0, INFD "
            f"beta-normalized; {result['flipped']:.2%} of the sensitivity draws change the "
            "predicted class"
        )
        print("The paper's four columns (SENS_AVG squared and absolute, the optimized metric):")
        print(format_table(result))
        print("Sensitivities as Quantus scores them (relative, not squared; the paper's Table 1):")
        print(format_table(result, ("SENS_AVG_Q", "SENS_MAX_Q")))
        print("Supplementary infidelities (AGG_faith and AGG_opt minimize the normalized INFD):")
        print(format_table(result, EXTRA_COLUMNS))
        for sensitivity in ("l2", "quantus"):
            for key, (holds, numbers) in claims(result, sensitivity).items():
                if sensitivity == "l2" or key.split(":")[1] in QUANTUS:
                    verdict = "holds" if holds else "FAILS"
                    print(f"  claim {key:<11s} {sensitivity:<7s} {verdict:<6s} {numbers}")
        print(f"total {result['seconds']['total']:.1f} s")


if __name__ == "__main__":
    main()
