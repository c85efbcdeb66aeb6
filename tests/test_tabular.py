"""Tabular workflows as users have them (issue 15): DataFrames with string and category columns,
fitted Pipelines, tree models.

Expected values come from outside the code under test: the model's own ``predict_proba`` on a
frame edited by hand, a tanh MLP's gradient written out with numpy, the coefficients of a
linear model on one-hot columns.
"""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import shap  # noqa: F401  (imported before warnings become errors: its import warns)
from _tabular import DATASETS, MODELS, fitted, penguins
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.ensemble import (
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils import get_tags

import skexplain as sx
from skexplain import (
    CLIME,
    Gradient,
    InputXGradient,
    IntegratedGradients,
    KernelShapExplainer,
    LimeExplainer,
    SmoothGrad,
    VarGrad,
)
from skexplain.utils import ColumnCodec

GRADIENT_EXPLAINERS = {
    "Gradient": lambda m: Gradient(model=m),
    "InputXGradient": lambda m: InputXGradient(model=m),
    "SmoothGrad": lambda m: SmoothGrad(model=m, n_samples=8, random_state=0),
    "VarGrad": lambda m: VarGrad(model=m, n_samples=8, random_state=0),
    "IntegratedGradients": lambda m: IntegratedGradients(model=m, n_steps=8),
}
OUTPUT_EXPLAINERS = {
    "CLIME": lambda m: CLIME(model=m, noise_scale=0.5, n_samples=60, random_state=0),
    "KernelShapExplainer": lambda m: KernelShapExplainer(
        model=m, n_background=10, n_samples=100, random_state=0
    ),
    "LimeExplainer": lambda m: LimeExplainer(model=m, n_samples=100, random_state=0),
}
ROWS = [0, 7, 150]


# -- the codec ------------------------------------------------------------------------------------
def _mixed_frame():
    return pd.DataFrame(
        {
            "x": [1.5, -2.0, 0.25, 4.0],
            "n": np.array([3, 1, 2, 2], dtype=np.int64),
            "s": ["b", "a", "c", "a"],
            "flag": [True, False, False, True],
            "c": pd.Categorical(["lo", None, "hi", "lo"], categories=["lo", "mid", "hi"]),
        },
        index=[10, 11, 12, 13],
    )


def test_codec_round_trip_keeps_values_and_dtypes():
    X = _mixed_frame()
    codec = ColumnCodec().fit(X)
    Z = codec.encode(X)
    assert Z.dtype == np.float64 and Z.shape == X.shape
    assert codec.categorical_.tolist() == [False, False, True, True, True]
    back = codec.decode(Z)
    assert list(back.columns) == list(X.columns)
    assert back["s"].tolist() == X["s"].tolist()
    assert back["flag"].dtype == bool and back["flag"].tolist() == X["flag"].tolist()
    assert back["c"].dtype == X["c"].dtype  # the same categories, unseen "mid" included
    assert back["c"].isna().tolist() == X["c"].isna().tolist()
    np.testing.assert_array_equal(back["x"], X["x"])
    # baseline: mean of numbers, most frequent category ("a" for s, code 0)
    assert codec.baseline_[0] == pytest.approx(X["x"].mean())
    assert codec.categories_[2][int(codec.baseline_[2])] == "a"


def test_codec_rounds_and_clips_perturbed_codes():
    X = _mixed_frame()
    codec = ColumnCodec().fit(X)
    Z = codec.encode(X)
    Z[:, 2] = [-3.0, 0.4, 1.6, 9.0]  # noisy codes of s (categories a, b, c)
    assert codec.decode(Z)["s"].tolist() == ["a", "a", "c", "c"]


def test_codec_rejects_unseen_categories_and_columns():
    codec = ColumnCodec().fit(_mixed_frame())
    other = _mixed_frame()
    other.loc[10, "s"] = "zebra"
    with pytest.raises(ValueError, match="column 's' holds categories not seen in fit"):
        codec.encode(other)
    with pytest.raises(ValueError, match="feature names should match"):
        codec.encode(_mixed_frame().drop(columns="x"))


# -- one attribution per raw column, no warning ----------------------------------------------------
def _applicable(model_name):
    explainers = dict(OUTPUT_EXPLAINERS)
    if model_name in ("logistic", "mlp"):
        explainers.update(GRADIENT_EXPLAINERS)
    return explainers


CASES = [
    (dataset, model, explainer)
    for dataset in DATASETS
    for model in MODELS
    for explainer in _applicable(model)
]


@pytest.mark.parametrize(("dataset", "model_name", "explainer_name"), CASES)
def test_frames_in_raw_columns_out_without_warnings(dataset, model_name, explainer_name):
    model, X = fitted(dataset, model_name)
    explainer = _applicable(model_name)[explainer_name](model)
    rows = X.iloc[ROWS]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explainer.set_output(transform="pandas").fit(X.iloc[:60])
        A = explainer.transform(rows)
    assert isinstance(A, pd.DataFrame)
    assert list(A.columns) == list(X.columns)
    assert A.index.equals(rows.index)
    assert np.isfinite(A.to_numpy()).all()
    assert np.abs(A.to_numpy()).sum() > 0


@pytest.mark.parametrize("explainer_name", list(GRADIENT_EXPLAINERS) + ["CLIME"])
def test_categorical_columns_get_the_occlusion_of_their_category(explainer_name):
    """A category's attribution is f(x) - f(x with the column's most frequent category)."""
    model, X = fitted("penguins", "logistic")
    factory = {**GRADIENT_EXPLAINERS, **OUTPUT_EXPLAINERS}[explainer_name]
    explainer = factory(model).set_params(output="probability")
    explainer.set_output(transform="pandas").fit(X)
    rows = X.iloc[ROWS]
    A = explainer.transform(rows)
    classes = list(model.classes_)
    predicted = [classes.index(c) for c in model.predict(rows)]
    at_x = model.predict_proba(rows)[np.arange(len(ROWS)), predicted]
    for column in ("island", "sex"):
        edited = rows.copy()
        edited[column] = X[column].mode()[0]
        at_mode = model.predict_proba(edited)[np.arange(len(ROWS)), predicted]
        np.testing.assert_allclose(A[column], at_x - at_mode, atol=1e-12)
    assert (A[["island", "sex"]] != 0).any().any()


# -- tree models refuse gradients ------------------------------------------------------------------
def _tree_models():
    import lightgbm
    import xgboost

    return {
        "DecisionTreeClassifier": DecisionTreeClassifier(random_state=0),
        "RandomForestClassifier": RandomForestClassifier(n_estimators=5, random_state=0),
        "ExtraTreesClassifier": ExtraTreesClassifier(n_estimators=5, random_state=0),
        "GradientBoostingClassifier": GradientBoostingClassifier(n_estimators=5),
        "HistGradientBoostingClassifier": HistGradientBoostingClassifier(max_iter=5),
        "KNeighborsClassifier": KNeighborsClassifier(),
        "XGBClassifier": xgboost.XGBClassifier(n_estimators=5, max_depth=2),
        "LGBMClassifier": lightgbm.LGBMClassifier(n_estimators=5, verbose=-1),
    }


@pytest.mark.parametrize("tree_name", list(_tree_models()))
@pytest.mark.parametrize("explainer_name", list(GRADIENT_EXPLAINERS))
def test_gradient_explainers_refuse_piecewise_constant_models(tree_name, explainer_name):
    X, y = load_iris(return_X_y=True)
    model = make_pipeline(StandardScaler(), _tree_models()[tree_name]).fit(X, y)
    explainer = GRADIENT_EXPLAINERS[explainer_name](model)
    message = (
        f"{explainer_name} needs gradients, but Pipeline (its {tree_name} step) is piecewise "
        "constant"
    )
    with pytest.raises(ValueError, match=re.escape(message)) as error:
        explainer.fit(X)
    for alternative in ("ShapleyExplainer", "KernelShapExplainer", "LimeExplainer", "CLIME"):
        assert alternative in str(error.value)


def test_vanishing_finite_difference_gradients_raise():
    def staircase(X):
        return np.floor(X).sum(axis=1)

    X = np.random.default_rng(0).uniform(0.1, 0.9, size=(5, 3))
    with pytest.raises(ValueError, match="finite-difference gradients of CallableModel vanish"):
        Gradient(model=staircase).fit(X).transform(X)


def test_explainers_declare_their_needs_in_tags():
    assert get_tags(Gradient()).explainer.requires_gradient
    assert get_tags(IntegratedGradients()).explainer.requires_gradient
    assert get_tags(SmoothGrad()).explainer.requires_gradient
    for explainer in (CLIME(), KernelShapExplainer(), LimeExplainer()):
        tags = get_tags(explainer).explainer
        assert not tags.requires_gradient and tags.model_agnostic
    assert get_tags(Gradient()).explainer.categorical == "occlusion"
    assert get_tags(KernelShapExplainer()).explainer.categorical == "native"


# -- gradients through the pipeline ---------------------------------------------------------------
def test_mlp_pipeline_gradient_is_the_chain_rule_through_the_scaler():
    data = load_breast_cancer(as_frame=True)
    X, y = data.data, data.target
    pipeline = make_pipeline(
        StandardScaler(),
        MLPClassifier(hidden_layer_sizes=(8,), activation="tanh", max_iter=50, random_state=0),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline.fit(X, y)
    rows = X.iloc[:5]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        G = Gradient(model=pipeline, output="probability").fit(X).transform(rows)
    scaler, mlp = pipeline[0], pipeline[-1]
    Z = (rows.to_numpy() - scaler.mean_) / scaler.scale_
    (W1, W2), (b1, b2) = mlp.coefs_, mlp.intercepts_
    hidden = np.tanh(Z @ W1 + b1)
    p1 = 1.0 / (1.0 + np.exp(-(hidden @ W2 + b2)[:, 0]))
    dp1_dz = (p1 * (1 - p1))[:, None] * (((1 - hidden**2) * W2[:, 0]) @ W1.T)
    sign = np.where(p1 >= 0.5, 1.0, -1.0)[:, None]  # the predicted class: p1, or p0 = 1 - p1
    expected = sign * dp1_dz / scaler.scale_
    np.testing.assert_allclose(G, expected, rtol=1e-6, atol=1e-6 * np.abs(expected).max())


# -- units ----------------------------------------------------------------------------------------
def _breast_cancer_pipeline():
    X, y = load_breast_cancer(return_X_y=True)
    pipeline = make_pipeline(
        StandardScaler(),
        MLPClassifier(hidden_layer_sizes=(8,), activation="tanh", max_iter=50, random_state=0),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline.fit(X, y)
    return X, pipeline


def test_noise_scale_is_in_standard_deviations_of_each_column():
    """SmoothGrad(0.1) on raw columns = the same on standardized ones, up to the column scale."""
    X, pipeline = _breast_cancer_pipeline()
    scaler, net = pipeline[0], pipeline[-1]
    Z = scaler.transform(X)
    rows = slice(0, 4)
    raw = SmoothGrad(model=pipeline, noise_scale=0.1, n_samples=20, random_state=0).fit(X)
    standardized = SmoothGrad(model=net, noise_scale=0.1, n_samples=20, random_state=0).fit(Z)
    np.testing.assert_allclose(raw.feature_scale_, scaler.scale_)
    np.testing.assert_allclose(standardized.feature_scale_, 1.0)
    W_raw, W_std = raw.transform(X[rows]), standardized.transform(Z[rows])
    # d/dx = d/dz / scale: raw attributions times the scale are the standardized ones ...
    np.testing.assert_allclose(W_raw * scaler.scale_, W_std, rtol=1e-5, atol=1e-8)
    # ... and the standardized ones divided by it are the raw ones
    np.testing.assert_allclose(W_std / scaler.scale_, W_raw, rtol=1e-5, atol=1e-8)
    # raw units on request: on standardized columns they are the same unit
    raw_units = SmoothGrad(model=net, noise_scale=0.1, n_samples=20, units="raw", random_state=0)
    np.testing.assert_allclose(raw_units.fit(Z).transform(Z[rows]), W_std, rtol=1e-7)


def test_raw_units_on_request_differ_from_standard_deviations():
    """Issue 15: 0.1 raw units is 38 standard deviations of one column, none of another."""
    X, pipeline = _breast_cancer_pipeline()
    rows = slice(0, 4)
    default = SmoothGrad(model=pipeline, n_samples=20, random_state=0).fit(X)
    raw = SmoothGrad(model=pipeline, n_samples=20, units="raw", random_state=0).fit(X)
    noise_default = default._perturbation().scale
    np.testing.assert_allclose(raw._perturbation().scale, 0.1)
    np.testing.assert_allclose(noise_default, 0.1 * X.std(axis=0))
    assert not np.allclose(raw.transform(X[rows]), default.transform(X[rows]), rtol=1e-2)


def test_metric_radius_is_in_standard_deviations():
    """Metrics on raw columns = on standardized ones: radius and noise are in std units."""
    from skexplain.metrics import infidelity, max_sensitivity

    X, pipeline = _breast_cancer_pipeline()
    scaler, net = pipeline[0], pipeline[-1]
    Z = scaler.transform(X)
    rows = slice(0, 4)

    class PerStandardDeviation(Gradient):  # the gradient per standard deviation of a column
        def _explain(self, X, target):
            return super()._explain(X, target) * self.feature_scale_

    raw = Gradient(model=pipeline).fit(X)
    standardized = Gradient(model=net).fit(Z)
    ms_raw = max_sensitivity(PerStandardDeviation(model=pipeline).fit(X), X[rows], random_state=0)
    ms_std = max_sensitivity(standardized, Z[rows], random_state=0)
    np.testing.assert_allclose(ms_raw, ms_std, rtol=1e-4)
    W_raw, W_std = raw.transform(X[rows]), standardized.transform(Z[rows])
    inf_raw = infidelity(raw.model_, X[rows], W_raw, random_state=0)
    inf_std = infidelity(standardized.model_, Z[rows], W_std, random_state=0)
    np.testing.assert_allclose(inf_raw, inf_std, rtol=1e-4)


# -- targets and outputs --------------------------------------------------------------------------
def _wine_with_names():
    from sklearn.datasets import load_wine

    data = load_wine()
    labels = np.array(["barolo", "grignolino", "barbera"])[data.target]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(
        data.data, labels
    )
    return data.data, labels, model


def test_target_is_a_class_label_or_one_per_row():
    X, labels, model = _wine_with_names()
    barolo = list(model.classes_).index("barolo")
    by_label = Gradient(model=model, target="barolo").fit(X).transform(X[:5])
    by_index = Gradient(model=model, target=barolo).fit(X).transform(X[:5])
    np.testing.assert_array_equal(by_label, by_index)
    explainer = Gradient(model=model).fit(X)
    rows = [0, 70, 150]  # one of each class
    per_row = explainer.explain(X[rows], target=labels[rows])
    for i, row in enumerate(rows):
        alone = Gradient(model=model, target=labels[row]).fit(X).transform(X[[row]])
        np.testing.assert_array_equal(per_row[i], alone[0])
    with pytest.raises(ValueError, match=r"target \['merlot'\] not among the model's classes"):
        Gradient(model=model, target="merlot").fit(X).transform(X[:1])


def test_default_output_is_the_log_odds_of_the_class():
    X, labels, model = _wine_with_names()
    rows = X[:4]
    P = model.predict_proba(rows)
    k = P.argmax(axis=1)
    expected = np.log(P[np.arange(4), k]) - np.log(1 - P[np.arange(4), k])
    adapter = Gradient(model=model).fit(X).model_
    assert adapter.output == "logit"
    np.testing.assert_allclose(adapter.predict(rows, k), expected, rtol=1e-9)
    probability = Gradient(model=model, output="probability").fit(X).model_
    np.testing.assert_allclose(probability.predict(rows, k), P[np.arange(4), k])


def test_per_row_targets_and_outputs_through_metrics_and_scorers():
    from skexplain.metrics import deletion_auc, infidelity, make_explanation_scorer

    X, labels, model = _wine_with_names()
    rows = [0, 70, 150]
    explainer = Gradient(model=model).fit(X)
    A = explainer.explain(X[rows], target=labels[rows])
    adapter = explainer.model_  # noise in the standard deviations of the fitting rows
    per_row = infidelity(adapter, X[rows], A, target=labels[rows], random_state=0)
    for i, row in enumerate(rows):
        alone = infidelity(adapter, X[[row]], A[[i]], target=labels[row], random_state=0)
        np.testing.assert_allclose(per_row[i], alone[0])
    on_probabilities = deletion_auc(model, X[rows], A, target=labels[rows], output="probability")
    assert np.all((on_probabilities >= 0) & (on_probabilities <= 1))
    scorer = make_explanation_scorer("infidelity", target="y", n_samples=10)
    score_true = scorer(explainer, X[rows], labels[rows])
    expected = -np.mean(
        infidelity(explainer.model_, X[rows], A, target=labels[rows], n_samples=10, random_state=0)
    )
    assert score_true == pytest.approx(expected)


def test_multi_output_regressor_without_target_raises():
    from sklearn.linear_model import LinearRegression

    X = np.random.default_rng(0).normal(size=(20, 3))
    model = LinearRegression().fit(X, np.c_[X[:, 0], X[:, 1] - X[:, 2]])
    with pytest.raises(ValueError, match="2 outputs and is not a classifier"):
        Gradient(model=model).fit(X).transform(X[:2])
    np.testing.assert_allclose(
        Gradient(model=model, target=1).fit(X).transform(X[:1]), [[0.0, 1.0, -1.0]], atol=1e-9
    )


def test_cli_report_on_a_confident_user_model_matches_the_bundled_scale(tmp_path):
    """Issue 15: the CLI explained log-probabilities, and a saturated MLPClassifier's gradients
    are ~0 at x, so relative max-sensitivity was 2e5. With the package's default output (the
    log-odds) the user's model scores on the bundled model's scale. Absolute max-sensitivity is
    in attribution units (per raw unit here, per standard deviation for the bundled model), so
    the scale-free relative form is compared.
    """
    import io

    import joblib

    from skexplain._cli import _bundled, report
    from skexplain.metrics import max_sensitivity
    from skexplain.models import as_model

    data = load_breast_cancer(as_frame=True)
    confident = make_pipeline(
        StandardScaler(), MLPClassifier(hidden_layer_sizes=(64,), max_iter=3000, random_state=0)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        confident.fit(data.data, data.target)
    assert np.mean(confident.predict_proba(data.data).max(axis=1) > 1 - 1e-6) > 0.2  # saturated
    joblib.dump(confident, tmp_path / "model.joblib")
    data.data.iloc[:10].to_csv(tmp_path / "rows.csv", index=False)
    out = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the model fitted on a frame warns about nothing
        report(
            [
                "--model",
                str(tmp_path / "model.joblib"),
                "--data",
                str(tmp_path / "rows.csv"),
                "--explainers",
                "Gradient",
                "--metrics",
                "max_sensitivity",
                "--rows",
                "10",
                "--out",
                str(tmp_path / "user.html"),
                "--quiet",
            ],
            file=out,
        )
    assert "explaining its logit output" in out.getvalue()
    rows = data.data.to_numpy()[:10]
    user = Gradient(model=as_model(confident)).fit(data.data.to_numpy())  # what the CLI builds
    bundled_model, bundled_rows, _, _ = _bundled("breast_cancer", 0)
    bundled = Gradient(model=bundled_model).fit(bundled_rows)
    scores = [
        max_sensitivity(e, r, relative=True, random_state=0).mean()
        for e, r in ((user, rows), (bundled, bundled_rows[:10]))
    ]
    assert 0.1 < scores[0] / scores[1] < 10, scores
    saturated = Gradient(model=as_model(confident, output="log_probability"))
    saturated.fit(data.data.to_numpy())
    old = max_sensitivity(saturated, rows, relative=True, random_state=0).mean()
    assert old > 3 * scores[0]  # the log-probability's gradients vanish at saturated rows


# -- masking metrics and Shapley values on raw columns ---------------------------------------------
def test_masked_attribution_of_a_category_is_its_coefficient_minus_the_background_average():
    """Linear model on one-hot columns: phi(island) = w[island(x)] - mean_b w[island(b)]."""
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LinearRegression
    from sklearn.preprocessing import OneHotEncoder

    from skexplain import ShapleyExplainer

    X, _ = DATASETS["penguins"]()
    X = X[["island", "sex", "bill_length_mm", "flipper_length_mm"]]
    y = (
        X["bill_length_mm"] * 0.3
        + np.where(X["island"] == "Dream", 2.0, 0.0)
        - 1.0 * (X["sex"] == "male")
    )
    encoder = make_column_transformer((OneHotEncoder(), ["island", "sex"]), remainder="passthrough")
    model = make_pipeline(encoder, LinearRegression()).fit(X, y)
    onehot = model[0].named_transformers_["onehotencoder"]
    coef = dict(
        zip(
            onehot.get_feature_names_out(),
            model[-1].coef_[: len(onehot.get_feature_names_out())],
            strict=True,
        )
    )
    background = X.iloc[:40]
    rows = X.iloc[[0, 100, 200, 300]]
    expected = np.array([coef[f"island_{v}"] for v in rows["island"]]) - np.mean(
        [coef[f"island_{v}"] for v in background["island"]]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        shapley = ShapleyExplainer(model=model, method="exact").set_output(transform="pandas")
        phi = shapley.fit(background).transform(rows)
        kernel = KernelShapExplainer(model=model, n_background=40, random_state=0)
        phi_shap = kernel.set_output(transform="pandas").fit(background).transform(rows)
    np.testing.assert_allclose(phi["island"], expected, atol=1e-9)
    np.testing.assert_allclose(phi_shap["island"], expected, atol=1e-6)


@pytest.mark.parametrize("model_name", MODELS)
def test_masking_metrics_run_on_frames(model_name):
    from skexplain import ShapleyExplainer
    from skexplain.metrics import (
        deletion_auc,
        faithfulness_correlation,
        infidelity,
        insertion_auc,
    )
    from skexplain.perturbations import ShapleySubsets, SubsetBaseline

    model, X = fitted("penguins", model_name)
    rows = X.iloc[ROWS]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explainer = ShapleyExplainer(model=model, n_background=20, random_state=0).fit(X)
        A = explainer.transform(rows)
        adapter = explainer.model_
        scores = {
            "infidelity (Shapley subsets)": infidelity(
                adapter,
                rows,
                A,
                perturbation=ShapleySubsets(),
                binary_masks=True,
                n_samples=20,
                random_state=0,
            ),
            "infidelity (20% masks)": infidelity(
                adapter,
                rows,
                A,
                perturbation=SubsetBaseline(baseline=0.0),
                n_samples=20,
                random_state=0,
            ),
            "insertion": insertion_auc(adapter, rows, A, baseline="mean"),
            "deletion": deletion_auc(adapter, rows, A, baseline="mean"),
            "faithfulness": faithfulness_correlation(
                model, rows, A, baseline="mean", n_samples=20, random_state=0
            ),
        }
    for name, values in scores.items():
        assert values.shape == (len(ROWS),), name
        assert np.isfinite(values).all() or name == "faithfulness", name


# -- polars frames ---------------------------------------------------------------------------------
@pytest.mark.parametrize("explainer_name", ["SmoothGrad", "ShapleyExplainer", "CLIME"])
def test_polars_frames_give_the_pandas_attributions(explainer_name):
    # A pipeline fitted on a polars frame is explained in its raw columns, to the same values as
    # the same pipeline fitted on the pandas frame, and set_output("polars") names the columns.
    import polars as pl  # a test dependency (pyproject [test])

    X, y = penguins()
    X_pl = pl.from_pandas(X)

    def pipeline(frame):
        # named columns: sklearn's make_column_selector takes pandas frames only
        strings = ["island", "sex"]
        numbers = [c for c in X.columns if c not in strings]
        encode = make_column_transformer((StandardScaler(), numbers), (OneHotEncoder(), strings))
        return make_pipeline(encode, LogisticRegression(max_iter=2000)).fit(frame, y)

    explainer = getattr(sx, explainer_name)
    options = dict(random_state=0, n_samples=32)
    if explainer_name == "ShapleyExplainer":
        options.update(n_background=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = explainer(model=pipeline(X_pl), **options).set_output(transform="polars")
        A = ours.fit(X_pl).transform(X_pl[:7])
        reference = explainer(model=pipeline(X), **options).fit(X).transform(X.iloc[:7])
    assert isinstance(A, pl.DataFrame)
    assert A.columns == list(X.columns)
    np.testing.assert_allclose(A.to_numpy(), reference, rtol=1e-9, atol=1e-12)
    assert np.abs(reference).sum() > 0
    scores = sx.metrics.infidelity(pipeline(X_pl), X_pl[:7], A.to_numpy(), random_state=0)
    assert scores.shape == (7,) and np.isfinite(scores).all()
