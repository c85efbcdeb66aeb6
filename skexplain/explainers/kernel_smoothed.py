"""Kernel smoothing of any explainer (Yeh et al. 2019, section 4)."""

from .._engine import explain_perturbed
from ..base import BaseExplainer, fit_clone
from ._noise import NoiseExplainer

__all__ = ["KernelSmoothed"]


class KernelSmoothed(NoiseExplainer):
    """Average any explainer over noisy copies of each row: ``E_z[phi(z)]``, ``z ~ k(x, .)``.

    Yeh et al. (2019, Thm. 4.1) show smoothing lowers max-sensitivity and, under conditions
    (Thm. 4.2), infidelity. ``KernelSmoothed(Gradient())`` with the gaussian kernel is SmoothGrad.
    Each copy is explained for the output chosen at its original row.

    Parameters
    ----------
    explainer : explainer
        The explainer to smooth; cloned and fitted in ``fit``. Without a model of its own it uses
        this one's ``model``.
    model : object, default=None
        The model to explain, for an ``explainer`` without one.
    noise : {"gaussian", "uniform"}, default="gaussian"
        The smoothing kernel: gaussian, or uniform in a euclidean ball.
    noise_scale : float, default=0.1
        Standard deviation (gaussian) or radius (uniform) of the kernel, in the unit ``units``.
    units : {"std", "raw"}, default="std"
        Unit of ``noise_scale``: the standard deviation of each numeric column in the fitting
        rows (``feature_scale_``), so that one number suits columns of any spread, or the raw
        units of the columns. Categorical columns of a frame are never noised.
    n_samples : int, default=50
        Copies per row.
    target : "predicted", int, label or None, default=None
        Output to explain, for an ``explainer`` without a target of its own.
    output : str, default="auto"
        The model output explained (see :class:`Gradient`), for an ``explainer`` without a
        model of its own.
    random_state : int, RandomState instance or None, default=None
        Seed of the noise draws; an int makes ``transform`` repeatable.
    n_jobs : int or None, default=None
        Parallel jobs over chunks of rows (joblib, so a Dask or Ray cluster through
        ``joblib.parallel_config``); the attributions equal those of ``n_jobs=1``.
    verbose : int, default=0
        Show a progress bar over the chunks of rows when positive.

    Attributes
    ----------
    explainer_ : explainer
        The fitted clone of ``explainer``.
    model_ : ModelAdapter
    feature_scale_ : ndarray of shape (n_features,)
        Standard deviation of each column in the fitting rows, the unit of ``noise_scale``.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain import Gradient, KernelSmoothed, SmoothGrad
    >>> from skexplain.functions import SumOfSines
    >>> X = np.random.default_rng(0).normal(size=(3, 2))
    >>> smoothed = KernelSmoothed(Gradient(), model=SumOfSines(), random_state=0)
    >>> np.allclose(smoothed.fit(X).transform(X),
    ...             SmoothGrad(model=SumOfSines(), random_state=0).fit(X).transform(X))
    True
    """

    _parameter_constraints = {
        **NoiseExplainer._parameter_constraints,
        "explainer": [None, BaseExplainer],
    }

    def __init__(
        self,
        explainer=None,
        *,
        model=None,
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
        self.explainer = explainer
        self.noise = noise
        self.noise_scale = noise_scale
        self.units = units
        self.n_samples = n_samples
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _model_to_fit(self):
        if self.model is not None or self.explainer is None:
            return self.model
        return self.explainer.model

    def _fit(self, X):
        if self.explainer is None:
            raise ValueError("KernelSmoothed needs an explainer to smooth: pass explainer=...")
        self.explainer_ = fit_clone(self.explainer, X, model=self.model_, target=self.target)

    def _explain(self, X, target):
        perturbation, bank = self._noise_bank()
        inner = self.explainer_

        def statistic(values, Z, Xc, rows):
            return values[1][:, :, 0].mean(axis=1)  # the mean explanation of the copies

        return explain_perturbed(
            [inner],
            X,
            lambda X_rows, rows: perturbation.apply(X_rows, bank),
            self.n_samples,
            statistic,
            at_rows=False,
            target=target,  # the caller's output per row (e.g. a metric's copies of x)
        )
