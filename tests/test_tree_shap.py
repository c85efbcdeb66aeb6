"""TreeShapExplainer against shap's TreeExplainer and against exact Shapley values of the model."""

import warnings

import numpy as np
import pytest
from sklearn import ensemble, tree
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from skexplain import ShapleyExplainer, TreeShapExplainer

shap = pytest.importorskip("shap")
xgboost = pytest.importorskip("xgboost")
lightgbm = pytest.importorskip("lightgbm")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    y_reg = X[:, 0] * X[:, 1] + np.sin(X[:, 2]) + 0.3 * X[:, 3]
    y_bin = (y_reg > 0.2).astype(int)
    y_multi = np.digitize(y_reg, [-0.5, 0.7])
    return X, y_reg, y_bin, y_multi


def _margin(model):
    """The raw output TreeSHAP explains, as a function of the rows."""
    name = type(model).__name__
    if name.startswith("XGB"):
        return lambda Z: model.predict(Z, output_margin=True)
    if name.startswith("LGBM"):
        return lambda Z: model.predict(Z, raw_score=True)
    if hasattr(model, "decision_function") and not name.startswith(("RandomForest", "ExtraTrees")):
        return model.decision_function
    if hasattr(model, "predict_proba"):
        return model.predict_proba
    return model.predict


MODELS = {
    "decision_tree_regressor": (lambda: tree.DecisionTreeRegressor(max_depth=4), "reg"),
    "decision_tree_classifier": (lambda: tree.DecisionTreeClassifier(max_depth=4), "multi"),
    "random_forest_regressor": (
        lambda: ensemble.RandomForestRegressor(n_estimators=8, max_depth=4, random_state=0),
        "reg",
    ),
    "random_forest_classifier": (
        lambda: ensemble.RandomForestClassifier(n_estimators=8, max_depth=4, random_state=0),
        "multi",
    ),
    "extra_trees_regressor": (
        lambda: ensemble.ExtraTreesRegressor(n_estimators=8, max_depth=4, random_state=0),
        "reg",
    ),
    "gradient_boosting_regressor": (
        lambda: ensemble.GradientBoostingRegressor(n_estimators=20, random_state=0),
        "reg",
    ),
    "gradient_boosting_classifier": (
        lambda: ensemble.GradientBoostingClassifier(n_estimators=20, random_state=0),
        "bin",
    ),
    "hist_gradient_boosting_regressor": (
        lambda: ensemble.HistGradientBoostingRegressor(max_iter=20, max_depth=4),
        "reg",
    ),
    "hist_gradient_boosting_classifier": (
        lambda: ensemble.HistGradientBoostingClassifier(max_iter=20, max_depth=4),
        "bin",
    ),
    "xgb_regressor": (lambda: xgboost.XGBRegressor(n_estimators=20, max_depth=3), "reg"),
    "xgb_classifier": (lambda: xgboost.XGBClassifier(n_estimators=20, max_depth=3), "bin"),
    "xgb_multiclass": (lambda: xgboost.XGBClassifier(n_estimators=10, max_depth=3), "multi"),
    "lgbm_regressor": (
        lambda: lightgbm.LGBMRegressor(n_estimators=20, num_leaves=8, verbose=-1),
        "reg",
    ),
    "lgbm_classifier": (
        lambda: lightgbm.LGBMClassifier(n_estimators=20, num_leaves=8, verbose=-1),
        "bin",
    ),
}


def _fitted(name, data):
    X, y_reg, y_bin, y_multi = data
    make, kind = MODELS[name]
    return make().fit(X, {"reg": y_reg, "bin": y_bin, "multi": y_multi}[kind]), kind


def _explained_margin(model, kind, target, Z):
    out = np.asarray(_margin(model)(Z), dtype=np.float64)
    if out.ndim == 1:
        return out if kind != "bin" else np.where(target == 0, -out, out)
    return out[np.arange(len(Z)), target]


_SHAP_HGB_BUG = pytest.mark.xfail(
    strict=True,
    reason="shap 0.51's interventional TreeSHAP on HistGradientBoosting misses the exact "
    "Shapley values by up to 0.03 (max_depth=4, 20 iterations) and breaks efficiency by up to "
    "0.04 (unlimited depth); fine at max_depth=2; path-dependent is additive (shap#3267); "
    "TreeShapExplainer warns with the residual",
)
INTERVENTIONAL = [
    pytest.param(name, marks=_SHAP_HGB_BUG) if name.startswith("hist") else name
    for name in sorted(MODELS)
]


