"""Noise and masking distributions shared by explainers and metrics.

A perturbation draws a *bank* of ``n_samples`` draws once, with numpy and ``random_state``, and
applies the same bank to every row (common random numbers): a row's explanation then does not
depend on which other rows are in the batch, nearby rows get comparable explanations, and the
same seed gives the same draws whether the model is a torch module on a GPU or a numpy callable.

``apply(X, bank)`` broadcasts the bank over the rows of ``X`` and returns the perturbed inputs,
shape ``(n, n_samples, d)``, in the array type of ``X`` (numpy, or a torch tensor on the model's
device). The perturbation ``I`` of infidelity (Yeh et al. 2019) is always ``x - perturbed``, so
that ``f(x) - f(x - I)`` is the output change: real-valued for every distribution here, also for
the masks (``I = z * (x - baseline)``), so Input x Gradient and IG are not mis-scaled by ``x``.
"""

import copy
import inspect
import numbers
from abc import ABC, abstractmethod

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from .utils import (
    check_background,
    check_baseline,
    check_image_shape,
    check_positive_integer,
    is_frame,
    is_tensor,
    subset_masks,
)

__all__ = [
    "Perturbation",
    "GaussianNoise",
    "UniformBall",
    "NoisyBaseline",
    "SubsetBaseline",
    "SquareRemoval",
    "ShapleySubsets",
    "check_perturbation",
]


def _like(array, reference):
    """Convert a numpy array to the array type, dtype and device of ``reference``."""
    if is_tensor(reference):
        return reference.new_tensor(np.asarray(array, dtype=np.float64))
    return np.asarray(array, dtype=np.float64)


def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive number, got {value!r}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def _check_scale(name, value, n_features):
    """A positive number, or one non-negative number per feature (zero: never perturbed)."""
    if np.ndim(value) == 0:
        return _check_positive(name, value)
    scale = np.asarray(value, dtype=np.float64)
    if scale.shape != (n_features,) or not np.all(np.isfinite(scale)) or np.any(scale < 0):
        raise ValueError(
            f"{name} must be a positive number or {n_features} non-negative numbers, one per "
            f"feature, got {value!r}"
        )
    return scale


def _scaled(perturbation, name, factors):
    """The perturbation with its noise parameter ``name`` times per-feature ``factors``."""
    if np.all(factors == 1.0):
        return perturbation  # raw units, no categorical column: nothing changes
    return _copy_with(perturbation, **{name: getattr(perturbation, name) * factors})


def _copy_with(perturbation, **changes):
    """A shallow copy of a perturbation with some parameters changed."""
    return copy.copy(perturbation).set_params(**changes)


