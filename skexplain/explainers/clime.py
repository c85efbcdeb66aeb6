"""C-LIME: continuous LIME, least squares of the output on gaussian-perturbed inputs."""

import warnings
from numbers import Real

import numpy as np

from .._compat import Interval
from ._noise import NoiseExplainer

__all__ = ["CLIME"]


class CLIME(NoiseExplainer):
    """Continuous LIME of Agarwal et al. (2021): a local linear fit on noisy copies of each row.

    For each row ``x``, ordinary least squares (with an intercept, no weighting kernel, no
    discretization) of ``f(x + eps_s)`` on ``x + eps_s``; the attribution is the slope. With
    ``alpha > 0`` the fit minimizes ``mean_s (f - w.x~ - b)^2 + alpha ||w||^2``, whose expectation
    is ``(Sigma + alpha I)^{-1} Cov(x~, f(x~))`` (Agarwal et al., Appendix D, Lemma 6).

    Every row uses the same noise bank, so the regression's design matrix is shared and the
    slopes of all rows are one matrix product: ``W = Y @ M.T`` with ``M`` computed once.

    Parameters
    ----------
    model : object, default=None
        The model to explain: a torch module, a fitted scikit-learn estimator or a callable.
    noise : {"gaussian", "uniform"}, default="gaussian"
    noise_scale : float, default=0.1
        Standard deviation (gaussian) or radius (uniform) of the noise, in the unit ``units``.
    units : {"std", "raw"}, default="std"
        Unit of ``noise_scale``: the standard deviation of each numeric column in the fitting
        rows (``feature_scale_``), so that one number suits columns of any spread, or the raw
        units of the columns. Categorical columns of a frame are never noised.
    n_samples : int, default=1000
        Noisy copies per row; Agarwal et al. find C-LIME close to SmoothGrad by 100-1000.
        Ordinary least squares needs at least ``n_features + 1`` of them; with fewer (and
        ``alpha=0``) the slope is the minimum-norm one and a warning says so.
    alpha : float, default=0.0
        Ridge penalty on the slopes, on the scale of Appendix D (added to the covariance).
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
    feature_scale_ : ndarray of shape (n_features,)
        Standard deviation of each column in the fitting rows, the unit of ``noise_scale``.
    n_features_in_ : int

    References
    ----------
    Agarwal et al. (2021), Theorem 1 and Appendix D; Ribeiro et al. (2016).

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain import CLIME
    >>> from skexplain.functions import Linear
    >>> X = np.random.default_rng(0).normal(size=(2, 3))
    >>> CLIME(model=Linear([1.0, -2.0, 0.5]), random_state=0).fit(X).transform(X).round(6)
    array([[ 1. , -2. ,  0.5],
           [ 1. , -2. ,  0.5]])
    """

    # What the values are, for displays: local slopes are not additive attributions.
    _values_are = "slopes"

    _parameter_constraints = {
        **NoiseExplainer._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left")],
    }

    _categorical = "occlusion"  # no noise on categories: their slope is a one-hot step

    def __init__(
        self,
        model=None,
        *,
        noise="gaussian",
        noise_scale=0.1,
        units="std",
        n_samples=1000,
        alpha=0.0,
        target=None,
        output="auto",
        random_state=None,
        n_jobs=None,
        verbose=0,
    ):
        super().__init__(model, target=target, output=output)
        self.noise = noise
        self.noise_scale = noise_scale
        self.units = units
        self.n_samples = n_samples
        self.alpha = alpha
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _slope_operator(self, noise):
        """``M`` with ``slopes = M @ y`` for every row: the (ridge) least-squares solution."""
        centered = noise - noise.mean(axis=0)
        m, d = centered.shape
        if self.alpha == 0:
            if m < d + 1:  # centered draws have rank at most m - 1
                warnings.warn(
                    f"C-LIME's least squares is underdetermined: n_samples={m} noisy copies "
                    f"for {d} features and an intercept; the minimum-norm slope is returned, "
                    f"not the local linear fit. Use n_samples >= {d + 1} or alpha > 0.",
                    UserWarning,
                    stacklevel=4,
                )
            return np.linalg.pinv(centered)
        gram = centered.T @ centered / m + self.alpha * np.eye(d)
        return np.linalg.solve(gram, centered.T / m)

    def _explain(self, X, target):
        perturbation, bank = self._noise_bank()
        operator = self.model_.to_native(self._slope_operator(bank["noise"]).T)  # (m, d)
        return self.model_.query_perturbed(
            X,
            target,
            expand=lambda Xc, rows: perturbation.apply(Xc, bank),
            # centred outputs: the slope operator ignores constants (its rows sum to 0), but
            # only in exact arithmetic; f(x) of order 1e300 would leave rounding of 1e285
            reduce=lambda Y, Z, Xc, rows: (Y - Y.mean(axis=1)[:, None]) @ operator,
            n_per_row=self.n_samples,
            kind="predict",
        )