@pytest.mark.parametrize("name", INTERVENTIONAL)
def test_interventional_equals_exact_shapley_of_the_raw_output(name, data):
    """An independent oracle: ShapleyExplainer's exact enumeration of the same game."""
    X = data[0]
    model, kind = _fitted(name, data)
    explainer = TreeShapExplainer(model, n_background=15, random_state=0).fit(X)
    phi = explainer.transform(X[:6])
    target = None if kind == "reg" else model.predict_proba(X[:6]).argmax(axis=1)
    for t in [None] if target is None else sorted(set(target)):
        rows = slice(None) if t is None else target == t

        def f(Z, t=t):
            return _explained_margin(model, kind, np.full(len(Z), t), Z)

        exact = ShapleyExplainer(f, background=explainer.background_, method="exact").fit(X)
        np.testing.assert_allclose(phi[rows], exact.transform(X[:6][rows]), atol=1e-6)
    # efficiency on the raw output
    t = np.zeros(6, dtype=int) if target is None else target
    base = explainer.expected_value_[t]
    total = _explained_margin(model, kind, t, X[:6]) - base
    np.testing.assert_allclose(phi.sum(axis=1), total, atol=1e-6)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_path_dependent_equals_shaps_tree_explainer(name, data):
    X = data[0]
    model, kind = _fitted(name, data)
    explainer = TreeShapExplainer(model, feature_perturbation="tree_path_dependent").fit(X)
    if name.startswith(("xgb", "lgbm")):
        assert explainer.algorithm_ == "native"
    phi = explainer.transform(X[:8])
    reference = np.asarray(
        shap.TreeExplainer(model, feature_perturbation="tree_path_dependent").shap_values(X[:8])
    )
    if kind == "reg":
        expected = reference
    else:
        target = model.predict_proba(X[:8]).argmax(axis=1)
        if reference.ndim == 2:
            expected = np.where((target == 0)[:, None], -reference, reference)
        else:
            expected = reference[np.arange(8), :, target]
    np.testing.assert_allclose(phi, expected, atol=1e-6)


def test_native_and_shap_algorithms_agree(data):
    X = data[0]
    model, _ = _fitted("lgbm_classifier", data)
    params = dict(feature_perturbation="tree_path_dependent", target=1)
    native = TreeShapExplainer(model, algorithm="native", **params).fit(X)
    via_shap = TreeShapExplainer(model, algorithm="shap", **params).fit(X)
    np.testing.assert_allclose(native.transform(X[:20]), via_shap.transform(X[:20]), atol=1e-6)
    np.testing.assert_allclose(native.expected_value_, via_shap.expected_value_, atol=1e-6)


def test_probability_output_is_efficient(data):
    X, _, y_bin, _ = data
    model = ensemble.GradientBoostingClassifier(n_estimators=20, random_state=0).fit(X, y_bin)
    explainer = TreeShapExplainer(model, output="probability", n_background=20, random_state=0)
    phi = explainer.fit(X).transform(X[:10])
    proba = model.predict_proba(X[:10])
    target = proba.argmax(axis=1)
    total = proba[np.arange(10), target] - explainer.expected_value_[target]
    np.testing.assert_allclose(phi.sum(axis=1), total, atol=1e-6)


@pytest.fixture(scope="module")
def mixed():
    """Two categorical columns as integer codes (3 and 4 levels) and three numeric columns."""
    rng = np.random.default_rng(1)
    n = 400
    X = np.column_stack(
        [rng.integers(0, 3, n), rng.normal(size=n), rng.integers(0, 4, n), rng.normal(size=(n, 2))]
    ).astype(np.float64)
    y = (X[:, 0] == 1) * 1.5 + X[:, 1] * (X[:, 2] >= 2) + np.sin(X[:, 3]) + 0.1 * X[:, 4]
    return X, y


