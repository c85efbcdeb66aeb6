"""Checks shared by the metrics: one table of parameter constraints, one way to check arrays."""

import inspect
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_array

from .._compat import HasMethods, Interval, StrOptions, validate_params
from ..models import ModelAdapter, as_model
from ..perturbations import Perturbation
from ..utils import (
    ColumnCodec,
    check_background,
    check_baseline,
    is_frame,
    sample_background,
)

_FRACTION = [Interval(Real, 0, 1, closed="right")]
_POSITIVE = [Interval(Real, 0, None, closed="neither")]
_POSITIVE_INTEGER = [Interval(Integral, 1, None, closed="left")]

# One meaning per parameter name across the metrics (scikit-learn's validate_params style).
# ``model`` and ``target`` are validated where they are used (as_model, resolve_target).
_CONSTRAINTS = {
    "explainer": [HasMethods(["transform"])],
    "X": ["array-like"],
    "attributions": ["array-like"],
    "W": ["array-like"],
    "perturbation": [None, Perturbation, str],
    "perturbations": [None, "array-like"],
    "n_samples": _POSITIVE_INTEGER,
    "radius": _POSITIVE,
    "relative": ["boolean"],
    "normalize": ["boolean"],
    "binary_masks": ["boolean"],
    "antithetic": ["boolean"],
    "return_quadratic": ["boolean", StrOptions({"per_sample"})],
    "same_prediction": ["boolean"],
    "explainer_noise": [StrOptions({"common", "fresh"})],
    "random_state": ["random_state"],
    "eps": _POSITIVE,
    "postprocess": [None, callable],
    "subset_fraction": _FRACTION,
    "fraction": _FRACTION,
    "step": _POSITIVE_INTEGER,
    "n_features": _POSITIVE_INTEGER,
    "n_background": [None, Interval(Integral, 1, None, closed="left")],
    "length_scale": _POSITIVE,
    "weights": [StrOptions({"kernel", "precision"})],
    "feature_similarity": ["array-like"],
    "n_jobs": [Integral, None],
    "verbose": ["verbose"],
    "units": [StrOptions({"std", "raw"})],
    "output": [
        None,
        StrOptions(
            {
                "auto",
                "logit",
                "probability",
                "log_probability",
                "decision_function",
                "predict",
                "raw",
            }
        ),
    ],
}


def validate_metric_params(function=None, **overrides):
    """Decorate a public metric with ``validate_params`` for the parameters it has.

    The constraints come from one table (``_CONSTRAINTS``), so a parameter name means the same
    in every metric; ``overrides`` replace a row for one metric. A bad value raises
    ``InvalidParameterError`` (a ``ValueError`` and ``TypeError``) naming the parameter, the
    metric, what was expected and what was given.
    """

    def decorate(function):
        names = inspect.signature(function).parameters
        constraints = {**_CONSTRAINTS, **overrides}
        return validate_params(
            {name: constraints[name] for name in names if name in constraints},
            prefer_skip_nested_validation=True,
        )(function)

    return decorate if function is None else decorate(function)


def _fitted_codec(codec, X):
    """``codec`` if it was learned from rows and fits the columns of X, else None."""
    if codec is None or getattr(codec, "n_fit_rows_", 0) == 0:
        return None
    if is_frame(X) and list(X.columns) != codec.columns_:
        return None
    return codec


def encode_rows(X, codec=None, model_columns=None, background=None):
    """``(X as floats, codec)``: a frame's raw columns encoded, an array validated.

    ``codec`` (an explainer's, learned in its ``fit``) is used when it fits X; otherwise one
    is learned from X itself, so the units and baselines of the defaults come from these rows
    (and the categories from the ``background`` rows too, when a frame of them is given).
    """
    codec = _fitted_codec(codec, X)
    if codec is None:
        if not is_frame(X):
            X = check_array(X, dtype=np.float64, input_name="X")
        codec = ColumnCodec(model_columns=model_columns).fit(X, also=background)
    Z = check_array(codec.encode(X), dtype=np.float64, input_name="X")
    return Z, codec


def check_model_X(model, X, output="auto", background=None):
    """``(adapter, X as floats, codec)``: the model queried with frames of its own columns.

    ``background``: the rows a masking metric was given as its baseline (their categories are
    learned with X's when the codec is learned from X), or None.
    """
    if (
        isinstance(model, ModelAdapter)
        and output not in (None, "auto", model.output)
        and hasattr(model, "estimator")
    ):
        # an explainer's adapter asked for another output of the same estimator
        adapter = as_model(model.estimator, output=output)
        if model.codec is not None:
            adapter = adapter.with_codec(model.codec)
    else:
        adapter = as_model(model, output=output)
    if not is_background(background):
        background = None
    Z, codec = encode_rows(X, adapter.codec, adapter.model_columns, background)
    if codec is not adapter.codec:
        adapter = adapter.with_codec(codec)
    return adapter, Z, codec


def check_explainer_X(explainer, X):
    """``(X as floats, codec)`` for a fitted explainer: its codec, learned in its fit."""
    if isinstance(explainer, (list, tuple)) and explainer:
        explainer = explainer[0]  # members fitted on the same rows (an aggregator's)
    return encode_rows(X, getattr(explainer, "codec_", None))


def check_X_attributions(X, attributions, *, stacked=False):
    """Validate ``X`` (n, d) and ``attributions`` (n, d), or (n, k, d) when ``stacked``."""
    X = check_array(X, dtype=np.float64, input_name="X")
    A = np.asarray(attributions, dtype=np.float64)
    expected = "(n_samples, n_features)" if not stacked else "(n_samples, [k,] n_features)"
    ok = A.ndim == 2 or (stacked and A.ndim == 3)
    if not ok or A.shape[0] != X.shape[0] or A.shape[-1] != X.shape[1]:
        raise ValueError(
            f"attributions must have shape {expected} matching X of shape {X.shape}, "
            f"got shape {A.shape}"
        )
    if not np.all(np.isfinite(A)):
        raise ValueError("attributions contain NaN or inf")
    return X, A


def is_background(baseline):
    """Whether a masking metric's ``baseline`` holds background rows (a 2-D array or a frame)."""
    return is_frame(baseline) or (not isinstance(baseline, str) and np.ndim(baseline) == 2)


def masking_background(baseline, codec, n_features, n_background=None, rng=None):
    """The rows ``(m, d)`` that removed features take their values from, encoded.

    One row for a scalar (categorical columns at their most frequent category), a per-column
    array or "mean" (each numeric column's mean, each categorical column's mode); else the
    background rows given (a frame's encoded by ``codec``, so that a categorical column takes
    a background row's category), ``n_background`` of them drawn from ``rng`` when there are
    more (as :class:`~skexplain.ShapleyExplainer` draws its background).
    """
    if is_background(baseline):
        rows = check_background(baseline, n_features, codec, name="baseline")
        return sample_background(rows, n_background, rng)
    if isinstance(baseline, str):
        if baseline != "mean":
            raise ValueError(
                "baseline must be a number, an array of one value per feature, 'mean' or "
                f"background rows (a 2-D array or a DataFrame), got {baseline!r}"
            )
        return codec.baseline_[None].copy()  # each number's mean, each category's mode
    scalar = np.ndim(baseline) == 0
    baseline = check_baseline(baseline, n_features)
    if scalar and codec.has_categorical:
        baseline = np.where(codec.categorical_, codec.baseline_, baseline)
    return baseline[None]