class Perturbation(BaseEstimator, ABC):
    """Base class: ``draw`` a bank once, ``apply`` it to many rows.

    Subclasses implement ``draw(n_samples, n_features, random_state) -> dict`` of numpy arrays
    and ``apply(X, bank) -> X_perturbed``. Drawing once and applying the same bank to every row
    gives common random numbers: a row's perturbations do not depend on the other rows.

    Perturbations are scikit-learn parameter holders: ``__init__`` stores its arguments as
    they are, ``get_params``/``set_params`` and ``clone`` work, so that a perturbation held by
    an explainer or a metric's scorer is tuned like any nested estimator
    (``{"perturbation__scale": [0.05, 0.1]}`` in ``GridSearchCV``).

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.perturbations import Perturbation
    >>> class Shift(Perturbation):
    ...     def draw(self, n_samples, n_features, random_state=None):
    ...         return {"shift": np.arange(n_samples, dtype=float)[:, None]}
    ...     def apply(self, X, bank):
    ...         return X[:, None, :] + bank["shift"][None]
    >>> Shift().sample(np.zeros((1, 2)), n_samples=3)
    array([[[0., 0.],
            [1., 1.],
            [2., 2.]]])
    """

    @abstractmethod
    def draw(self, n_samples, n_features, random_state=None):
        """Draw the random bank shared by every row.

        Parameters
        ----------
        n_samples : int
            Perturbations per row.
        n_features : int
            Number of features of the rows.
        random_state : int, RandomState instance or None, default=None
            Seed of the draws.

        Returns
        -------
        dict of str to ndarray
            The bank: noise, masks or points, each with ``n_samples`` as first axis.
        """

    @abstractmethod
    def apply(self, X, bank):
        """Apply a bank to every row.

        Parameters
        ----------
        X : ndarray or torch.Tensor of shape (n, d)
            The rows.
        bank : dict
            A bank returned by :meth:`draw`.

        Returns
        -------
        ndarray or torch.Tensor of shape (n, n_samples, d)
            The perturbed copies, of the array type and device of ``X``.
        """

    def sample(self, X, n_samples, random_state=None):
        """Draw a bank and apply it to the rows.

        Parameters
        ----------
        X : ndarray or torch.Tensor of shape (n, d)
            The rows.
        n_samples : int
            Perturbations per row.
        random_state : int, RandomState instance or None, default=None
            Seed of the draws.

        Returns
        -------
        ndarray or torch.Tensor of shape (n, n_samples, d)
            The perturbed copies.
        """
        bank = self.draw(n_samples, X.shape[1], random_state)
        return self.apply(X, bank)

    def for_columns(self, codec, units="std"):
        """Return this perturbation on the raw columns of a table, in the requested units.

        Noise scales and radii are multiplied by each numeric column's standard deviation
        (``units="std"``, learned in ``fit``) or kept in raw units (``units="raw"``); a
        categorical column is never noised (its codes are not a scale). Masks given a scalar
        baseline replace a categorical column by its most frequent category. The base class
        returns the perturbation itself.

        Parameters
        ----------
        codec : ColumnCodec
            The columns: which are categorical, their standard deviations and baselines.
        units : {"std", "raw"}, default="std"
            The unit of the noise parameters.

        Returns
        -------
        Perturbation
            A copy adapted to the columns (or self when nothing changes).

        Examples
        --------
        >>> import numpy as np
        >>> from skexplain.perturbations import GaussianNoise
        >>> from skexplain.utils import ColumnCodec
        >>> codec = ColumnCodec().fit(np.array([[0.0, 0.0], [2.0, 20.0]]))
        >>> GaussianNoise(scale=0.1).for_columns(codec).scale
        array([0.1, 1. ])
        """
        return self

    def __repr__(self):
        # every parameter, in the order of the signature (scikit-learn's repr sorts them and
        # leaves out the defaults)
        params = self.get_params(deep=False)
        order = [name for name in inspect.signature(type(self)).parameters if name in params]
        return f"{type(self).__name__}({', '.join(f'{k}={params[k]!r}' for k in order)})"

    def __eq__(self, other):
        if type(self) is not type(other):
            return NotImplemented
        mine, theirs = self.get_params(deep=False), other.get_params(deep=False)
        return all(np.array_equal(np.asarray(v), np.asarray(theirs[k])) for k, v in mine.items())

    __hash__ = None


class _MaskPerturbation(Perturbation):
    """Masks ``z`` (1 = replaced): ``perturbed = x * (1 - z) + baseline * z``.

    The baseline may also be background rows ``(n_rows, n_features)``: a replaced feature then
    takes each background row's value in turn and the model's output is averaged over them (the
    interventional expectation). Those copies are not one array: the bank holds the rows as its
    ``"baseline"`` and the metrics evaluate them with the engine's masking loop
    (:func:`skexplain._masking.coalition_values`); :meth:`apply` refuses them.
    """

    def __init__(self, baseline=0.0):
        self.baseline = baseline

    @abstractmethod
    def _masks(self, n_samples, n_features, rng):
        """Binary masks ``(n_samples, n_features)``, 1 where a feature is replaced."""

    def draw(self, n_samples, n_features, random_state=None):
        n_samples = check_positive_integer(n_samples, "n_samples")
        rng = check_random_state(random_state)
        if is_frame(self.baseline) or np.ndim(self.baseline) == 2:
            baseline = check_background(self.baseline, n_features, name="baseline")
        else:
            baseline = check_baseline(self.baseline, n_features)
        return {"mask": self._masks(n_samples, n_features, rng), "baseline": baseline}

    def for_columns(self, codec, units="std"):
        if is_frame(self.baseline):  # background rows: categories as the codec's codes
            rows = check_background(self.baseline, codec.categorical_.size, codec, "baseline")
            return _copy_with(self, baseline=rows)
        if np.ndim(self.baseline) != 0 or not codec.has_categorical:
            return self
        baseline = np.where(codec.categorical_, codec.baseline_, float(self.baseline))
        return _copy_with(self, baseline=baseline)

    def apply(self, X, bank):
        if np.ndim(bank["baseline"]) == 2:
            raise ValueError(
                f"{type(self).__name__} with background rows as its baseline replaces a feature "
                "by each row's value and averages the outputs: its copies are not one array. "
                "The metrics evaluate it (infidelity); elsewhere give one baseline value per "
                "feature"
            )
        z = _like(bank["mask"], X)[None]
        b = _like(bank["baseline"], X)[None, None]
        return X[:, None, :] * (1 - z) + b * z