def test_pipeline_values_are_summed_per_raw_column(mixed):
    X, y = mixed
    encode = ColumnTransformer(
        [("categories", OneHotEncoder(), [0, 2]), ("numbers", StandardScaler(), [1, 3])],
        remainder="passthrough",
    )
    model = ensemble.GradientBoostingRegressor(n_estimators=30, random_state=0)
    pipeline = make_pipeline(encode, model)
    pipeline.fit(X, y)
    explainer = TreeShapExplainer(pipeline, n_background=25, random_state=0).fit(X)
    phi = explainer.transform(X[:10])
    assert phi.shape == (10, 5)
    assert explainer.column_map_.shape == (5, 3 + 4 + 2 + 1)
    np.testing.assert_array_equal(explainer.column_map_.sum(axis=0), 1)  # a partition
    np.testing.assert_array_equal(explainer.column_map_.sum(axis=1), [3, 1, 4, 1, 1])
    # the raw-column values sum to the same efficiency total as the encoded ones
    encoded = shap.TreeExplainer(
        pipeline[-1], data=pipeline[:-1].transform(explainer.background_)
    ).shap_values(pipeline[:-1].transform(X[:10]))
    np.testing.assert_allclose(phi.sum(axis=1), encoded.sum(axis=1), atol=1e-8)
    total = pipeline.predict(X[:10]) - explainer.expected_value_[0]
    np.testing.assert_allclose(phi.sum(axis=1), total, atol=1e-6)
    # the numeric columns, one encoded column each, keep their own Shapley values
    np.testing.assert_allclose(phi[:, [1, 3]], encoded[:, [7, 8]], atol=1e-10)


def test_one_to_one_pipeline_gives_the_raw_columns_exact_shapley_values(mixed):
    X, y = mixed
    encode = ColumnTransformer(
        [("codes", OrdinalEncoder(), [0, 2]), ("numbers", StandardScaler(), [1, 3, 4])]
    )
    model = ensemble.GradientBoostingRegressor(n_estimators=30, random_state=0)
    pipeline = make_pipeline(encode, model).fit(X, y)
    explainer = TreeShapExplainer(pipeline, n_background=12, random_state=0).fit(X)
    exact = ShapleyExplainer(pipeline.predict, background=explainer.background_, method="exact")
    np.testing.assert_allclose(explainer.transform(X[:5]), exact.fit(X).transform(X[:5]), atol=1e-6)


def test_shaps_interventional_failure_on_deep_trees_is_reported(data):
    """shap#3267: interventional TreeSHAP breaks efficiency on deep trees; we warn with the
    residual instead of returning wrong values silently."""
    X, y_reg, _, _ = data
    model = ensemble.HistGradientBoostingRegressor(max_iter=20, max_depth=None).fit(X, y_reg)
    explainer = TreeShapExplainer(model, n_background=15, random_state=0).fit(X)
    with pytest.warns(RuntimeWarning, match="efficiency fails; shap issue #3267"):
        explainer.transform(X[:6])


def test_categorical_splits_are_refused(mixed):
    X, y = mixed
    model = ensemble.HistGradientBoostingRegressor(max_iter=5, categorical_features=[0, 2])
    with pytest.raises(ValueError, match="ignores the categorical splits"):
        TreeShapExplainer(model.fit(X, y)).fit(X)


def test_non_tree_models_are_refused_with_a_pointer(data):
    X, _, y_bin, _ = data
    model = LogisticRegression().fit(X, y_bin)
    with pytest.raises(TypeError, match="got LogisticRegression: use ShapleyExplainer"):
        TreeShapExplainer(model).fit(X)
    with pytest.raises(TypeError, match="use ShapleyExplainer"):
        TreeShapExplainer(make_pipeline(StandardScaler(), model)).fit(X)


def test_column_mixing_preprocessing_is_refused(data):
    X, y_reg, _, _ = data
    pipeline = make_pipeline(PCA(n_components=3), tree.DecisionTreeRegressor(max_depth=3))
    with pytest.raises(ValueError, match="cannot map the 3 output columns of PCA"):
        TreeShapExplainer(pipeline.fit(X, y_reg)).fit(X)


def test_bad_combinations_raise(data):
    X, y_reg, _, _ = data
    model = tree.DecisionTreeRegressor(max_depth=3).fit(X, y_reg)
    with pytest.raises(ValueError, match="algorithm='native' needs an XGBoost or LightGBM"):
        TreeShapExplainer(model, algorithm="native").fit(X)
    with pytest.raises(ValueError, match="output='probability' needs"):
        TreeShapExplainer(
            model, output="probability", feature_perturbation="tree_path_dependent"
        ).fit(X)


