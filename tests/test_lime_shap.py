"""LimeExplainer and KernelShapExplainer return what the reference lime and shap packages return."""

import pickle
import sys

import numpy as np
import pytest
from _oracles import brute_force_shapley
from joblib import parallel_config
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from skexplain import KernelShapExplainer, LimeExplainer, as_model
from skexplain.functions import Linear, QuadraticInteraction, SumOfSines

lime_tabular = pytest.importorskip("lime.lime_tabular")
shap = pytest.importorskip("shap")


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return X, LogisticRegression(max_iter=2000).fit(X, y)


@pytest.fixture(scope="module")
def wine():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return X, LogisticRegression(max_iter=2000).fit(X, y)


def _dense(pairs, d):
    w = np.zeros(d)
    for j, value in pairs:
        w[j] = value
    return w


# -- (a) LIME: lime's classification mode on predict_proba, run directly --------------------------


def _direct_lime(X_train, clf, rows, labels, seed, n_samples, num_features=None, **options):
    """lime as its users call it: a new explainer seeded with `seed` for every row."""
    d = X_train.shape[1]
    out = []
    for x, t in zip(rows, labels, strict=True):
        explainer = lime_tabular.LimeTabularExplainer(
            X_train, mode="classification", random_state=seed, **options
        )
        explanation = explainer.explain_instance(
            x,
            clf.predict_proba,
            labels=(t,),
            num_features=d if num_features is None else num_features,
            num_samples=n_samples,
        )
        out.append(_dense(explanation.local_exp[t], d))
    return np.array(out)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"discretize_continuous": False},
        {"kernel_width": 2.0},
        {"feature_selection": "highest_weights", "max_features": 5},
    ],
)
def test_lime_equals_lime_classification_mode(cancer, options):
    X, clf = cancer
    rows = X[[0, 20, 300]]
    lime = LimeExplainer(clf, n_samples=500, output="probability", random_state=7, **options)
    W = lime.fit(X).transform(rows)

    lime_options = {"feature_selection": "none", **options}
    num_features = lime_options.pop("max_features", None)
    labels = clf.predict(rows)  # target=None explains the predicted class
    expected = _direct_lime(X, clf, rows, labels, 7, 500, num_features, **lime_options)
    np.testing.assert_allclose(W, expected, rtol=0, atol=1e-10)
    assert np.count_nonzero(W, axis=1).max() <= options.get("max_features", X.shape[1])


def test_lime_fixed_target_on_multiclass(wine):
    X, clf = wine
    rows = X[[0, 80, 170]]  # one row of each class: the explained class is not the predicted one
    lime = LimeExplainer(clf, n_samples=400, target=2, output="probability", random_state=1)
    W = lime.fit(X).transform(rows)
    expected = _direct_lime(X, clf, rows, [2, 2, 2], 1, 400, feature_selection="none")
    np.testing.assert_allclose(W, expected, rtol=0, atol=1e-10)


# -- (b) KernelSHAP: shap.KernelExplainer run directly --------------------------------------------


@pytest.mark.parametrize("l1_reg", [False, "num_features(5)"])
def test_kernel_shap_equals_shap(wine, l1_reg):
    X, clf = wine
    rows = X[[3, 90, 150]]
    explainer = KernelShapExplainer(
        clf, n_samples=150, l1_reg=l1_reg, n_background=15, output="probability", random_state=11
    ).fit(X)
    W = explainer.transform(rows)

    background = shap.kmeans(X, 15)  # more rows than n_background: the weighted k-means summary
    np.testing.assert_array_equal(explainer.background_, background.data)
    np.testing.assert_allclose(explainer.background_weights_, background.weights)
    expected = []
    for x, t in zip(rows, clf.predict(rows), strict=True):
        direct = shap.KernelExplainer(lambda Z, t=t: clf.predict_proba(Z)[:, t], background)
        np.random.seed(11)  # noqa: NPY002 (shap draws from the global state)
        expected.append(direct.shap_values(x[None], nsamples=150, l1_reg=l1_reg, silent=True)[0])
    np.testing.assert_allclose(W, np.array(expected), rtol=0, atol=1e-10)
    if l1_reg:
        assert np.count_nonzero(W, axis=1).max() <= 5