class GaussianNoise(Perturbation):
    """Additive gaussian noise ``N(0, scale^2 I)``: SmoothGrad, C-LIME, infidelity's noise.

    Parameters
    ----------
    scale : float or array-like of shape (n_features,), default=0.1
        Standard deviation of the noise, in feature units (one per feature, or one for all).

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.perturbations import GaussianNoise
    >>> GaussianNoise(scale=0.5).sample(np.zeros((2, 3)), n_samples=4, random_state=0).shape
    (2, 4, 3)
    """

    def __init__(self, scale=0.1):
        self.scale = scale

    def for_columns(self, codec, units="std"):
        return _scaled(self, "scale", codec.noise_factors(units))

    def draw(self, n_samples, n_features, random_state=None):
        scale = _check_scale("scale", self.scale, n_features)
        n_samples = check_positive_integer(n_samples, "n_samples")
        rng = check_random_state(random_state)
        return {"noise": scale * rng.standard_normal((n_samples, n_features))}

    def apply(self, X, bank):
        return X[:, None, :] + _like(bank["noise"], X)[None]


class UniformBall(Perturbation):
    """Additive noise uniform in a ball of radius ``radius``.

    ``norm="inf"`` (default) is the cube ``[-radius, radius]^d`` used by max-sensitivity (Yeh et
    al.) and by Decker et al.'s ``U[-0.1, 0.1]``; ``norm=2`` is the euclidean ball of Tadesse et
    al.'s uniform SmoothGrad.

    Parameters
    ----------
    radius : float or array-like of shape (n_features,), default=0.1
        Radius of the ball, in feature units (one per feature: an ellipsoid or a box).
    norm : {"inf", 2}, default="inf"
        The norm whose ball is sampled.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.perturbations import UniformBall
    >>> Z = UniformBall(radius=0.1, norm=2).sample(np.zeros((1, 3)), 100, random_state=0)
    >>> bool((np.linalg.norm(Z, axis=2) <= 0.1).all())
    True
    """

    def __init__(self, radius=0.1, norm="inf"):
        self.radius = radius
        self.norm = norm

    def for_columns(self, codec, units="std"):
        return _scaled(self, "radius", codec.noise_factors(units))

    def draw(self, n_samples, n_features, random_state=None):
        radius = _check_scale("radius", self.radius, n_features)
        n_samples = check_positive_integer(n_samples, "n_samples")
        rng = check_random_state(random_state)
        if self.norm in ("inf", np.inf):
            noise = radius * rng.uniform(-1.0, 1.0, size=(n_samples, n_features))
        elif self.norm == 2:
            direction = rng.standard_normal((n_samples, n_features))
            direction /= np.linalg.norm(direction, axis=1, keepdims=True)
            length = rng.random_sample(n_samples) ** (1.0 / n_features)
            noise = radius * direction * length[:, None]  # an ellipsoid for per-feature radii
        else:
            raise ValueError(f"norm must be 'inf' or 2, got {self.norm!r}")
        return {"noise": noise}

    def apply(self, X, bank):
        return X[:, None, :] + _like(bank["noise"], X)[None]


class NoisyBaseline(Perturbation):
    """Replace the whole input by ``baseline + N(0, scale^2 I)`` (Yeh et al. 2019, noisy baseline).

    Then ``I = x - perturbed`` is the difference to a noisy baseline.

    Parameters
    ----------
    baseline : float or array-like of shape (n_features,), default=0.0
        Centre of the noisy baseline.
    scale : float, default=0.2
        Standard deviation of the noise around it.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.perturbations import NoisyBaseline
    >>> NoisyBaseline(scale=0.2).sample(np.ones((3, 2)), 5, random_state=0).shape
    (3, 5, 2)
    """

    def __init__(self, baseline=0.0, scale=0.2):
        self.baseline = baseline
        self.scale = scale

    def for_columns(self, codec, units="std"):
        return _scaled(self, "scale", codec.noise_factors(units))

    def draw(self, n_samples, n_features, random_state=None):
        scale = _check_scale("scale", self.scale, n_features)
        n_samples = check_positive_integer(n_samples, "n_samples")
        rng = check_random_state(random_state)
        baseline = check_baseline(self.baseline, n_features)
        return {"points": baseline + scale * rng.standard_normal((n_samples, n_features))}

    def apply(self, X, bank):
        points = _like(bank["points"], X)[None]
        if is_tensor(points):
            return points.expand(X.shape[0], -1, -1)
        return np.broadcast_to(points, (X.shape[0], *points.shape[1:]))


