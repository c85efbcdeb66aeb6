"""The model form of the explanation scorers: explanation quality beside accuracy in
``cross_validate(model, ...)``, equal fold by fold to scoring the explainer directly."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skexplain import Gradient, SmoothGrad
from skexplain.metrics import ModelExplanationScorer, make_explanation_scorer
from skexplain.training import IDExpOClassifier

torch.set_num_threads(1)


def _data(n=90, d=6):
    X, y = load_breast_cancer(return_X_y=True)
    return X[:n, :d], y[:n]


def _scored_directly(result, X, y, cv, metric, explainer, **kwargs):
    """The explainer form, by hand: each fold's fitted model explained on its test rows."""
    scorer = make_explanation_scorer(metric, **kwargs)
    scores = []
    for model, (_, test) in zip(result["estimator"], cv.split(X, y), strict=True):
        fitted = explainer.set_params(model=model).fit(X[test])
        scores.append(scorer(fitted, X[test]))
    return np.array(scores)


@pytest.mark.parametrize(
    "model",
    [
        make_pipeline(StandardScaler(), LogisticRegression()),
        IDExpOClassifier(
            hidden_layer_sizes=(8,),
            pretrain_epochs=20,
            pretrain_learning_rate=0.01,
            finetune_epochs=0,
            random_state=0,
        ),
    ],
    ids=["pipeline", "torch"],
)
def test_cross_validate_a_model_with_accuracy_and_infidelity(model):
    X, y = _data()
    if isinstance(model, IDExpOClassifier):
        X = StandardScaler().fit_transform(X)
    cv = StratifiedKFold(3)
    explainer = SmoothGrad(noise_scale=0.1, n_samples=8, random_state=0)
    scoring = {
        "accuracy": "accuracy",
        "infidelity": make_explanation_scorer("infidelity", n_samples=16, explainer=explainer),
        "sensitivity": make_explanation_scorer("max_sensitivity", n_samples=3, explainer=explainer),
    }
    result = cross_validate(model, X, y, scoring=scoring, cv=cv, return_estimator=True)
    assert np.all(result["test_accuracy"] > 0.6)
    assert np.all(np.isfinite(result["test_infidelity"])) and np.all(result["test_infidelity"] < 0)
    for metric, kwargs in (("infidelity", {"n_samples": 16}), ("sensitivity", {"n_samples": 3})):
        name = "max_sensitivity" if metric == "sensitivity" else metric
        expected = _scored_directly(result, X, y, cv, name, explainer, **kwargs)
        np.testing.assert_allclose(result[f"test_{metric}"], expected, rtol=1e-12)


def test_the_template_explainer_is_not_touched_and_the_repr_names_it():
    X, y = _data()
    model = LogisticRegression().fit(X, y)
    template = Gradient()
    scorer = make_explanation_scorer("complexity", explainer=template)
    assert isinstance(scorer, ModelExplanationScorer)
    assert repr(scorer) == "make_explanation_scorer('neg_complexity', explainer=Gradient())"
    score = scorer(model, X)
    assert template.model is None and not hasattr(template, "model_")
    np.testing.assert_allclose(
        score, -np.abs(Gradient(model=model).fit(X).transform(X)).sum(1).mean()
    )


def test_the_explainer_must_be_a_skexplain_explainer():
    with pytest.raises(TypeError, match="explainer must be an unfitted skexplain explainer"):
        make_explanation_scorer("infidelity", explainer=LogisticRegression())