def test_kernel_shap_small_data_is_its_own_background():
    X = np.random.RandomState(0).normal(size=(6, 3))
    explainer = KernelShapExplainer(SumOfSines(), n_background=6).fit(X)
    np.testing.assert_array_equal(explainer.background_, X)
    np.testing.assert_allclose(explainer.background_weights_, np.full(6, 1 / 6))


# -- (c) KernelSHAP with every coalition enumerated is the exact Shapley value ---------------------


_exact_shapley = brute_force_shapley


@pytest.mark.parametrize("n_samples", ["auto", 14])  # 2**4 - 2 = 14 coalitions
def test_kernel_shap_enumerated_is_exact_shapley(n_samples):
    rng = np.random.RandomState(3)
    background, rows = rng.normal(size=(5, 4)), rng.normal(size=(3, 4))
    f = QuadraticInteraction()  # pairwise interactions: attributions are not just per feature
    W = KernelShapExplainer(as_model(f), n_samples=n_samples).fit(background).transform(rows)

    expected = np.array([_exact_shapley(f, x, background) for x in rows])
    np.testing.assert_allclose(W, expected, rtol=0, atol=1e-10)
    # efficiency: the attributions share out f(x) - E_background f
    np.testing.assert_allclose(W.sum(axis=1), f(rows) - f(background).mean(), atol=1e-10)


def test_kernel_shap_efficiency_with_weighted_background():
    rng = np.random.RandomState(4)
    X, rows = rng.normal(size=(60, 5)), rng.normal(size=(2, 5))
    f = QuadraticInteraction()
    explainer = KernelShapExplainer(f, n_samples=40, n_background=8, random_state=0).fit(X)
    W = explainer.transform(rows)
    baseline = explainer.background_weights_ @ f(explainer.background_)
    np.testing.assert_allclose(W.sum(axis=1), f(rows) - baseline, atol=1e-10)


def test_kernel_shap_default_estimates_every_feature():
    # 12 features, coalitions sampled: for a linear model the regression is still exact, and with
    # l1_reg=False all 12 features get phi_j = coef_j (x_j - mean_j), where shap's own default
    # "num_features(10)" would zero at least two of them.
    rng = np.random.RandomState(5)
    coef = np.arange(1.0, 13.0)
    X, rows = rng.normal(size=(10, 12)), rng.normal(size=(2, 12))
    W = KernelShapExplainer(Linear(coef), n_samples=200, random_state=0).fit(X).transform(rows)
    np.testing.assert_allclose(W, coef * (rows - X.mean(axis=0)), atol=1e-9)


# -- (d) reproducible, and a row's answer independent of the batch ---------------------------------


def _explainers():
    return [
        LimeExplainer(SumOfSines(), n_samples=300, random_state=0),
        # 20 of the 2**5 - 2 = 30 coalitions: sampled, so the seed matters
        KernelShapExplainer(SumOfSines(), n_samples=20, n_background=10, random_state=0),
    ]


@pytest.mark.parametrize("explainer", _explainers(), ids=lambda e: type(e).__name__)
def test_repeatable_and_row_subset_invariant(explainer):
    X = np.random.RandomState(1).normal(size=(30, 5))
    rows = X[:6]
    explainer.fit(X)
    W = explainer.transform(rows)
    np.testing.assert_array_equal(explainer.transform(rows), W)
    np.testing.assert_array_equal(explainer.transform(rows[2:3]), W[2:3])
    np.testing.assert_array_equal(explainer.transform(rows[::-1]), W[::-1])
    # a RandomState instance: one seed per call, still shared by all rows of the call
    explainer.set_params(random_state=np.random.RandomState(0))
    W2 = explainer.transform(np.vstack([rows[1], rows[1]]))
    np.testing.assert_array_equal(W2[0], W2[1])


