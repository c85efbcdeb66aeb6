"""Metrics: closed forms, the infidelity-optimal property, rankings, scorers, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skexplain import (
    Gradient,
    InfidelityOptimal,
    InputXGradient,
    KernelSmoothed,
    SmoothGrad,
    VarGrad,
)
from skexplain.functions import Linear, Polynomial, SumOfSines
from skexplain.metrics import (
    SCORERS,
    avg_sensitivity,
    complexity,
    deletion_auc,
    faithfulness_correlation,
    function_matching_loss,
    get_explanation_scorer,
    gradient_matching_loss,
    infidelity,
    insertion_auc,
    local_lipschitz,
    make_explanation_scorer,
    max_sensitivity,
    relative_input_stability,
    robustness_loss,
    sensitivity_n,
    smoothness_loss,
)
from skexplain.models import as_model
from skexplain.perturbations import (
    GaussianNoise,
    NoisyBaseline,
    ShapleySubsets,
    SquareRemoval,
    SubsetBaseline,
)

RNG = np.random.default_rng(0)


# -- closed forms -------------------------------------------------------------------------------
def test_infidelity_of_a_linear_model_is_zero_for_its_weights_and_quadratic_otherwise():
    w = np.array([1.0, -2.0, 0.5])
    f, X = Linear(w), RNG.normal(size=(4, 3))
    P = X[:, None, :] + RNG.normal(size=(4, 30, 3))
    assert np.allclose(infidelity(f, X, np.tile(w, (4, 1)), perturbations=P), 0.0, atol=1e-20)
    # For phi = w + e, the error is (I^T e)^2 averaged over draws: an exact closed form.
    e = np.array([0.3, 0.0, -0.1])
    I = X[:, None, :] - P
    expected = ((I @ e) ** 2).mean(axis=1)
    got = infidelity(f, X, np.tile(w + e, (4, 1)), perturbations=P)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_normalized_infidelity_ignores_the_scale_of_the_attributions():
    f, X = SumOfSines(), RNG.normal(size=(5, 3))
    A = Gradient(model=f).fit(X).transform(X)
    a = infidelity(f, X, A, normalize=True, random_state=1)
    b = infidelity(f, X, 7.5 * A, normalize=True, random_state=1)
    np.testing.assert_allclose(a, b, rtol=1e-10)
    assert not np.allclose(
        infidelity(f, X, A, random_state=1), infidelity(f, X, 7.5 * A, random_state=1)
    )


def test_infidelity_quadratic_form_gives_the_metric_of_every_convex_combination():
    f, X = SumOfSines(), RNG.normal(size=(6, 3))
    members = np.stack(
        [
            Gradient(model=f).fit(X).transform(X),
            SmoothGrad(model=f, noise_scale=1.0, random_state=0).fit(X).transform(X),
            RNG.normal(size=X.shape),
        ],
        axis=1,
    )
    Q = infidelity(f, X, members, return_quadratic=True, random_state=3)
    assert Q.shape == (6, 3, 3)
    w = np.array([0.2, 0.5, 0.3])
    combined = np.einsum("nkd,k->nd", members, w)
    np.testing.assert_allclose(
        np.einsum("k,nkl,l->n", w, Q, w), infidelity(f, X, combined, random_state=3), rtol=1e-10
    )


def test_avg_sensitivity_quadratic_form_matches_the_combined_explainer():
    f, X = Polynomial(degree=3), RNG.normal(size=(5, 2))
    a, b = Gradient(model=f).fit(X), SmoothGrad(model=f, noise_scale=0.5, random_state=0).fit(X)
    Q = avg_sensitivity([a, b], X, return_quadratic=True, random_state=0)
    w = np.array([0.7, 0.3])

    class Mixture:
        def transform(self, Z):
            return w[0] * a.transform(Z) + w[1] * b.transform(Z)

    np.testing.assert_allclose(
        np.einsum("k,nkl,l->n", w, Q, w), avg_sensitivity(Mixture(), X, random_state=0), rtol=1e-10
    )


def test_sensitivities_closed_forms_for_a_quadratic():
    # grad of sum x^2 is 2x: a change of 2 eps; Lipschitz constant exactly 2.
    f, X = Polynomial(degree=2), RNG.normal(size=(3, 4))
    explainer = Gradient(model=f).fit(X)
    eps = RNG.uniform(-0.1, 0.1, size=(3, 7, 4))
    P = X[:, None] + eps
    absolute_max = np.linalg.norm(2 * eps, axis=2).max(axis=1)  # Yeh et al.'s Def. 3.1
    np.testing.assert_allclose(max_sensitivity(explainer, X, perturbations=P), absolute_max)
    np.testing.assert_allclose(
        max_sensitivity(explainer, X, perturbations=P, relative=True),
        absolute_max / np.linalg.norm(2 * X, axis=1),
    )
    np.testing.assert_allclose(
        avg_sensitivity(explainer, X, perturbations=P), (4 * eps**2).sum(axis=2).mean(axis=1)
    )
    np.testing.assert_allclose(local_lipschitz(explainer, X, perturbations=P), 2.0)


def test_relative_input_stability_of_input_times_gradient_of_a_linear_model_is_one():
    X = RNG.uniform(1, 2, size=(4, 3))
    explainer = InputXGradient(model=Linear([1.0, 2.0, 3.0])).fit(X)
    np.testing.assert_allclose(relative_input_stability(explainer, X, random_state=0), 1.0)


def test_property_losses_closed_forms():
    f = Linear([1.0, 2.0])
    X = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0]])
    W = np.array([[1.0, 2.0], [0.0, 0.0], [1.0, 1.0]])
    np.testing.assert_allclose(gradient_matching_loss(f, X, W), [0.0, 5.0, 1.0])
    np.testing.assert_allclose(function_matching_loss(f, X, W), [0.0, 1.0, 25.0])
    S = np.exp(-((X[:, None] - X[None]) ** 2).sum(-1) / 2.0)
    diffs = ((W[:, None] - W[None]) ** 2).sum(-1)
    np.testing.assert_allclose(
        robustness_loss(X, W, length_scale=1.0), (S * diffs).sum(1), rtol=1e-10, atol=1e-12
    )
    L = np.diag(S.sum(1)) - S
    assert robustness_loss(X, W).sum() == pytest.approx(2 * np.trace(W.T @ L @ W))
    S_feat = np.array([[0.0, 0.5], [0.5, 0.0]])
    np.testing.assert_allclose(smoothness_loss(W, feature_similarity=S_feat), [1.0, 0.0, 0.0])
    np.testing.assert_allclose(complexity(W), [3.0, 0.0, 2.0])


def test_robustness_loss_blocks_agree_with_the_dense_formula_on_many_rows(monkeypatch):
    from skexplain import _engine

    X, W = RNG.normal(size=(50, 3)), RNG.normal(size=(50, 3))
    dense = robustness_loss(X, W, kernel="threshold", length_scale=2.0)
    monkeypatch.setattr(_engine, "KERNEL_BLOCK_ROWS", 7)
    np.testing.assert_allclose(robustness_loss(X, W, kernel="threshold", length_scale=2.0), dense)


# -- the infidelity-optimal explanation (Yeh et al., Prop. 2.1) ---------------------------------
@settings(max_examples=25, deadline=None)
@given(
    coefficients=st.lists(st.floats(-2, 2), min_size=3, max_size=3),
    frequencies=st.lists(st.floats(0.2, 3), min_size=3, max_size=3),
    seed=st.integers(0, 10_000),
    kind=st.sampled_from(["gaussian", "noisy_baseline", "subset", "shapley"]),
)
def test_infidelity_optimal_beats_any_explanation_on_the_same_draws(
    coefficients, frequencies, seed, kind
):
    a, k = np.array(coefficients), np.array(frequencies)

    def f(Z):  # a random smooth function
        return (a * np.sin(k * Z)).sum(axis=1) + 0.3 * Z[:, 0] * Z[:, 1]

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(4, 3))
    perturbation = {
        "gaussian": GaussianNoise(scale=0.5),
        "noisy_baseline": NoisyBaseline(scale=0.3),
        "subset": SubsetBaseline(fraction=0.4),
        "shapley": ShapleySubsets(),
    }[kind]
    optimal = InfidelityOptimal(model=f, perturbation=perturbation, n_samples=64, random_state=seed)
    best = infidelity(
        f,
        X,
        optimal.fit(X).transform(X),
        perturbation=perturbation,
        n_samples=64,
        random_state=seed,
    )
    others = [
        Gradient(model=f).fit(X).transform(X),
        SmoothGrad(model=f, random_state=0).fit(X).transform(X),
        rng.normal(size=X.shape),
    ]
    for other in others:
        score = infidelity(f, X, other, perturbation=perturbation, n_samples=64, random_state=seed)
        assert np.all(best <= score + 1e-9 * (1 + np.abs(score)))
    # and small moves of the optimum only make it worse
    moved = optimal.transform(X) + 1e-3 * rng.normal(size=X.shape)
    worse = infidelity(f, X, moved, perturbation=perturbation, n_samples=64, random_state=seed)
    assert np.all(best <= worse + 1e-12)


def test_infidelity_optimal_for_gaussian_noise_of_a_quadratic_is_its_gradient():
    # f = sum x^2: f(x) - f(x - I) = 2 x.I - |I|^2; for symmetric noise the |I|^2 term is
    # uncorrelated with I in expectation, so phi* -> 2x.
    X = RNG.normal(size=(3, 2))
    phi = InfidelityOptimal(model=Polynomial(2), n_samples=200_000, random_state=0).fit(X)
    np.testing.assert_allclose(phi.transform(X), 2 * X, atol=0.01)


# -- insertion, deletion and faithfulness rank explanations ------------------------------------
def _additive_problem():
    w = np.array([5.0, 4.0, 3.0, 2.0, 1.0, 0.5, 0.25, 0.1])
    X = RNG.uniform(0.5, 1.5, size=(20, 8))
    return Linear(w), X, X * w  # exact attributions of an additive function: w_j x_j


def test_insertion_deletion_and_faithfulness_rank_correct_above_random_and_reversed():
    f, X, correct = _additive_problem()
    random = RNG.normal(size=X.shape)
    reversed_ = -correct
    for metric, better in [
        (insertion_auc, np.greater),
        (deletion_auc, np.less),
    ]:
        good, rnd, bad = (metric(f, X, A).mean() for A in (correct, random, reversed_))
        assert better(good, rnd) and better(rnd, bad), (metric.__name__, good, rnd, bad)
    good, rnd, bad = (
        faithfulness_correlation(f, X, A, random_state=0).mean()
        for A in (correct, random, reversed_)
    )
    assert good == pytest.approx(1.0) and good > rnd > bad
    assert sensitivity_n(f, X, correct, n_features=3, random_state=0) == pytest.approx(1.0)


def test_insertion_and_deletion_closed_form_with_steps():
    f = Linear(np.arange(10, 0, -1.0))
    X = np.ones((1, 10))
    A = np.arange(10, 0, -1.0)[None]
    # top 4 features (10 + 9 + 8 + 7) in steps of 2: insert 19 then 34; delete from 55
    np.testing.assert_allclose(insertion_auc(f, X, A, fraction=0.4, step=2), [(19 + 34) / 2])
    np.testing.assert_allclose(deletion_auc(f, X, A, fraction=0.4, step=2), [(36 + 21) / 2])


# -- scorers ------------------------------------------------------------------------------------
def test_scorer_signs_losses_are_negated_and_names_say_so():
    f, X = SumOfSines(), RNG.normal(size=(10, 3))
    explainer = Gradient(model=f).fit(X)
    A = explainer.transform(X)
    assert make_explanation_scorer("infidelity")(explainer, X) == pytest.approx(
        -infidelity(f, X, A, random_state=0).mean()
    )
    assert make_explanation_scorer("insertion_auc")(explainer, X) == pytest.approx(
        insertion_auc(f, X, A).mean()
    )
    assert (
        repr(make_explanation_scorer("complexity")) == "make_explanation_scorer('neg_complexity')"
    )
    assert get_explanation_scorer("neg_deletion_auc")(explainer, X) == pytest.approx(
        -deletion_auc(f, X, A).mean()
    )
    assert all(name.startswith("neg_") == (name[4:] in SCORERS.values()) for name in SCORERS)


def test_grid_search_picks_the_noise_scale_the_metric_prefers():
    f = Polynomial(degree=3)
    X = RNG.uniform(-2, 2, size=(45, 3))
    grid = [0.05, 0.5, 2.0]
    scorer = make_explanation_scorer("gradient_matching_loss")
    search = GridSearchCV(
        SmoothGrad(model=f, random_state=0), {"noise_scale": grid}, scoring=scorer, cv=3
    )
    search.fit(X)
    # by hand: the mean loss of each setting on the held-out folds
    assert search.best_params_ == {"noise_scale": 0.05}
    assert np.all(np.diff(search.cv_results_["mean_test_score"]) < 0)  # larger noise, worse fit
    # a robustness metric prefers the other end: the relative one (on the cubic the absolute
    # change of SmoothGrad, 6 x times the radius, does not depend on the noise scale)
    search = GridSearchCV(
        SmoothGrad(model=f, random_state=0),
        {"noise_scale": grid},
        scoring=make_explanation_scorer("max_sensitivity", radius=0.2, relative=True),
        cv=3,
    ).fit(X)
    assert search.best_params_ == {"noise_scale": 2.0}


def test_cross_validate_with_two_scorers_and_refit_through_a_pipeline():
    f = SumOfSines()
    X = RNG.normal(size=(30, 3))
    pipeline = make_pipeline(StandardScaler(), SmoothGrad(model=f, random_state=0))
    scoring = {
        "infd": make_explanation_scorer("infidelity", n_samples=10),
        "sens": make_explanation_scorer("max_sensitivity"),
    }
    result = cross_validate(pipeline, X, scoring=scoring, cv=3)
    assert np.all(result["test_infd"] <= 0) and np.all(result["test_sens"] <= 0)
    search = GridSearchCV(
        pipeline, {"smoothgrad__noise_scale": [0.1, 1.0]}, scoring=scoring, refit="infd", cv=3
    ).fit(X)
    assert search.best_params_["smoothgrad__noise_scale"] in (0.1, 1.0)
    assert "mean_test_sens" in search.cv_results_


def test_a_callable_scorer_may_return_several_scores():
    X = RNG.normal(size=(12, 2))

    def two(explainer, Z):
        W = explainer.transform(Z)
        return {"size": np.abs(W).sum(1), "first": W[:, 0]}

    scorer = make_explanation_scorer(two)
    result = cross_validate(Gradient(model=SumOfSines()), X, scoring=scorer, cv=2)
    assert {"test_size", "test_first"} <= set(result)


# -- bad input ----------------------------------------------------------------------------------
def test_bad_input_gets_clear_errors():
    f, X = SumOfSines(), RNG.normal(size=(4, 3))
    with pytest.raises(
        ValueError, match=r"attributions must have shape .* matching X of shape \(4, 3\)"
    ):
        infidelity(f, X, np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"attributions must have shape"):
        insertion_auc(f, X, np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"perturbations must have shape"):
        infidelity(f, X, np.zeros((4, 3)), perturbations=np.zeros((4, 5, 2)))
    with pytest.raises(ValueError, match=r"baseline must be a scalar or have shape \(3,\)"):
        infidelity(f, X, np.zeros((4, 3)), perturbation=SubsetBaseline(baseline=np.zeros(5)))
    with pytest.raises(ValueError, match=r"image_shape \(8, 8\) does not match 3 features"):
        infidelity(f, X, np.zeros((4, 3)), perturbation=SquareRemoval(image_shape=(8, 8)))
    with pytest.raises(ValueError, match=r"metric 'infidelty' does not exist"):
        make_explanation_scorer("infidelty")
    with pytest.raises(ValueError, match="scorer 'infidelity' does not exist"):
        get_explanation_scorer("infidelity")  # the scorer's name is neg_infidelity
    with pytest.raises(ValueError, match="greater-is-better already"):
        make_explanation_scorer("neg_insertion_auc")
    with pytest.raises(ValueError, match="perturbation must be a Perturbation or one of"):
        infidelity(f, X, np.zeros((4, 3)), perturbation="salt")
    with pytest.raises(
        ValueError,
        match=r"The 'n_samples' parameter of infidelity must be an int in the range "
        r"\[1, inf\)\. Got 0 instead",
    ):
        infidelity(f, X, np.zeros((4, 3)), n_samples=0)
    with pytest.raises(
        TypeError,
        match="The 'explainer' parameter of max_sensitivity must be an object "
        "implementing 'transform'. Got SumOfSines",
    ):
        max_sensitivity(f, X)
    with pytest.raises(TypeError, match=r"explainers must have a transform method, got \['Sum"):
        avg_sensitivity([f, f], X, return_quadratic=True)
    with pytest.raises(ValueError, match="feature_similarity must have shape"):
        smoothness_loss(np.zeros((2, 3)), feature_similarity=np.eye(2))
    with pytest.raises(ValueError, match="feature_similarity must be symmetric"):
        smoothness_loss(np.zeros((2, 2)), feature_similarity=np.array([[0, 1.0], [0, 0]]))
    with pytest.raises(
        ValueError,
        match=r"The 'fraction' parameter of deletion_auc must be a float in the "
        r"range \(0(\.0)?, 1(\.0)?\]\. Got 1\.5 instead",
    ):
        deletion_auc(f, X, np.zeros((4, 3)), fraction=1.5)


# -- common random numbers against fresh noise --------------------------------------------------
SENSITIVITY_METRICS = [max_sensitivity, avg_sensitivity, local_lipschitz, relative_input_stability]


@pytest.mark.parametrize("metric", SENSITIVITY_METRICS, ids=lambda m: m.__name__)
def test_fresh_noise_changes_nothing_for_a_deterministic_explainer(metric):
    X = RNG.normal(size=(5, 3))
    explainer = Gradient(model=Polynomial(degree=3)).fit(X)
    common = metric(explainer, X, n_samples=7, random_state=0)
    fresh = metric(explainer, X, n_samples=7, explainer_noise="fresh", random_state=0)
    np.testing.assert_allclose(fresh, common, rtol=1e-12)


@pytest.mark.parametrize("metric", SENSITIVITY_METRICS, ids=lambda m: m.__name__)
def test_fresh_noise_is_repeatable_and_leaves_the_explainer_alone(metric):
    X = RNG.normal(size=(4, 3))
    explainer = SmoothGrad(model=SumOfSines(), n_samples=5, random_state=3).fit(X)
    first = metric(explainer, X, n_samples=6, explainer_noise="fresh", random_state=1)
    again = metric(explainer, X, n_samples=6, explainer_noise="fresh", random_state=1)
    np.testing.assert_array_equal(first, again)
    assert explainer.random_state == 3
    common = metric(explainer, X, n_samples=6, random_state=1)
    assert not np.allclose(first, common)


def test_fresh_noise_adds_the_explainers_own_variance_in_closed_form():
    # f = sum x^2, SmoothGrad = 2 (x + mean of N noise draws). At zero perturbation common random
    # numbers give exactly 0; fresh noise gives ||2 (e_j - e_0)||^2 with e_j, e_0 independent
    # means of N gaussian draws: expectation 8 d sigma^2 / N.
    d, sigma, N = 3, 0.5, 10
    X = RNG.normal(size=(1, d))
    explainer = SmoothGrad(model=Polynomial(degree=2), noise_scale=sigma, n_samples=N)
    explainer.set_params(random_state=0).fit(X)
    P = np.repeat(X[:, None], 50, axis=1)
    assert avg_sensitivity(explainer, X, perturbations=P)[0] == 0.0
    fresh = [
        avg_sensitivity(explainer, X, perturbations=P, explainer_noise="fresh", random_state=s)[0]
        for s in range(200)
    ]
    np.testing.assert_allclose(np.mean(fresh), 8 * d * sigma**2 / N, rtol=0.1)


def test_fresh_noise_reaches_the_inner_explainer_of_kernel_smoothing():
    X = RNG.normal(size=(2, 3))
    inner = SmoothGrad(noise_scale=0.5, n_samples=4, random_state=0)
    smoothed = KernelSmoothed(inner, model=Polynomial(degree=2), noise_scale=1e-9, n_samples=1)
    smoothed.set_params(random_state=0).fit(X)
    P = np.repeat(X[:, None], 3, axis=1)
    assert np.all(max_sensitivity(smoothed, X, perturbations=P) == 0.0)
    fresh = max_sensitivity(smoothed, X, perturbations=P, explainer_noise="fresh", random_state=0)
    assert np.all(fresh > 0.01)


def test_explainer_noise_must_be_common_or_fresh():
    X = RNG.normal(size=(2, 3))
    explainer = Gradient(model=SumOfSines()).fit(X)
    with pytest.raises(
        ValueError, match="'explainer_noise' parameter of max_sensitivity must be a"
    ):
        max_sensitivity(explainer, X, explainer_noise="new")


# -- kernel smoothing (Yeh et al., section 4) ---------------------------------------------------
def test_kernel_smoothing_gradient_is_smoothgrad_and_lowers_max_sensitivity():
    f, X = Polynomial(degree=3), RNG.normal(size=(8, 3))
    smoothed = KernelSmoothed(Gradient(), model=f, noise_scale=0.5, n_samples=64, random_state=0)
    smoothgrad = SmoothGrad(model=f, noise_scale=0.5, n_samples=64, random_state=0)
    np.testing.assert_allclose(smoothed.fit(X).transform(X), smoothgrad.fit(X).transform(X))
    # Theorem 4.1 in its simplest instance: smoothing VarGrad's wildly varying output of sin
    raw = VarGrad(model=SumOfSines(), noise_scale=1.0, random_state=0).fit(X)
    smooth = KernelSmoothed(raw, noise_scale=1.0, n_samples=64, random_state=1).fit(X)
    sens = {
        name: max_sensitivity(e, X, radius=0.2, random_state=0, relative=False).mean()
        for name, e in [("raw", raw), ("smooth", smooth)]
    }
    assert sens["smooth"] < sens["raw"]


def test_kernel_smoothed_takes_the_model_of_its_explainer_and_needs_one():
    X = RNG.normal(size=(3, 2))
    inner = Gradient(model=SumOfSines())
    smoothed = KernelSmoothed(inner, random_state=0).fit(X)
    assert smoothed.explainer_ is not inner and smoothed.explainer_.model is inner.model
    with pytest.raises(ValueError, match="needs a model"):
        KernelSmoothed(Gradient()).fit(X)
    with pytest.raises(ValueError, match="needs an explainer"):
        KernelSmoothed(model=SumOfSines()).fit(X)


def test_kernel_smoothed_explains_its_own_output_with_an_inner_explainer_without_a_model():
    # KernelSmoothed(Gradient(), output="probability") is SmoothGrad of the probability; its
    # output used to be ignored (the inner Gradient explained the default log-odds).
    from sklearn.linear_model import LogisticRegression

    X = RNG.normal(size=(40, 3))
    clf = LogisticRegression().fit(X, X[:, 0] + 0.3 * X[:, 1] > 0)
    for output in ("probability", "logit"):
        smoothed = KernelSmoothed(
            Gradient(), model=clf, output=output, n_samples=8, random_state=0
        ).fit(X)
        direct = SmoothGrad(model=clf, output=output, n_samples=8, random_state=0).fit(X)
        assert smoothed.explainer_.model_.output == output
        np.testing.assert_allclose(smoothed.transform(X[:5]), direct.transform(X[:5]), rtol=1e-10)


def test_robustness_loss_keeps_its_precision_for_nearly_constant_explanations():
    X = RNG.normal(size=(20, 3))
    W = 1e4 + 1e-6 * RNG.normal(size=(20, 3))  # large common part, tiny differences
    exact = (
        np.exp(-((X[:, None] - X[None]) ** 2).sum(-1) / 2) * ((W[:, None] - W[None]) ** 2).sum(-1)
    ).sum(1)
    np.testing.assert_allclose(robustness_loss(X, W), exact, rtol=1e-8)


def _two_class_cubic():
    """Outputs ``[sum x^3 / 3, sum x^3 / 3 - x_0]``: class 0 iff x_0 > 0; class 0 gradient x^2."""

    def outputs(X):
        cube = (X**3).sum(axis=1) / 3
        return np.stack([cube, cube - X[:, 0]], axis=1)

    def gradient(X):
        second = X**2 - np.eye(X.shape[1])[0]
        return np.stack([X**2, second], axis=1)

    return outputs, gradient


def test_relative_input_stability_keeps_only_copies_with_the_same_prediction_by_default():
    # x = (1, 1) is class 0. Explanations are the gradient of class 0, phi(z) = z^2, so the ratio
    # of a copy z = (z0, 1) is |1 - z0^2| / |1 - z0| = |1 + z0|: 1.5 for z0 = 0.5 (class 0) and
    # 3 for z0 = -4 (class 1). OpenXAI's RIS keeps the copies of the same predicted class.
    outputs, gradient = _two_class_cubic()
    explainer = Gradient(model=as_model(outputs, gradient=gradient)).fit(np.ones((1, 2)))
    X = np.array([[1.0, 1.0]])
    P = np.array([[[0.5, 1.0], [-4.0, 1.0]]])
    np.testing.assert_allclose(relative_input_stability(explainer, X, perturbations=P), [1.5])
    every = relative_input_stability(explainer, X, perturbations=P, same_prediction=False)
    np.testing.assert_allclose(every, [3.0])


def test_scorer_keeps_the_explainers_target():
    # The rows are class 0 (an offset of 10), the explainer explains class 1: the scorer must score
    # the attributions against class 1, as the metric called with target=1 does.
    def outputs(X):
        return np.stack([10.0 + np.sin(X).sum(axis=1), (X**2).sum(axis=1)], axis=1)

    def gradient(X):
        return np.stack([np.cos(X), 2.0 * X], axis=1)

    model = as_model(outputs, gradient=gradient)
    X = RNG.normal(size=(6, 3))
    explainer = SmoothGrad(model=model, target=1, noise_scale=0.3, random_state=0).fit(X)
    W = explainer.transform(X)
    for_class_1 = infidelity(model, X, W, target=1, random_state=0).mean()
    for_class_0 = infidelity(model, X, W, random_state=0).mean()
    assert not np.isclose(for_class_1, for_class_0)
    assert make_explanation_scorer("infidelity")(explainer, X) == pytest.approx(-for_class_1)
