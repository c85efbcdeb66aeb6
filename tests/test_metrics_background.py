"""Masking metrics with background rows as their baseline: the interventional game of Shapley.

A removed feature takes each background row's value in turn and the metric sees the mean
output, ``E_b f(x_kept, b_removed)``, computed by the engine's one masking loop that
ShapleyExplainer also uses. Checked against loops over the background rows written here, the
single-baseline path, pandas frames with categories, and Shapley values' closed forms.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.utils import check_random_state

from skexplain import InfidelityOptimal, ShapleyExplainer
from skexplain.metrics import (
    deletion_auc,
    faithfulness_correlation,
    get_metric,
    infidelity,
    insertion_auc,
    sensitivity_n,
)
from skexplain.perturbations import ShapleySubsets, SquareRemoval, SubsetBaseline
from skexplain.utils import subset_masks

D = 6


def interacting(X):
    """A model with interactions, so that the mean over the background is not f at its mean."""
    return np.tanh(X[:, 0] * X[:, 1]) + X[:, 2] ** 2 - X[:, 3] * X[:, 4] + np.sin(X[:, 5])


def additive(X):
    """A sum of non-linear functions of single features: Shapley values have a closed form."""
    return np.sin(2 * X[:, 0]) + X[:, 1] ** 2 + np.exp(X[:, 2] / 2) + np.abs(X[:, 3]) + X[:, 4]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(7, D))
    A = rng.normal(size=(7, D))
    background = rng.normal(size=(5, D))
    return X, A, background


def _masked_mean(f, x, keep, background):
    """Brute force: mean over the background rows b of f(x on ``keep``, b elsewhere)."""
    return np.mean([f(np.where(keep, x, b)[None])[0] for b in background])


def _curve_brute_force(f, X, A, background, counts, insert):
    out = []
    for x, a in zip(X, A, strict=True):
        order = np.argsort(-a, kind="stable")
        values = []
        for s in counts:
            top = np.zeros(D, dtype=bool)
            top[order[:s]] = True
            values.append(_masked_mean(f, x, top if insert else ~top, background))
        out.append(np.mean(values))
    return np.array(out)


# -- (1) one background row is the single baseline --------------------------------------------
@pytest.mark.parametrize(
    "metric, kwargs",
    [
        (faithfulness_correlation, {"random_state": 0}),
        (sensitivity_n, {"n_features": 2, "random_state": 1}),
        (insertion_auc, {}),
        (deletion_auc, {"fraction": 0.8, "step": 2}),
    ],
)
def test_one_background_row_equals_the_single_baseline_exactly(data, metric, kwargs):
    X, A, background = data
    row = background[0]
    single = metric(interacting, X, A, baseline=row, **kwargs)
    assert np.array_equal(metric(interacting, X, A, baseline=row[None], **kwargs), single)
    # and the single baseline is what it says: the model at x with the removed features at it
    if metric is insertion_auc:
        expected = _curve_brute_force(interacting, X, A, row[None], np.arange(1, 4), True)
        assert np.allclose(single, expected, rtol=0, atol=1e-14)


@pytest.mark.parametrize("perturbation", [SubsetBaseline, ShapleySubsets])
@pytest.mark.parametrize("binary_masks", [False, True])
def test_infidelity_one_background_row_equals_the_single_baseline(data, perturbation, binary_masks):
    # Two paths: the perturbation's copies through query_perturbed, and the masking loop.
    X, A, background = data
    kwargs = {"n_samples": 40, "random_state": 3, "binary_masks": binary_masks}
    single = infidelity(interacting, X, A, perturbation=perturbation(background[1]), **kwargs)
    rows = infidelity(interacting, X, A, perturbation=perturbation(background[1:2]), **kwargs)
    assert np.allclose(rows, single, rtol=1e-13, atol=0)
    quadratic = infidelity(
        interacting,
        X,
        np.stack([A, -A], axis=1),
        perturbation=perturbation(background[1:2]),
        return_quadratic=True,
        **kwargs,
    )
    assert np.allclose(quadratic[:, 0, 0], single, rtol=1e-13, atol=0)


# -- (2) several background rows: the mean over them ------------------------------------------
@pytest.mark.parametrize("insert", [True, False])
@pytest.mark.parametrize("discrete", [False, True])
def test_curves_equal_a_loop_over_the_background_rows(data, insert, discrete):
    X, A, background = data
    if discrete:  # rows and background rows share values: repeated composites are evaluated once
        X, background = np.round(X), np.round(background)
        assert (X[:, None, :] == background[None]).any(axis=2).mean() > 0.5
    metric = insertion_auc if insert else deletion_auc
    got = metric(interacting, X, A, baseline=background, fraction=5 / 6, step=2)
    expected = _curve_brute_force(interacting, X, A, background, [2, 4, 5], insert)
    assert np.allclose(got, expected, rtol=1e-13, atol=1e-14)
    if discrete:
        return
    # not the single baseline at the background's mean (the model is not linear)
    at_mean = metric(interacting, X, A, baseline=background.mean(axis=0), fraction=5 / 6, step=2)
    assert np.abs(got - at_mean).max() > 1e-2


@pytest.mark.parametrize("metric", ["faithfulness_correlation", "sensitivity_n"])
def test_subset_correlations_equal_a_loop_over_the_background_rows(data, metric):
    X, A, background = data
    seed, n_samples = 4, 30
    if metric == "sensitivity_n":
        got = sensitivity_n(
            interacting, X, A, n_features=3, baseline=background, n_samples=n_samples,
            random_state=seed,
        )  # fmt: skip
        size = 3
    else:
        got = faithfulness_correlation(
            interacting, X, A, subset_fraction=0.5, baseline=background, n_samples=n_samples,
            random_state=seed,
        )  # fmt: skip
        size = 3
    # the same subsets: the metric's documented draw, from the same seed
    removed = subset_masks(np.full(n_samples, size), D, check_random_state(seed)) > 0
    for x, a, score in zip(X, A, got, strict=True):
        drops = [
            interacting(x[None])[0] - _masked_mean(interacting, x, ~S, background) for S in removed
        ]
        sums = removed @ a
        assert score == pytest.approx(np.corrcoef(sums, drops)[0, 1], abs=1e-12)


def test_infidelity_with_shapley_subsets_equals_a_loop_over_the_background_rows(data):
    X, A, background = data
    perturbation = ShapleySubsets(baseline=background)
    got = infidelity(
        interacting, X, A, perturbation=perturbation, n_samples=25, random_state=5,
        binary_masks=True,
    )  # fmt: skip
    removed = perturbation.draw(25, D, check_random_state(5))["mask"] > 0
    expected = []
    for x, a in zip(X, A, strict=True):
        fx = interacting(x[None])[0]
        errors = [a[S].sum() - (fx - _masked_mean(interacting, x, ~S, background)) for S in removed]
        expected.append(np.mean(np.square(errors)))
    assert np.allclose(got, expected, rtol=1e-12, atol=0)
    # I = x minus the copy at the background's mean, when not binary
    got = infidelity(interacting, X, A, perturbation=perturbation, n_samples=25, random_state=5)
    mean = background.mean(axis=0)
    expected = []
    for x, a in zip(X, A, strict=True):
        fx = interacting(x[None])[0]
        errors = [
            (S * (x - mean)) @ a - (fx - _masked_mean(interacting, x, ~S, background))
            for S in removed
        ]
        expected.append(np.mean(np.square(errors)))
    assert np.allclose(got, expected, rtol=1e-12, atol=0)


def test_n_background_draws_the_rows_shapley_explainer_draws(data):
    X, A, _ = data
    many = np.random.default_rng(1).normal(size=(40, D))
    drawn = ShapleyExplainer(interacting, n_background=8, random_state=2).fit(many).background_
    sampled = insertion_auc(interacting, X, A, baseline=many, n_background=8, random_state=2)
    assert np.array_equal(sampled, insertion_auc(interacting, X, A, baseline=drawn))
    every = insertion_auc(interacting, X, A, baseline=many, n_background=None)
    assert np.array_equal(every, insertion_auc(interacting, X, A, baseline=many, n_background=40))
    assert not np.allclose(sampled, every)


# -- (4) the metrics of a Shapley explanation with the same background --------------------------
def test_shapley_values_of_an_additive_model_have_correlation_one_with_their_background():
    # For f = sum_j g_j(x_j), phi_j = g_j(x_j) - E_b g_j(b_j), so removing S drops the output by
    # f(x) - E_b f(x_notS, b_S) = sum_{j in S} phi_j: correlation 1 for every subset size.
    rng = np.random.default_rng(2)
    X, background = rng.normal(size=(8, 5)), rng.normal(size=(12, 5))
    explainer = ShapleyExplainer(additive, background=background, method="exact").fit(X)
    phi = explainer.transform(X)
    same = explainer.background_
    for n_features in (1, 2, 3):
        scores = sensitivity_n(
            additive, X, phi, n_features=n_features, baseline=same, n_samples=30, random_state=0
        )
        assert np.allclose(scores, 1.0, rtol=0, atol=1e-12)
    scores = faithfulness_correlation(additive, X, phi, baseline=same, random_state=0)
    assert np.allclose(scores, 1.0, rtol=0, atol=1e-12)
    # Yeh et al. (2019), Prop. 2.5 on this game: the Shapley values have zero infidelity under
    # Shapley subsets with binary masks, when removal is the same expectation.
    shapley_subsets = ShapleySubsets(baseline=same)
    zero = infidelity(
        additive, X, phi, perturbation=shapley_subsets, binary_masks=True, random_state=0
    )
    assert np.allclose(zero, 0.0, rtol=0, atol=1e-24)
    # Against a single baseline (the background's mean) the same values are not exact.
    mean = same.mean(axis=0)
    scores = sensitivity_n(additive, X, phi, n_features=2, baseline=mean, random_state=0)
    assert scores.max() < 1 - 1e-3
    assert (
        infidelity(
            additive, X, phi, perturbation=ShapleySubsets(mean), binary_masks=True, random_state=0
        ).min()
        > 1e-4
    )


# -- (3) frames: a categorical column takes the background row's category ---------------------
def test_penguins_pipeline_masks_categories_to_the_background_rows():
    from _tabular import fitted

    model, frame = fitted("penguins", "logistic")
    rows = frame[frame["island"] == "Biscoe"].iloc[:4]  # only Biscoe among the scored rows
    dream, torgersen = (frame[frame["island"] == name] for name in ("Dream", "Torgersen"))
    background = pd.concat([dream.iloc[[0, 7]], torgersen.iloc[[3]]])  # no Biscoe
    A = np.random.default_rng(3).normal(size=rows.shape)
    target = model.predict_proba(rows).argmax(axis=1)

    def masked_mean(i, keep):  # brute force on the frames themselves
        outputs = []
        for j in range(len(background)):
            copy = rows.iloc[[i]].copy()
            for c, column in enumerate(frame.columns):
                if not keep[c]:
                    copy[column] = background[column].iloc[j]
            outputs.append(model.predict_proba(copy)[0, target[i]])
        return np.mean(outputs)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = deletion_auc(model, rows, A, baseline=background, output="probability", step=2)
        scores = sensitivity_n(
            model, rows, A, n_features=3, baseline=background, n_samples=12,
            output="probability", random_state=0,
        )  # fmt: skip
    d = frame.shape[1]
    counts = [2, 4]  # round(0.5 * 7) = 4 features, 2 at a time
    for i in range(len(rows)):
        order = np.argsort(-A[i], kind="stable")
        values = []
        for s in counts:
            keep = np.ones(d, dtype=bool)
            keep[order[:s]] = False
            values.append(masked_mean(i, keep))
        assert got[i] == pytest.approx(np.mean(values), abs=1e-12)
    removed = subset_masks(np.full(12, 3), d, check_random_state(0)) > 0
    for i in range(len(rows)):
        fx = model.predict_proba(rows.iloc[[i]])[0, target[i]]
        drops = [fx - masked_mean(i, ~S) for S in removed]
        assert scores[i] == pytest.approx(np.corrcoef(removed @ A[i], drops)[0, 1], abs=1e-10)
    # The modes are not the background: the scores differ from the default baseline's.
    default = deletion_auc(model, rows, A, output="probability", step=2)
    assert np.abs(default - got).max() > 1e-3


def test_penguins_infidelity_with_a_frame_of_background_rows():
    from _tabular import fitted

    model, frame = fitted("penguins", "logistic")
    rows, background = frame.iloc[:5], frame.iloc[200:203]
    A = np.random.default_rng(4).normal(size=rows.shape)
    kwargs = {"n_samples": 20, "random_state": 0, "binary_masks": True}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        three = infidelity(model, rows, A, perturbation=SubsetBaseline(background), **kwargs)
        one = infidelity(model, rows, A, perturbation=SubsetBaseline(background[:1]), **kwargs)
    assert np.isfinite(three).all() and np.abs(three - one).max() > 1e-6


def test_a_codec_learned_from_few_rows_also_learns_the_backgrounds_categories():
    from skexplain.utils import ColumnCodec

    rows = pd.DataFrame(
        {"x": [0.0, 1.0], "s": ["b", "b"], "c": pd.Categorical(["u", "u"], ["u", "v"])}
    )
    background = pd.DataFrame({"x": [5.0], "s": ["a"], "c": pd.Categorical(["v"], ["u", "v"])})
    codec = ColumnCodec().fit(rows, also=background)
    assert codec.categories_[1] == ["a", "b"] and codec.categories_[2] == ["u", "v"]
    assert codec.baseline_[0] == 0.5 and codec.scale_[0] == 0.5  # statistics of the rows only
    assert codec.encode(background).tolist() == [[5.0, 0.0, 1.0]]
    with pytest.raises(ValueError, match="categories not seen in fit"):
        ColumnCodec().fit(rows).encode(background)


# -- the rest: torch, errors, the registry -----------------------------------------------------
def test_torch_module_equals_the_same_function_in_numpy(data):
    import torch  # the [torch] extra is in [test]: never skipped

    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(D, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    module = module.double()

    def numpy_model(Z):
        with torch.no_grad():
            return module(torch.as_tensor(Z)).numpy()[:, 0]

    X, A, background = data
    for metric in (insertion_auc, deletion_auc):
        got = metric(module, X, A, baseline=background)
        assert np.allclose(got, metric(numpy_model, X, A, baseline=background), atol=1e-12)
    got = sensitivity_n(module, X, A, n_features=2, baseline=background, random_state=0)
    expected = sensitivity_n(numpy_model, X, A, n_features=2, baseline=background, random_state=0)
    assert np.allclose(got, expected, atol=1e-10)


def test_bad_backgrounds_raise_clear_errors(data):
    X, A, background = data
    with pytest.raises(ValueError, match=r"baseline must be a non-empty 2-D array with 6 columns"):
        insertion_auc(interacting, X, A, baseline=background[:, :4])
    with pytest.raises(ValueError, match="baseline contains NaN"):
        deletion_auc(interacting, X, A, baseline=np.full((2, D), np.nan))
    with pytest.raises(ValueError, match="background rows"):
        sensitivity_n(interacting, X, A, n_features=2, baseline="median")
    with pytest.raises(ValueError, match="not one array"):
        SquareRemoval((2, 3), size=1, baseline=background).sample(X, 2, random_state=0)
    with pytest.raises(ValueError, match="not one array"):
        InfidelityOptimal(interacting, perturbation=SubsetBaseline(background)).fit(X)


def test_the_registry_describes_a_background_in_words(data):
    _, _, background = data
    spec = get_metric("deletion_auc")
    text = spec.describe_perturbation({"baseline": background})
    assert "the values of 5 background rows" in text and "[[" not in text
    text = get_metric("sensitivity_n").describe_perturbation(
        {"baseline": np.zeros((300, D)), "n_background": 50}
    )
    assert "50 background rows" in text