@pytest.mark.parametrize("explainer", _explainers(), ids=lambda e: type(e).__name__)
def test_parallel_rows_equal_serial_rows(explainer):
    X = np.random.RandomState(2).normal(size=(30, 5))
    rows = X[:5]
    W = explainer.fit(X).transform(rows)
    with parallel_config(backend="threading"):  # loky's process start-up would dominate here
        parallel = explainer.set_params(n_jobs=2, verbose=1).transform(rows)
        # a process backend pickles the fitted explainer: it must survive that
        unpickled = pickle.loads(pickle.dumps(explainer)).transform(rows)
    np.testing.assert_array_equal(parallel, W)
    np.testing.assert_array_equal(unpickled, W)


def test_kernel_shap_restores_numpy_global_state():
    X = np.random.RandomState(0).normal(size=(8, 3))
    explainer = KernelShapExplainer(SumOfSines(), n_samples=4, random_state=0).fit(X)
    np.random.seed(123)  # noqa: NPY002 (the global state is what is under test)
    expected = np.random.rand(3)  # noqa: NPY002
    np.random.seed(123)  # noqa: NPY002
    explainer.transform(X[:2])
    np.testing.assert_array_equal(np.random.rand(3), expected)  # noqa: NPY002


# -- (e) bad input -------------------------------------------------------------------------------


X_SMALL = np.random.RandomState(0).normal(size=(10, 3))


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"n_samples": 0}, ValueError, "n_samples"),
        ({"n_samples": 2.5}, ValueError, "n_samples"),
        ({"kernel_width": -1.0}, ValueError, "kernel_width"),
        ({"feature_selection": "lasso"}, ValueError, "feature_selection"),
        ({"max_features": 0}, ValueError, "max_features"),
        ({"discretize_continuous": "yes"}, ValueError, "discretize_continuous"),
    ],
)
def test_lime_bad_parameters(params, error, match):
    with pytest.raises(error, match=match):
        LimeExplainer(SumOfSines(), **params).fit(X_SMALL)


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"n_samples": 0}, ValueError, "n_samples"),
        ({"n_samples": "many"}, ValueError, "n_samples"),
        ({"link": "probit"}, ValueError, "link"),
        ({"l1_reg": None}, TypeError, "l1_reg"),
        ({"l1_reg": [10]}, TypeError, "l1_reg"),
        ({"l1_reg": True}, ValueError, "l1_reg=True is ambiguous"),
        ({"l1_reg": "num_features(ten)"}, ValueError, "num_features"),
        ({"l1_reg": "num_features(0)"}, ValueError, "num_features"),
        ({"l1_reg": -0.1}, ValueError, "l1_reg"),
        ({"n_background": 0}, ValueError, "n_background"),
    ],
)
def test_kernel_shap_bad_parameters(params, error, match):
    with pytest.raises(error, match=match):
        KernelShapExplainer(SumOfSines(), **params).fit(X_SMALL)


@pytest.mark.parametrize(
    "cls, modules, package",
    [
        (LimeExplainer, ["lime", "lime.lime_tabular"], "lime"),
        (KernelShapExplainer, ["shap"], "shap"),
    ],
)
def test_missing_package_says_how_to_install(monkeypatch, cls, modules, package):
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)  # makes `import name` raise ImportError
    with pytest.raises(ImportError, match=rf'pip install "skexplain\[{package}\]"'):
        cls(SumOfSines()).fit(X_SMALL)


def test_reference_wrappers_call_the_model_once_per_row_not_per_chunk():
    """shap hands all 2,108 x 100 coalition rows of a row at once: they reach the model in one
    call (the adapter's 8,192-row chunks made 26 of them)."""
    X = np.random.default_rng(0).normal(size=(150, 30))
    calls = []

    def model(Z):
        calls.append(len(Z))
        return np.tanh(Z @ np.linspace(-1, 1, 30))

    for explainer, most in (
        (KernelShapExplainer(model, n_background=100, random_state=0), 2),
        (LimeExplainer(model, n_samples=20_000, random_state=0), 1),
    ):
        explainer.fit(X)
        calls.clear()
        explainer.transform(X[:4])
        per_row = [c for c in calls if c > 4 * 100]  # leave out f(x), f(background), the target
        assert len(per_row) <= most * 4, (type(explainer).__name__, calls)
        assert max(calls) > 8192