class SubsetBaseline(_MaskPerturbation):
    """Set a random subset of ``fraction`` of the features to the baseline.

    Each draw replaces exactly ``max(1, round(fraction * d))`` features, uniformly at random
    (Decker et al. 2024 use 20%).

    Parameters
    ----------
    baseline : float, array-like of shape (n_features,) or background rows, default=0.0
        Value given to the replaced features; or background rows, an array-like of shape
        ``(n_rows, n_features)`` or a DataFrame of the raw columns, whose values the replaced
        features take in turn, the output being averaged over them (see
        :func:`~skexplain.metrics.infidelity`).
    fraction : float in (0, 1], default=0.2
        Share of the features replaced by each draw.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.perturbations import SubsetBaseline
    >>> Z = SubsetBaseline(fraction=0.4).sample(np.ones((1, 5)), 3, random_state=0)
    >>> (Z == 0).sum(axis=2).ravel().tolist()
    [2, 2, 2]
    """

    def __init__(self, baseline=0.0, fraction=0.2):
        super().__init__(baseline)
        self.fraction = fraction

    def _masks(self, n_samples, n_features, rng):
        fraction = _check_positive("fraction", self.fraction)
        if fraction > 1:
            raise ValueError(f"fraction must be in (0, 1], got {self.fraction!r}")
        size = max(1, int(round(fraction * n_features)))
        return subset_masks(np.full(n_samples, size), n_features, rng)


class SquareRemoval(_MaskPerturbation):
    """Remove a random ``size x size`` square of an image to the baseline (Yeh et al. 2019).

    Features are the flattened image, channels first: ``d = n_channels * height * width``. The
    square lies wholly inside the image and covers every channel.

    Parameters
    ----------
    image_shape : tuple of int
        ``(height, width)`` or ``(channels, height, width)``.
    size : int, default=2
        Side of the square, in pixels.
    baseline : float, array-like of shape (n_features,) or background rows, default=0.0
        Value given to the replaced features; or background rows, an array-like of shape
        ``(n_rows, n_features)`` or a DataFrame of the raw columns, whose values the replaced
        features take in turn, the output being averaged over them (see
        :func:`~skexplain.metrics.infidelity`).

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.perturbations import SquareRemoval
    >>> Z = SquareRemoval(image_shape=(4, 4), size=2).sample(np.ones((1, 16)), 3, random_state=0)
    >>> (Z == 0).sum(axis=2).ravel().tolist()
    [4, 4, 4]
    """

    def __init__(self, image_shape, size=2, baseline=0.0):
        super().__init__(baseline)
        self.image_shape = image_shape
        self.size = size

    def _masks(self, n_samples, n_features, rng):
        channels, height, width = check_image_shape(self.image_shape, n_features)
        size = check_positive_integer(self.size, "size")
        if size > min(height, width):
            raise ValueError(f"size {size} does not fit in an image of {height}x{width}")
        top = rng.randint(0, height - size + 1, n_samples)
        left = rng.randint(0, width - size + 1, n_samples)
        rows = np.arange(height)[None, :]
        cols = np.arange(width)[None, :]
        in_rows = (rows >= top[:, None]) & (rows < top[:, None] + size)
        in_cols = (cols >= left[:, None]) & (cols < left[:, None] + size)
        square = in_rows[:, :, None] & in_cols[:, None, :]  # (m, h, w)
        mask = np.broadcast_to(square[:, None], (n_samples, channels, height, width))
        return mask.reshape(n_samples, n_features).astype(np.float64)


class ShapleySubsets(_MaskPerturbation):
    """Subsets drawn from the Shapley kernel (Yeh et al. 2019, Prop. 2.5; Lundberg & Lee 2017).

    A size ``s`` in ``1..d-1`` is drawn with probability proportional to ``(d - 1) / (s (d - s))``,
    then a uniformly random subset of that size is set to the baseline. Needs ``d >= 2``.

    Parameters
    ----------
    baseline : float, array-like of shape (n_features,) or background rows, default=0.0
        Value given to the replaced features; or background rows, an array-like of shape
        ``(n_rows, n_features)`` or a DataFrame of the raw columns, whose values the replaced
        features take in turn, the output being averaged over them (see
        :func:`~skexplain.metrics.infidelity`).

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.perturbations import ShapleySubsets
    >>> Z = ShapleySubsets().sample(np.ones((1, 4)), 6, random_state=0)
    >>> bool(((Z == 0).sum(axis=2) >= 1).all() and ((Z == 0).sum(axis=2) <= 3).all())
    True
    """

    def _masks(self, n_samples, n_features, rng):
        d = n_features
        if d < 2:
            raise ValueError(f"ShapleySubsets needs at least 2 features, got {d}")
        sizes = np.arange(1, d)
        weights = (d - 1) / (sizes * (d - sizes))
        drawn = rng.choice(sizes, size=n_samples, p=weights / weights.sum())
        return subset_masks(drawn, d, rng)


