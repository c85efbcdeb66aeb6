"""The infidelity-optimal explanation of Yeh et al. (2019, Prop. 2.1)."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from .._compat import Interval, StrOptions
from ..base import BaseExplainer
from ..perturbations import GaussianNoise, Perturbation, check_perturbation

__all__ = ["InfidelityOptimal"]


class InfidelityOptimal(BaseExplainer):
    """The explanation with the least infidelity for a perturbation distribution.

    ``phi* = E[I I^T]^{-1} E[I (f(x) - f(x - I))]`` (Yeh et al. 2019, Prop. 2.1): the least-squares
    regression, without intercept, of the output changes on the perturbations ``I = x - x~``,
    estimated on ``n_samples`` draws shared by every row and solved for all rows at once. With
    ``alpha = 0`` a pseudo-inverse handles singular ``E[I I^T]`` (e.g. a feature equal to its
    baseline under a mask perturbation); ``alpha > 0`` adds a ridge ``alpha I``.

    On the same draws (same ``perturbation``, ``n_samples`` and ``random_state``),
    :func:`skexplain.metrics.infidelity` of this explanation is no larger than that of any other.

    Parameters
    ----------
    model : object, default=None
        The model to explain: a torch module, a fitted scikit-learn estimator or a callable.
    perturbation : Perturbation or str, default=None
        The distribution of ``x~``; None means ``GaussianNoise(scale=0.1)``, the default of
        :func:`skexplain.metrics.infidelity`. Yeh et al.'s choices: ``NoisyBaseline``,
        ``SquareRemoval``, ``ShapleySubsets`` (whose optimum times ``x - baseline`` is the Shapley
        value, Prop. 2.5).
    n_samples : int, default=1000
        Draws per row.
    alpha : float, default=0.0
        Ridge added to ``E[I I^T]``.
    units : {"std", "raw"}, default="std"
        Unit of the perturbation's noise scale or radius: each numeric column's standard
        deviation in the fitting rows, or raw units. Masks given a scalar baseline replace a
        categorical column of a frame by its most frequent category.
    target : "predicted", int, label or None, default=None
        Output to explain: None or "predicted" explains a single output, or each row's
        predicted class; an int is an output index; any other value is a class label of the
        model's ``classes_`` (``target="barolo"``). :meth:`explain` takes one target per row.
    output : str, default="auto"
        The model output explained, passed to :func:`skexplain.models.as_model`: "auto" (the
        package default: a classifier's log-odds ``"logit"``, which does not saturate, a
        regressor's prediction, a torch module's raw output), "logit", "probability",
        "log_probability", "decision_function" or "predict".
    random_state : int, RandomState instance or None, default=None
        Seed of the noise draws; an int makes ``transform`` repeatable.
    n_jobs : int or None, default=None
        Parallel jobs over chunks of rows (joblib, so a Dask or Ray cluster through
        ``joblib.parallel_config``); the attributions equal those of ``n_jobs=1``.
    verbose : int, default=0
        Show a progress bar over the chunks of rows when positive.

    Attributes
    ----------
    model_ : ModelAdapter
    perturbation_ : Perturbation
        The perturbation in the columns' units.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain import InfidelityOptimal
    >>> from skexplain.functions import Linear
    >>> X = np.ones((2, 3))
    >>> InfidelityOptimal(model=Linear([1.0, -2.0, 3.0]), n_samples=50,
    ...                   random_state=0).fit(X).transform(X).round(6)
    array([[ 1., -2.,  3.],
           [ 1., -2.,  3.]])
    """

    _parameter_constraints = {
        **BaseExplainer._parameter_constraints,
        "perturbation": [None, Perturbation, str],
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "units": [StrOptions({"std", "raw"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        model=None,
        *,
        perturbation=None,
        n_samples=1000,
        alpha=0.0,
        units="std",
        target=None,
        output="auto",
        random_state=None,
        n_jobs=None,
        verbose=0,
    ):
        super().__init__(model, target=target, output=output)
        self.perturbation = perturbation
        self.n_samples = n_samples
        self.alpha = alpha
        self.units = units
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _fit(self, X):
        perturbation = GaussianNoise(scale=0.1) if self.perturbation is None else self.perturbation
        self.perturbation_ = check_perturbation(perturbation).for_columns(self.codec_, self.units)
        # Draw and apply once now so that bad perturbation settings (or a masking baseline of
        # background rows, whose copies are no one array) fail in fit, not in transform.
        self.perturbation_.sample(X[:1], 1, 0)

    def _explain(self, X, target):
        model = self.model_
        rng = check_random_state(self.random_state)
        bank = self.perturbation_.draw(self.n_samples, X.shape[1], rng)
        fx = model.predict(X, target)
        d = X.shape[1]

        def reduce(V, Z, Xc, rows):
            I = model.to_numpy(Xc)[:, None, :] - model.to_numpy(Z)  # (c, m, d)
            change = fx[rows][:, None] - model.to_numpy(V)  # (c, m)
            gram = I.swapaxes(1, 2) @ I / self.n_samples  # BLAS, not einsum: much faster
            moment = (I.swapaxes(1, 2) @ change[:, :, None])[:, :, 0] / self.n_samples
            if self.alpha > 0:
                return np.linalg.solve(gram + self.alpha * np.eye(d), moment[..., None])[..., 0]
            return (np.linalg.pinv(gram, hermitian=True) @ moment[..., None])[..., 0]

        return model.query_perturbed(
            X,
            target,
            lambda Xc, rows: self.perturbation_.apply(Xc, bank),
            reduce,
            n_per_row=self.n_samples,
            kind="predict",
        )
