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
from _tabular import DATASETS, MODELS, fitted
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.ensemble import (
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils import get_tags

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
    explainer = factory(model).set_output(transform="pandas").fit(X)
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
        G = Gradient(model=pipeline).fit(X).transform(rows)
    scaler, mlp = pipeline[0], pipeline[-1]
    Z = (rows.to_numpy() - scaler.mean_) / scaler.scale_
    (W1, W2), (b1, b2) = mlp.coefs_, mlp.intercepts_
    hidden = np.tanh(Z @ W1 + b1)
    p1 = 1.0 / (1.0 + np.exp(-(hidden @ W2 + b2)[:, 0]))
    dp1_dz = (p1 * (1 - p1))[:, None] * (((1 - hidden**2) * W2[:, 0]) @ W1.T)
    sign = np.where(p1 >= 0.5, 1.0, -1.0)[:, None]  # the predicted class: p1, or p0 = 1 - p1
    expected = sign * dp1_dz / scaler.scale_
    np.testing.assert_allclose(G, expected, rtol=1e-6, atol=1e-6 * np.abs(expected).max())