def test_penguins_frame_with_string_columns_is_explained_per_raw_column():
    """A DataFrame with string columns, a pipeline that one-hot encodes them by name: both
    explainers return one value per raw column, with the same efficiency total."""
    pd = pytest.importorskip("pandas")
    from palmerpenguins import load_penguins  # a test dependency: never skipped

    penguins = load_penguins().dropna()
    y = penguins.pop("body_mass_g").to_numpy()
    X = penguins[["species", "island", "sex", "bill_length_mm", "flipper_length_mm"]]
    X = X.iloc[::-1]  # the rows in another order than the fit's; the columns as fitted
    encode = ColumnTransformer(
        [("categories", OneHotEncoder(), ["species", "island", "sex"])], remainder="passthrough"
    )
    model = ensemble.GradientBoostingRegressor(n_estimators=30, max_depth=3, random_state=0)
    pipeline = make_pipeline(encode, model).fit(X, y)
    explainer = TreeShapExplainer(pipeline, n_background=10, random_state=0).fit(X)
    phi = explainer.transform(X.iloc[:4])
    assert phi.shape == (4, 5)
    np.testing.assert_array_equal(explainer.column_map_.sum(axis=1), [3, 3, 2, 1, 1])
    total = pipeline.predict(X.iloc[:4]) - explainer.expected_value_[0]
    np.testing.assert_allclose(phi.sum(axis=1), total, atol=1e-6)
    background = pd.DataFrame(explainer.codec_.decode(explainer.background_))
    shapley = ShapleyExplainer(pipeline, background=background, method="exact").fit(X)
    values = shapley.transform(X.iloc[:4])
    np.testing.assert_allclose(values.sum(axis=1), total, atol=1e-6)


@pytest.mark.parametrize(
    ("name", "params", "output"),
    [
        ("random_forest_classifier", {}, "probability"),  # a forest's raw output: its votes
        ("gradient_boosting_classifier", {}, "logit"),  # binary: the margin is the log-odds
        ("gradient_boosting_classifier", {"output": "probability"}, "probability"),
        ("decision_tree_classifier", {}, "probability"),
    ],
)
def test_the_adapter_gives_the_output_the_values_explain(name, params, output, data):
    """Metrics, displays and the predicted class read ``model_``: it must be the explained
    output, so that each row's values sum to ``model_.predict`` minus the base value."""
    from skexplain.display import explained_outputs

    X = data[0]
    model, _ = _fitted(name, data)
    explainer = TreeShapExplainer(model, n_background=15, random_state=0, **params).fit(X)
    assert explainer.model_.output == output
    phi = explainer.transform(X[:8])
    outputs, base = explained_outputs(explainer, X[:8])
    np.testing.assert_allclose(phi.sum(axis=1), outputs - base, atol=1e-6)


def test_multiclass_boosting_is_explained_through_its_decision_function(data):
    X, _, _, y_multi = data
    # shap reads multi-class HistGradientBoosting (not GradientBoosting), additively with the
    # path-dependent game (its interventional values miss the output here, #3267)
    model = ensemble.HistGradientBoostingClassifier(max_iter=10, max_depth=3).fit(X, y_multi)
    explainer = TreeShapExplainer(model, feature_perturbation="tree_path_dependent").fit(X)
    assert explainer.model_.output == "decision_function"
    phi = explainer.transform(X[:8])
    target = model.predict_proba(X[:8]).argmax(axis=1)
    margin = model.decision_function(X[:8])[np.arange(8), target]
    np.testing.assert_allclose(
        phi.sum(axis=1), margin - explainer.expected_value_[target], atol=1e-6
    )


def test_deep_forest_values_add_up_as_the_trees_compare_in_float32():
    """scikit-learn's trees compare float32 values with float32 thresholds; shap compared the
    float64 values, so a value within rounding of a threshold went the other way and a default
    (deep) forest's values missed its output by 1e-4 on most rows (warned as shap#3267)."""
    from palmerpenguins import load_penguins  # a test dependency: never skipped

    penguins = load_penguins().dropna()
    y = penguins.pop("species").to_numpy()
    encode = ColumnTransformer(
        [("categories", OneHotEncoder(), ["island", "sex"])], remainder="passthrough"
    )
    forest = make_pipeline(encode, ensemble.RandomForestClassifier(100, random_state=0))
    forest.fit(penguins, y)
    rows = penguins.iloc[:60]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # the additivity check stays silent
        explainer = TreeShapExplainer(forest, random_state=0).fit(penguins)
        phi = explainer.transform(rows)
    proba = forest.predict_proba(rows)
    target = proba.argmax(axis=1)
    total = proba[np.arange(60), target] - explainer.expected_value_[target]
    np.testing.assert_allclose(phi.sum(axis=1), total, rtol=0, atol=1e-6)
