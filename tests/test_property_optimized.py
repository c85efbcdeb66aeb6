"""PropertyOptimizedExplainer: every formulation against cvxpy, solver agreement, the estimator."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.utils.estimator_checks import check_estimator

from skexplain import PropertyOptimizedExplainer
from skexplain.functions import Polynomial, SinExp, SumOfExp, SumOfSines, grid
from skexplain.kernels import grid_feature_similarity
from skexplain.metrics import (
    complexity,
    function_matching_loss,
    gradient_matching_loss,
    make_explanation_scorer,
    robustness_loss,
)

RNG = np.random.default_rng(0)
X_SMALL = RNG.uniform(-2, 2, size=(30, 3))
S_FEATURES = np.ones((3, 3)) - np.eye(3)

FORMULATIONS = {
    "robust": dict(lambda_robust=1.0),
    "robust+smooth": dict(lambda_robust=1.0, lambda_smooth=0.5, feature_similarity=S_FEATURES),
    "function+robust": dict(lambda_robust=0.5, faithfulness="function"),
    "robust+complex": dict(lambda_robust=1.0, lambda_complex=0.5),
    "function+all": dict(
        faithfulness="function",
        lambda_robust=1.0,
        lambda_smooth=0.2,
        lambda_complex=0.3,
        feature_similarity=S_FEATURES,
    ),
    "max-robust": dict(lambda_robust=1.0, robustness="max", kernel="threshold", length_scale=1.0),
    "threshold": dict(lambda_robust=2.0, kernel="threshold", length_scale=1.5),
}


@pytest.mark.parametrize("name", sorted(FORMULATIONS))
def test_every_formulation_matches_cvxpy(name):
    params = FORMULATIONS[name]
    ours = PropertyOptimizedExplainer(model=SinExp(), **params).fit(X_SMALL)
    reference = PropertyOptimizedExplainer(model=SinExp(), solver="cvxpy", **params).fit(X_SMALL)
    assert ours.solver_status_["converged"]
    assert ours.objective_ == pytest.approx(reference.objective_, rel=1e-6)
    # and the objective really is the weighted sum of the metrics module's losses
    W = ours.explanations_
    faithful = (
        function_matching_loss(SinExp(), X_SMALL, W)
        if params.get("faithfulness") == "function"
        else gradient_matching_loss(SinExp(), X_SMALL, W)
    ).sum()
    assert ours.losses_["faithful"] == pytest.approx(faithful, rel=1e-10)
    assert ours.losses_["complex"] == pytest.approx(complexity(W).sum(), rel=1e-10)
    if params.get("robustness", "pairwise") == "pairwise":
        robust = robustness_loss(
            X_SMALL,
            W,
            kernel=params.get("kernel", "gaussian"),
            length_scale=params.get("length_scale", 1.0),
        ).sum()
        assert ours.losses_["robust"] == pytest.approx(robust, rel=1e-8)


def test_faithfulness_alone_is_the_gradient_and_robustness_flattens():
    X = grid(3, 4, low=-3.0, high=3.0)
    W = PropertyOptimizedExplainer(model=Polynomial(3)).fit_transform(X)
    np.testing.assert_allclose(W, 3 * X**2, rtol=1e-12)
    losses = [
        robustness_loss(
            X, PropertyOptimizedExplainer(model=Polynomial(3), lambda_robust=lam).fit_transform(X)
        ).sum()
        for lam in (0.01, 0.1, 1.0, 10.0)
    ]
    assert np.all(np.diff(losses) < 0)


def test_dense_and_sparse_solvers_agree_at_two_thousand_rows():
    X = RNG.uniform(-2, 2, size=(2000, 3))
    params = dict(
        model=SumOfSines(),
        lambda_robust=1.0,
        lambda_smooth=0.3,
        feature_similarity=S_FEATURES,
        n_neighbors=15,
    )
    dense = PropertyOptimizedExplainer(solver="dense", **params).fit(X)
    sparse_cg = PropertyOptimizedExplainer(solver="cg", tol=1e-12, **params).fit(X)
    assert sparse_cg.solver_status_["converged"]
    np.testing.assert_allclose(sparse_cg.explanations_, dense.explanations_, atol=1e-8)


def test_transform_of_the_fitted_rows_is_the_joint_optimum_and_new_rows_are_row_optimal():
    for params in (
        FORMULATIONS["robust+smooth"],
        FORMULATIONS["function+robust"],
        FORMULATIONS["robust+complex"],
    ):
        explainer = PropertyOptimizedExplainer(model=SinExp(), **params).fit(X_SMALL)
        np.testing.assert_allclose(explainer.transform(X_SMALL), explainer.explanations_, atol=1e-6)
    # a new row's explanation minimizes the objective with the fitted rows held fixed
    explainer = PropertyOptimizedExplainer(model=SinExp(), lambda_robust=1.0).fit(X_SMALL)
    x_new = RNG.uniform(-2, 2, size=(1, 3))
    w = explainer.transform(x_new)

    def total(w_row):
        X_all = np.vstack([X_SMALL, x_new])
        W_all = np.vstack([explainer.explanations_, w_row])
        faithful = gradient_matching_loss(SinExp(), X_all, W_all).sum()
        return faithful + robustness_loss(X_all, W_all).sum()

    base = total(w)
    for _ in range(20):
        assert total(w + 1e-3 * RNG.normal(size=w.shape)) >= base


def test_complexity_trades_faithfulness_for_sparsity_monotonically():
    X = grid(3, 4, low=-2.0, high=2.0)
    faithful, sparsity = [], []
    for lam in (0.0, 0.5, 2.0, 8.0):
        e = PropertyOptimizedExplainer(model=Polynomial(3), lambda_robust=0.1, lambda_complex=lam)
        e.fit(X)
        faithful.append(e.losses_["faithful"])
        sparsity.append(e.losses_["complex"])
    assert np.all(np.diff(faithful) > 0) and np.all(np.diff(sparsity) < 0)


def test_grid_search_with_real_folds():
    X = RNG.uniform(-2, 2, size=(60, 3))
    search = GridSearchCV(
        PropertyOptimizedExplainer(model=SinExp()),
        {"lambda_robust": [0.0, 0.1, 10.0]},
        scoring=make_explanation_scorer("gradient_matching_loss"),
        cv=3,
    ).fit(X)
    # held-out rows are explained by the extension: more robustness, less faithful on them
    scores = search.cv_results_["mean_test_score"]
    assert search.best_params_ == {"lambda_robust": 0.0} and scores[0] > scores[1] > scores[2]


def test_sklearn_estimator_checks():
    check_estimator(PropertyOptimizedExplainer(model=SumOfSines(), lambda_robust=0.5))
    check_estimator(
        PropertyOptimizedExplainer(model=SumOfSines(), lambda_robust=0.5, lambda_complex=0.1)
    )


def test_image_smoothness_with_pixel_grid_similarity():
    X = RNG.uniform(0, 1, size=(5, 16))
    S = grid_feature_similarity((4, 4))
    rough = PropertyOptimizedExplainer(model=SinExp()).fit_transform(X)
    smooth = PropertyOptimizedExplainer(
        model=SinExp(), lambda_smooth=5.0, feature_similarity=S
    ).fit_transform(X)
    from skexplain.metrics import smoothness_loss

    assert (
        smoothness_loss(smooth, feature_similarity=S).sum()
        < 0.2 * smoothness_loss(rough, feature_similarity=S).sum()
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (dict(lambda_robust=-1.0), "'lambda_robust' parameter"),
        (dict(lambda_faithful=0.0), "'lambda_faithful' parameter"),
        (dict(lambda_smooth=1.0), "needs feature_similarity"),
        (dict(lambda_smooth=1.0, feature_similarity=np.eye(2)), r"must have shape \(3, 3\)"),
        (dict(lambda_smooth=1.0, feature_similarity=np.triu(np.ones((3, 3)))), "symmetric"),
        (dict(solver="newton"), "'solver' parameter"),
        (dict(setting="deductive"), "'setting' parameter"),
        (dict(setting="inductive"), "does not support lambda_robust = 0"),
        (dict(setting="inductive", lambda_robust=1.0, lambda_complex=1.0), "lambda_complex > 0"),
        (dict(lambda_complex=1.0, solver="dense"), "solver='dense' solves"),
    ],
)
def test_bad_input(params, message):
    with pytest.raises(ValueError, match=message):
        PropertyOptimizedExplainer(model=SinExp(), **params).fit(X_SMALL)


def test_a_solver_that_does_not_converge_warns_loudly():
    with pytest.warns(ConvergenceWarning, match="not the optimum"):
        e = PropertyOptimizedExplainer(
            model=SinExp(), lambda_robust=5.0, faithfulness="function", max_iter=2
        ).fit(X_SMALL)
    assert not e.solver_status_["converged"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PropertyOptimizedExplainer(model=SinExp(), lambda_robust=5.0).fit(X_SMALL)


def test_inductive_with_every_row_as_inducing_point_is_the_transductive_gp_optimum():
    from skexplain.optimization._gp import precision_objective

    X = RNG.uniform(-2, 2, size=(80, 3))
    G = SinExp().gradient(X)
    e = PropertyOptimizedExplainer(model=SinExp(), lambda_robust=0.5, setting="inductive").fit(X)
    W = e.fit_transform(X)
    best, _ = precision_objective(W, G, X, 1.0, 0.5, 1.0)
    assert e.objective_ == pytest.approx(best)
    for _ in range(10):  # the posterior mean minimizes the GP's objective
        moved = W + 1e-3 * RNG.normal(size=W.shape)
        assert precision_objective(moved, G, X, 1.0, 0.5, 1.0)[0] > best
    np.testing.assert_allclose(e.transform(X), W)


def test_inductive_gp_marginalizes_the_constant_mean_as_prop_1_says():
    """Oracle: plain GP regression on all features jointly, with a wide prior on the mean.

    The explanation of feature d at x is ``mu + f_d(x)``, ``f_d ~ GP(0, K / (2 lambda_r))``
    independent across features, ``mu ~ N(0, s^2)`` shared; gradients observed with noise
    ``1 / (2 lambda_f)``. As ``s`` grows the posterior mean tends to the fitted GP's.
    """
    X = RNG.uniform(-2, 2, size=(40, 3))
    X_new = RNG.uniform(-2, 2, size=(7, 3))
    lam_f, lam_r, ls, s2 = 1.5, 0.7, 1.3, 1e6
    e = PropertyOptimizedExplainer(
        model=SinExp(),
        lambda_faithful=lam_f,
        lambda_robust=lam_r,
        length_scale=ls,
        setting="inductive",
        query_gradient=False,  # the posterior mean from the fitted rows alone
        device="cpu",
    ).fit(X)

    def kernel(A, B):
        return np.exp(-((A[:, None, :] - B[None, :, :]) ** 2).sum(-1) / (2 * ls**2))

    d = X.shape[1]
    prior = s2 + np.kron(np.eye(d), kernel(X, X) / (2 * lam_r))  # vec by feature
    cross = s2 + np.kron(np.eye(d), kernel(X_new, X) / (2 * lam_r))
    G = SinExp().gradient(X)
    noisy = prior + np.eye(prior.shape[0]) / (2 * lam_f)
    mean = cross @ np.linalg.solve(noisy, G.T.ravel())
    np.testing.assert_allclose(e.transform(X_new), mean.reshape(d, -1).T, rtol=1e-4, atol=1e-5)
    assert e.device_.type == "cpu"


def test_inductive_explanation_combines_the_querys_gradient_with_the_gp_predictive():
    """Closed form: the authors' precision-weighted combination of the query's own gradient
    (noise 1 / (2 lambda_f)) and the GP predictive N(m, V) from the inducing points, with the
    shared constant mean's uncertainty in V; equal to the plain GP posterior (wide prior on the
    mean) given the inducing points and the query."""
    Z = RNG.uniform(-2, 2, size=(25, 3))  # inducing points apart from the explained rows
    X = RNG.uniform(-2, 2, size=(6, 3))
    lam_f, lam_r, ls = 1.0, 0.1, np.sqrt(3.0)
    e = PropertyOptimizedExplainer(
        model=SinExp(),
        lambda_robust=lam_r,
        length_scale=ls,
        setting="inductive",
        inducing_points=Z,
        device="cpu",
    ).fit(X)

    def kernel(A, B):
        return np.exp(-((A[:, None, :] - B[None, :, :]) ** 2).sum(-1) / (2 * ls**2))

    d, G_Z, G_X = 3, SinExp().gradient(Z), SinExp().gradient(X)
    prior_var, noise = 1 / (2 * lam_r), 1 / (2 * lam_f)
    A = kernel(Z, Z) * prior_var + noise * np.eye(len(Z))
    ones = np.ones(len(Z))
    A_inv_ones = np.linalg.solve(A, ones)
    mu = ones @ np.linalg.solve(A, G_Z).sum(1) / (d * ones @ A_inv_ones)  # GLS mean
    expected = []
    for x, g in zip(X, G_X, strict=True):
        k = kernel(x[None], Z)[0] * prior_var
        m = mu + k @ np.linalg.solve(A, G_Z - mu)
        c = 1 - k @ A_inv_ones
        V = (prior_var - k @ np.linalg.solve(A, k)) * np.eye(d) + c**2 / (d * ones @ A_inv_ones)
        expected.append(m + V @ np.linalg.solve(V + noise * np.eye(d), g - m))
    np.testing.assert_allclose(e.explanations_, expected, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(e.transform(X), expected, rtol=1e-8, atol=1e-10)
    # the same as fitting the GP on the inducing points and the query together
    for i in range(len(X)):
        both = PropertyOptimizedExplainer(
            model=SinExp(),
            lambda_robust=lam_r,
            length_scale=ls,
            setting="inductive",
            inducing_points=np.vstack([Z, X[i : i + 1]]),
            query_gradient=False,
            device="cpu",
        ).fit(X[i : i + 1])
        np.testing.assert_allclose(both.explanations_[0], expected[i], rtol=1e-7, atol=1e-9)
    # without the mean term this is the authors' (G / noise + m / v) / (1 / noise + 1 / v);
    # query_gradient=False ignores the query's gradient
    alone = e.set_params(query_gradient=False).fit(X).explanations_
    assert np.abs(alone - np.asarray(expected)).max() > 1e-2


def test_precision_weighted_losses_are_the_papers_formulas():
    """Under robustness_weights='precision' the losses equal a direct evaluation of the paper's
    formulas with S = -pinv(K) (the erratum, the authors' code) to 1e-10."""
    x = np.linspace(-5, 5, 5)
    X = np.stack(np.meshgrid(x, x, x), -1).reshape(-1, 3)[:100]  # the authors' grid
    ls, lam_r = np.sqrt(3.0), 0.3
    e = PropertyOptimizedExplainer(
        model=Polynomial(3), lambda_robust=lam_r, length_scale=ls, robustness_weights="precision"
    )
    W = e.fit_transform(X)
    K = np.exp(-((X[:, None] - X[None]) ** 2).sum(-1) / (2 * ls**2))
    S = -np.linalg.pinv(K)
    robust = sum(
        S[n, m] * ((W[n] - W[m]) ** 2).sum() for n in range(100) for m in range(100) if n != m
    )
    faithful = ((W - 3 * X**2) ** 2).sum()
    assert (S < 0).mean() > 0.3  # negative weights
    np.testing.assert_allclose(e.losses_["robust"], robust, rtol=1e-10)
    np.testing.assert_allclose(e.losses_["faithful"], faithful, rtol=1e-10)
    np.testing.assert_allclose(e.objective_, faithful + lam_r * robust, rtol=1e-10)
    loss = robustness_loss(X, W, length_scale=ls, weights="precision").sum()
    np.testing.assert_allclose(loss, robust, rtol=1e-10)
    # the optimum: the objective's gradient vanishes there
    off = S - np.diag(np.diag(S))
    L = np.diag(off.sum(1)) - off
    np.testing.assert_allclose(
        (W - 3 * X**2) + 2 * lam_r * L @ W, 0, atol=1e-8 * np.abs(3 * X**2).max()
    )


def test_precision_weights_extend_to_a_new_row_by_the_augmented_precision():
    X = RNG.uniform(-2, 2, size=(30, 2))
    x_new = RNG.uniform(-2, 2, size=(1, 2))
    lam_r, ls = 0.2, 1.0
    e = PropertyOptimizedExplainer(
        model=SinExp(), lambda_robust=lam_r, length_scale=ls, robustness_weights="precision"
    ).fit(X)
    both = np.vstack([X, x_new])
    K = np.exp(-((both[:, None] - both[None]) ** 2).sum(-1) / (2 * ls**2))
    s = -np.linalg.pinv(K)[-1, :-1]  # the new row's weights to the fitted rows
    g = SinExp().gradient(x_new)[0]
    w = (g + 2 * lam_r * s @ e.explanations_) / (1 + 2 * lam_r * s.sum())
    np.testing.assert_allclose(e.transform(x_new)[0], w, rtol=1e-6)


def test_precision_weights_with_complexity_converge_to_cvxpy():
    """The proximal step is 1 / (a bound on the smooth part's largest eigenvalue): with the
    negated precision's weights that is not twice the largest degree (2.3 times less than the
    eigenvalue on the authors' grid at length scale 3), and the method did not converge."""
    x = np.linspace(-5, 5, 5)
    X = np.stack(np.meshgrid(x, x, x), -1).reshape(-1, 3)[:100]  # the authors' grid
    params = dict(
        model=Polynomial(3),
        lambda_robust=0.1,
        lambda_complex=3.0,
        length_scale=3.0,
        robustness_weights="precision",
    )
    ours = PropertyOptimizedExplainer(**params).fit(X)
    reference = PropertyOptimizedExplainer(solver="cvxpy", **params).fit(X)
    assert ours.solver_status_["converged"]
    assert ours.objective_ == pytest.approx(reference.objective_, rel=1e-7)


def test_precision_weights_refuse_max_robustness_and_knn_graphs():
    for params in ({"robustness": "max"}, {"n_neighbors": 5}):
        e = PropertyOptimizedExplainer(
            model=SinExp(), lambda_robust=1.0, robustness_weights="precision", **params
        )
        with pytest.raises(ValueError, match="robustness_weights='precision'"):
            e.fit(X_SMALL)


def test_inductive_device_is_checked():
    e = PropertyOptimizedExplainer(
        model=SinExp(), lambda_robust=1.0, setting="inductive", device="no-such-device"
    )
    with pytest.raises(ValueError, match="device must be 'auto' or a torch device"):
        e.fit(X_SMALL)


def test_inductive_prediction_in_chunks_equals_one_block(monkeypatch):
    from skexplain import _engine

    X = RNG.uniform(-2, 2, size=(50, 3))
    e = PropertyOptimizedExplainer(model=SinExp(), lambda_robust=1.0, setting="inductive")
    whole = e.fit(X).transform(X)
    monkeypatch.setattr(_engine, "KERNEL_BLOCK_ENTRIES", 3 * 50)  # three rows per chunk
    np.testing.assert_allclose(e.transform(X), whole, rtol=1e-12, atol=1e-14)


def _claim_d_gaps(function, sizes=(10, 30, 100, 300, 1000)):
    """Relative gap of the inductive solution's total loss to the transductive optimum."""
    from skexplain.optimization._gp import precision_objective

    X = np.random.default_rng(0).uniform(-5, 5, size=(1000, 3))  # 1,000 test points, D = 3
    G = function.gradient(X)
    params = dict(
        model=function,
        lambda_robust=1.0,
        length_scale=2.0,
        setting="inductive",
        query_gradient=False,  # the posterior-mean form; the authors' protocol: test_tadesse_claims
    )

    def total(W):
        return precision_objective(W, G, X, 1.0, 1.0, 2.0)[0]

    optimum = total(PropertyOptimizedExplainer(**params).fit_transform(X))
    return np.array(
        [
            (
                total(
                    PropertyOptimizedExplainer(
                        n_inducing=m, random_state=0, **params
                    ).fit_transform(X)
                )
                - optimum
            )
            / optimum
            for m in sizes
        ]
    )


@pytest.mark.parametrize("function", [SumOfSines(), Polynomial(3), SumOfExp()], ids=repr)
def test_claim_d_inductive_loss_approaches_the_transductive_optimum(function):
    """Tadesse et al. claim (d): the gap falls as inducing points grow from 10 to 1,000.

    Measured (relative gaps at 10, 30, 100, 300, 1000 inducing points): sum sin 6.46, 5.24,
    2.64, 0.58, 0; cubic 13.8, 8.56, 2.64, 0.48, 0; sum exp 7.02, 5.00, 1.95, 0.52, 0.
    """
    gaps = _claim_d_gaps(function)
    assert np.all(np.diff(gaps) < 0) and abs(gaps[-1]) < 1e-8 and np.all(gaps >= -1e-8)


@pytest.mark.xfail(
    strict=True,
    reason="on sum sin(exp(x)) in (-5, 5)^3 the gap does not fall steadily: 0.174, 0.194, "
    "0.263, 0.158 at 10, 30, 100, 300 inducing points (0 at 1,000); the gradients grow like "
    "e^5 near the corner, which a length scale of 2 cannot follow from a few points",
)
def test_claim_d_on_sin_exp():
    gaps = _claim_d_gaps(SinExp())
    assert np.all(np.diff(gaps) < 0)


def test_sklearn_estimator_checks_inductive():
    check_estimator(
        PropertyOptimizedExplainer(model=SumOfSines(), lambda_robust=0.5, setting="inductive")
    )


def test_inductive_on_many_rows_skips_the_cubic_objective(monkeypatch):
    from skexplain.optimization import _property_optimized

    monkeypatch.setattr(_property_optimized, "MAX_PRECISION_ROWS", 40)
    X = RNG.uniform(-2, 2, size=(50, 3))
    e = PropertyOptimizedExplainer(
        model=SinExp(), lambda_robust=1.0, setting="inductive", n_inducing=10, random_state=0
    ).fit(X)
    assert np.isnan(e.objective_) and np.isnan(e.losses_["robust"])
    faithful = gradient_matching_loss(SinExp(), X, e.explanations_).sum()
    assert e.losses_["faithful"] == pytest.approx(faithful)
