"""Parameters and noise shared by the explainers that average over noisy copies of each row."""

from numbers import Integral, Real

from sklearn.utils import check_random_state

from .._compat import Interval, StrOptions
from ..base import BaseExplainer
from ..perturbations import GaussianNoise, UniformBall


class NoiseExplainer(BaseExplainer):
    """Base of SmoothGrad, VarGrad and C-LIME: a noise distribution and its sample bank.

    ``noise="gaussian"`` draws ``N(0, noise_scale^2 I)``; ``noise="uniform"`` draws uniformly from
    the euclidean ball of radius ``noise_scale`` (Tadesse et al. 2024, eq. 17).
    """

    _parameter_constraints = {
        **BaseExplainer._parameter_constraints,
        "noise": [StrOptions({"gaussian", "uniform"})],
        "noise_scale": [Interval(Real, 0, None, closed="neither")],
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "units": [StrOptions({"std", "raw"})],
        "random_state": ["random_state"],
    }

    def _perturbation(self):
        if self.noise == "gaussian":
            perturbation = GaussianNoise(scale=self.noise_scale)
        else:
            perturbation = UniformBall(radius=self.noise_scale, norm=2)
        return perturbation.for_columns(self.codec_, self.units)

    def _noise_bank(self):
        """One bank of draws per call, shared by every row (common random numbers)."""
        perturbation = self._perturbation()
        rng = check_random_state(self.random_state)
        return perturbation, perturbation.draw(self.n_samples, self.n_features_in_, rng)
