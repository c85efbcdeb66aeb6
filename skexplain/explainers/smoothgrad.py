"""SmoothGrad and VarGrad: statistics of the gradient over noisy copies of each row."""

from ._noise import NoiseExplainer

__all__ = ["SmoothGrad", "VarGrad"]


class SmoothGrad(NoiseExplainer):
    """Average the model's gradient over noisy copies of each row.

    In expectation this is ``Sigma^{-1} Cov(x~, f(x~))`` for gaussian noise, the same as
    :class:`CLIME` (Agarwal et al. 2021, Theorem 1).

    Parameters
    ----------
    model : object, default=None
        The model to explain: a torch module, a fitted scikit-learn estimator or a callable.
    noise : {"gaussian", "uniform"}, default="gaussian"
        Gaussian noise, or uniform noise in a euclidean ball (Tadesse et al. 2024, eq. 17).
    noise_scale : float, default=0.1
        Standard deviation (gaussian) or radius (uniform) of the noise, in the unit ``units``.
    units : {"std", "raw"}, default="std"
        Unit of ``noise_scale``: the standard deviation of each numeric column in the fitting
        rows (``feature_scale_``), so that one number suits columns of any spread, or the raw
        units of the columns. Categorical columns of a frame are never noised.
    n_samples : int, default=50
        Noisy copies per row (Smilkov et al. 2017 use 50).
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
        Seeds the noise; one bank of draws is shared by all rows of a call, so ``transform``
        returns the same answer each call with an integer seed.
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
    Smilkov et al. (2017); Agarwal et al. (2021), Theorem 1.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain import SmoothGrad
    >>> from skexplain.functions import SumOfSines
    >>> X = np.zeros((1, 3))
    >>> W = SmoothGrad(model=SumOfSines(), noise_scale=0.5, n_samples=20000,
    ...                random_state=0).fit(X).transform(X)
    >>> np.allclose(W, np.exp(-0.5**2 / 2), atol=0.02)  # cos(0) exp(-s^2 / 2)
    True
    """

    # What the values are, for displays: local slopes are not additive attributions.
    _values_are = "slopes"
    _requires_gradient = True
    _categorical = "occlusion"

    def __init__(
        self,
        model=None,
        *,
        noise="gaussian",
        noise_scale=0.1,
        units="std",
        n_samples=50,
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
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _statistic(self, G):
        return G.mean(axis=1)

    def _explain(self, X, target):
        perturbation, bank = self._noise_bank()
        return self.model_.query_perturbed(
            X,
            target,
            expand=lambda Xc, rows: perturbation.apply(Xc, bank),
            reduce=lambda G, Z, Xc, rows: self._statistic(G),
            n_per_row=self.n_samples,
            kind="gradient",
        )


class VarGrad(SmoothGrad):
    """The variance of the model's gradient over noisy copies of each row (Adebayo et al. 2018).

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
    n_samples : int, default=50
        Noisy copies per row.
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

    Notes
    -----
    The variance is the population variance over the samples (divisor ``n_samples``).

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain import VarGrad
    >>> from skexplain.functions import Linear
    >>> X = np.ones((2, 3))
    >>> VarGrad(model=Linear([1.0, 2.0, 3.0]), random_state=0).fit(X).transform(X).round(8)
    array([[0., 0., 0.],
           [0., 0., 0.]])
    """

    def _statistic(self, G):
        return ((G - G.mean(axis=1, keepdims=True)) ** 2).mean(axis=1)