_BY_NAME = {
    "gaussian": GaussianNoise,
    "uniform": UniformBall,
    "noisy_baseline": NoisyBaseline,
    "subset": SubsetBaseline,
    "shapley": ShapleySubsets,
}


def check_perturbation(perturbation, name="perturbation"):
    """Return a Perturbation instance from an instance or a name.

    Names: ``"gaussian"``, ``"uniform"``, ``"noisy_baseline"``, ``"subset"``, ``"shapley"``
    (each with its defaults).

    Parameters
    ----------
    perturbation : Perturbation or str
        An instance (returned as it is) or a name.
    name : str, default="perturbation"
        The parameter's name in the error message.

    Returns
    -------
    Perturbation
        The perturbation.

    Examples
    --------
    >>> from skexplain.perturbations import check_perturbation
    >>> check_perturbation("gaussian")
    GaussianNoise(scale=0.1)
    """
    if isinstance(perturbation, Perturbation):
        return perturbation
    if isinstance(perturbation, str) and perturbation in _BY_NAME:
        return _BY_NAME[perturbation]()
    raise ValueError(
        f"{name} must be a Perturbation or one of {sorted(_BY_NAME)}, got {perturbation!r}"
    )


def perturbed_copies(X, perturbation, perturbations, n_samples, random_state, antithetic=False):
    """Validate explicit perturbed copies of X, or draw one bank shared by every row.

    The one validate-or-draw step of the metrics: either explicit draws ``perturbations`` of
    shape ``(n, m, d)`` (perturbed inputs, so that results can be compared with other libraries
    on identical draws), or one bank of ``n_samples`` draws of ``perturbation`` applied to every
    row (common random numbers). With ``antithetic``, half of the bank is drawn and the other
    half is its mirror image about the row (``x - eps`` for every ``x + eps``), for the additive
    noises that are symmetric about the row (``GaussianNoise``, ``UniformBall``).

    Parameters
    ----------
    X : ndarray of shape (n, d)
        The rows whose copies are drawn.
    perturbation : Perturbation or str
        The distribution, used when ``perturbations`` is None.
    perturbations : array-like of shape (n, m, d) or None
        Explicit perturbed copies of every row.
    n_samples : int
        Draws per row when ``perturbations`` is None.
    random_state : int, RandomState instance or None
        Seed of the bank.
    antithetic : bool, default=False
        Draw ``ceil(n_samples / 2)`` noises and their negatives (``m`` is then even).

    Returns
    -------
    expand : callable
        ``expand(X_rows, rows) -> Z``: the copies ``(c, m, d)`` of the rows ``rows`` (a slice of
        X) whose values are ``X_rows``, in the array type of ``X_rows``.
    m : int
        Copies per row.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.perturbations import GaussianNoise, perturbed_copies
    >>> X = np.zeros((3, 2))
    >>> expand, m = perturbed_copies(X, GaussianNoise(0.1), None, 4, random_state=0)
    >>> expand(X[:2], slice(0, 2)).shape, m
    ((2, 4, 2), 4)
    """
    n, d = X.shape
    if perturbations is not None:
        P = np.asarray(perturbations, dtype=np.float64)
        if P.ndim != 3 or P.shape[0] != n or P.shape[2] != d:
            raise ValueError(
                f"perturbations must have shape (n_samples_X, n_draws, n_features) = ({n}, m, "
                f"{d}) for X of shape {X.shape}, got shape {P.shape}"
            )
        if not np.all(np.isfinite(P)):
            raise ValueError("perturbations contain NaN or inf")
        return (lambda X_rows, rows: _like(P[rows], X_rows)), P.shape[1]
    perturbation = check_perturbation(perturbation)
    n_samples = check_positive_integer(n_samples, "n_samples")
    if not antithetic:
        bank = perturbation.draw(n_samples, d, check_random_state(random_state))
        return (lambda X_rows, rows: perturbation.apply(X_rows, bank)), n_samples
    if not isinstance(perturbation, (GaussianNoise, UniformBall)):
        raise ValueError(
            "antithetic draws mirror additive noise symmetric about the row (GaussianNoise, "
            f"UniformBall), got {perturbation!r}"
        )
    half = perturbation.draw((n_samples + 1) // 2, d, check_random_state(random_state))
    bank = {"noise": np.concatenate([half["noise"], -half["noise"]])}
    return (lambda X_rows, rows: perturbation.apply(X_rows, bank)), len(bank["noise"])
