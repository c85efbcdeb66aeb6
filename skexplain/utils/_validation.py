"""Validation of the small parameters that several modules share, with one message each."""

import numbers

import numpy as np


def check_positive_integer(value, name):
    """Return ``value`` as an int; TypeError if it is not an integer, ValueError if below 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_baseline(baseline, n_features):
    """A scalar or ``(n_features,)`` baseline as a finite float64 array ``(n_features,)``."""
    baseline = np.asarray(baseline, dtype=np.float64)
    if baseline.ndim == 0:
        baseline = np.full(n_features, float(baseline))
    if baseline.shape != (n_features,):
        raise ValueError(
            f"baseline must be a scalar or have shape ({n_features},), got shape {baseline.shape}"
        )
    if not np.all(np.isfinite(baseline)):
        raise ValueError("baseline must be finite")
    return baseline


def check_image_shape(image_shape, n_features=None):
    """``(channels, height, width)`` from ``(height, width)`` or ``(channels, height, width)``.

    Features are a flattened image, channels first; with ``n_features`` the shape must hold
    exactly that many values.
    """
    try:
        shape = tuple(image_shape)
    except TypeError:
        shape = None
    if (
        shape is None
        or len(shape) not in (2, 3)
        or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in shape)
        or min(shape) < 1
    ):
        raise ValueError(
            "image_shape must be (height, width) or (channels, height, width) of positive "
            f"integers, got {image_shape!r}"
        )
    shape = tuple(int(s) for s in shape)
    if len(shape) == 2:
        shape = (1, *shape)
    size = int(np.prod(shape))
    if n_features is not None and size != n_features:
        raise ValueError(
            f"image_shape {tuple(image_shape)!r} does not match {n_features} features: it holds "
            f"{size} values per image, and each row must be one flattened image"
        )
    return shape


def check_target(target, n):
    """Validate ``target`` for ``n`` rows: None, or one non-negative output index per row.

    An integer is repeated for every row.
    """
    if target is None:
        return None
    if isinstance(target, numbers.Integral) and not isinstance(target, bool):
        if target < 0:
            raise ValueError(f"target must be a non-negative output index, got {target!r}")
        return np.full(n, int(target), dtype=np.int64)
    target = np.asarray(target)
    if target.ndim == 0 and np.issubdtype(target.dtype, np.integer):
        return check_target(int(target), n)
    if target.ndim != 1 or target.shape[0] != n or not np.issubdtype(target.dtype, np.integer):
        raise ValueError(
            "target must be None, an output index or one integer index per row "
            f"(shape ({n},)), got an array of shape {target.shape} and dtype {target.dtype}"
        )
    if np.any(target < 0):
        raise ValueError("target must hold non-negative output indices")
    return target.astype(np.int64)
