"""The model form of an explanation scorer: explain a fitted model, then score the explanations.

``cross_validate(model, X, y, scoring=...)`` calls each scorer with the fold's fitted *model*.
An explanation metric needs an explainer; this scorer clones the one it was given onto the
model, fits it on the scored rows and scores it with the explainer form of the same metric, so
that explanation quality sits beside accuracy in a model-validation report.
"""

from sklearn.base import clone

__all__ = ["ModelExplanationScorer"]


class ModelExplanationScorer:
    """Score a fitted model by the explanations that ``explainer`` gives of it.

    Build one with ``make_explanation_scorer(metric, explainer=...)``. Called with
    ``(model, X, y=None)``, it clones ``explainer``, sets the clone's ``model`` to ``model`` (a
    fitted estimator, Pipeline or torch-backed classifier), fits it on ``X`` and returns
    ``scorer(clone, X)``: exactly the score of that explainer, fitted on those rows, under the
    explainer form of the scorer.

    Parameters
    ----------
    scorer : ExplanationScorer
        The explainer form of the metric.
    explainer : BaseExplainer
        The unfitted explainer template; its ``model`` is replaced on every call.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from skexplain import Gradient
    >>> from skexplain.metrics import make_explanation_scorer
    >>> X = np.random.default_rng(0).normal(size=(20, 3))
    >>> model = LinearRegression().fit(X, X @ [1.0, 2.0, 0.0])
    >>> scorer = make_explanation_scorer("complexity", explainer=Gradient())
    >>> scorer
    make_explanation_scorer('neg_complexity', explainer=Gradient())
    >>> round(scorer(model, X), 6)  # the gradient is (1, 2, 0): L1 norm 3, negated
    -3.0
    """

    def __init__(self, scorer, explainer):
        self.scorer = scorer
        self.explainer = explainer

    @property
    def _sign(self):
        return self.scorer.sign

    def __repr__(self):
        inner = repr(self.scorer)
        return f"{inner[:-1]}, explainer={self.explainer!r})"

    def __call__(self, model, X, y=None):
        explainer = clone(self.explainer)
        explainer.set_params(model=model)
        return self.scorer(explainer.fit(X), X)
