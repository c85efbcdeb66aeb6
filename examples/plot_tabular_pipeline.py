"""Tabular workflow: a mixed-type DataFrame, a fitted Pipeline, attributions per raw column.

What a data scientist brings: the penguins table (``palmerpenguins``; two string columns, island
and sex, five numeric ones) and a scikit-learn ``Pipeline`` whose ``ColumnTransformer`` scales
the numbers and one-hot encodes the strings before a ``LogisticRegression``, fitted on the
DataFrame itself. skexplain takes that frame and that pipeline as they are:

1. every explainer returns one attribution per *raw* column (island is one column, however many
   one-hot columns the encoder makes), and ``set_output(transform="pandas")`` names them and keeps
   the frame's index; the model is always queried with a frame of its own columns and dtypes, so
   no feature-name warning fires;
2. noise scales are in standard deviations of each numeric column (``body_mass_g`` has a standard
   deviation of 800 g, ``bill_depth_mm`` of 2 mm: one number suits both);
3. categories have no gradient: gradient explainers give a category the output change of its
   one-hot step from the column's most frequent category (occlusion), Shapley values treat it
   as one player;
4. the explained output is, by default, the predicted class's log-odds (``output="auto"``), which
   does not saturate as a probability does; ``target`` takes a class label or, through
   ``explain(X, target=y)``, each row's true label;
5. a tree model (HistGradientBoosting with native categorical support) has no useful gradient:
   gradient explainers refuse it with an error that names the alternatives, and
   :class:`~skexplain.ShapleyExplainer` explains it;
6. an explanation scorer tunes C-LIME's noise scale in ``GridSearchCV``, and
   :func:`skexplain.report.evaluate_explainers` / :class:`~skexplain.report.ExplanationReport`
   write the validation report (``--out``, default ``tabular-report.html``).

Run ``python examples/plot_tabular_pipeline.py`` (about 20 seconds on two CPU cores).
"""

import argparse
import time
import warnings

import numpy as np
from palmerpenguins import load_penguins
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skexplain import CLIME, IntegratedGradients, ShapleyExplainer, SmoothGrad
from skexplain.metrics import make_explanation_scorer
from skexplain.report import ExplanationReport, evaluate_explainers


def load():
    """The penguins frame (rows with missing values dropped) and the species."""
    frame = load_penguins().dropna().reset_index(drop=True)
    return frame.drop(columns="species"), frame["species"].astype(str).to_numpy()


def pipeline():
    """Scale the numeric columns, one-hot encode the strings, then a logistic regression."""
    encoder = make_column_transformer(
        (StandardScaler(), make_column_selector(dtype_include="number")),
        (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_exclude="number")),
    )
    return make_pipeline(encoder, LogisticRegression(max_iter=2000))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20, help="rows explained")
    parser.add_argument("--out", default="tabular-report.html")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    X, y = load()
    model = pipeline().fit(X, y)
    rows = X.sample(args.rows, random_state=0)

    # 1-4: raw columns in, raw columns out, with no warning from the model
    explainers = {
        "SmoothGrad": SmoothGrad(model=model, noise_scale=0.1, random_state=0),
        "IntegratedGradients": IntegratedGradients(
            model=model,
            baseline=X.mean(numeric_only=True).reindex(X.columns).fillna(0.0).to_numpy(),
        ),
        "Shapley": ShapleyExplainer(model=model, n_background=50, random_state=0),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a feature-name warning would fail here
        for name, explainer in explainers.items():
            explainer.set_output(transform="pandas").fit(X)
            attributions = explainer.transform(rows.iloc[:3])
            print(f"\n{name} (explaining the log-odds of the predicted species):")
            print(attributions.round(3).to_string())
    smooth = explainers["SmoothGrad"]
    numeric = [X.columns.get_loc(c) for c in X.select_dtypes("number").columns]
    noise = smooth.noise_scale * smooth.feature_scale_[numeric]  # categories are never noised
    print(
        "\nSmoothGrad's noise per numeric column:",
        dict(zip(X.columns[numeric], noise.round(3), strict=True)),
    )
    true_label = smooth.explain(rows.iloc[:3], target=y[rows.index[:3]])
    print("\nSmoothGrad for each row's true species:\n", true_label.round(3).to_string())
    gentoo = SmoothGrad(model=model, target="Gentoo", random_state=0).fit(X)
    print("\nSmoothGrad for the label 'Gentoo':\n", gentoo.transform(rows.iloc[:1]).round(3))

    # 5: a tree model, with native categorical support
    categories = X.astype({"island": "category", "sex": "category"})
    trees = HistGradientBoostingClassifier(categorical_features="from_dtype", max_iter=50)
    trees.fit(categories, y)
    try:
        SmoothGrad(model=trees).fit(categories)
    except ValueError as error:
        print(f"\nSmoothGrad on a tree model: {error}")
    shapley = ShapleyExplainer(model=trees, n_background=30, random_state=0)
    shapley.set_output(transform="pandas").fit(categories)
    print(
        "\nShapley values of the trees:\n",
        shapley.transform(categories.loc[rows.index[:3]]).round(3).to_string(),
    )

    # 6: a scorer in GridSearchCV, then the validation report
    search = GridSearchCV(
        CLIME(model=model, n_samples=200, random_state=0),
        {"noise_scale": [0.05, 0.3, 1.0]},
        scoring=make_explanation_scorer("infidelity", n_samples=20),
        cv=3,
    ).fit(rows)
    print(f"\nC-LIME noise scale chosen by infidelity: {search.best_params_}")
    explainers["C-LIME (tuned)"] = search.best_estimator_
    results, attributions = evaluate_explainers(
        {name: e for name, e in explainers.items() if name != "IntegratedGradients"},
        rows,
        {
            "infidelity": ("infidelity", {"normalize": True}),
            "faithfulness_correlation": ("faithfulness_correlation", {"baseline": "mean"}),
            "insertion_auc": ("insertion_auc", {"baseline": "mean"}),
            "deletion_auc": ("deletion_auc", {"baseline": "mean"}),
        },
        random_state=0,
        return_attributions=True,
    )
    print("\n" + results.xs("mean", axis=1, level=1).round(4).to_string())
    ExplanationReport(
        results,
        {name: np.asarray(A) for name, A in attributions.items()},
        feature_names=list(X.columns),
        title="Penguins: explanations of a mixed-type pipeline",
    ).to_html(args.out)
    print(f"\nwrote {args.out} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
