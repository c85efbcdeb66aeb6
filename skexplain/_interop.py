"""Attributions out of skexplain and back: shap's ``Explanation``, and files without pickle.

:func:`to_shap_explanation` hands attributions to shap's plots; :func:`from_shap_explanation`
reads one back. :func:`save_attributions` writes attributions with their metadata (feature names,
base values, explainer parameters, seed, versions) to a ``.npz`` file whose arrays are plain
numbers or strings and whose metadata is JSON, and :func:`load_attributions` reads it with
``allow_pickle=False``: loading such a file never runs code from it.
"""

import json
import numbers
import os
import platform

import numpy as np
from sklearn.utils import Bunch

from .utils import import_optional

__all__ = [
    "to_shap_explanation",
    "from_shap_explanation",
    "save_attributions",
    "load_attributions",
]

_FORMAT = "skexplain-attributions"
_FORMAT_VERSION = 1


def _fields(attributions, data, base_values, feature_names):
    """Accept a display or a Bunch of this module in place of the attributions array."""
    if hasattr(attributions, "attributions"):  # a display or a loaded/converted Bunch
        source = attributions
        attributions = source.attributions
        data = getattr(source, "data", None) if data is None else data
        base_values = getattr(source, "base_values", None) if base_values is None else base_values
        if feature_names is None:
            feature_names = getattr(source, "feature_names", None)
    if feature_names is None and hasattr(data, "columns"):
        feature_names = [str(c) for c in data.columns]
    values = np.asarray(attributions, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(
            f"attributions must be 2-D (n_samples, n_features), got shape {values.shape}"
        )
    n, d = values.shape
    if data is not None:
        data = data.to_numpy() if hasattr(data, "to_numpy") else np.asarray(data)
        if data.shape != values.shape:
            raise ValueError(
                f"X must have the attributions' shape {values.shape}, got {data.shape}"
            )
    if base_values is not None:
        base_values = np.asarray(base_values, dtype=np.float64)
        if base_values.ndim == 0:
            base_values = np.full(n, float(base_values))
        if base_values.shape != (n,):
            raise ValueError(
                f"base_values must be a scalar or have one value per row ({n}), got shape "
                f"{base_values.shape}"
            )
    if feature_names is not None:
        feature_names = [str(name) for name in feature_names]
        if len(feature_names) != d:
            raise ValueError(
                f"feature_names must have {d} names (one per column), got {len(feature_names)}"
            )
    return values, data, base_values, feature_names


def to_shap_explanation(attributions, X=None, *, base_values=None, feature_names=None):
    """Convert attributions to a ``shap.Explanation``, so that shap's plots draw them.

    Parameters
    ----------
    attributions : array-like of shape (n_samples, n_features), AttributionDisplay or Bunch
        The attributions; an :class:`~skexplain.display.AttributionDisplay` or the result of
        :func:`load_attributions` brings its rows, base values and names along.
    X : array-like of shape (n_samples, n_features) or None, default=None
        The explained rows (shap's ``data``).
    base_values : float, array-like of shape (n_samples,) or None, default=None
        The model output at the explainer's reference (shap's ``base_values``; its waterfall
        plot needs them).
    feature_names : list of str or None, default=None
        Names of the features (a DataFrame's columns by default).

    Returns
    -------
    shap.Explanation
        With ``values``, ``base_values``, ``data`` and ``feature_names``.

    See Also
    --------
    from_shap_explanation : The way back.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain import to_shap_explanation
    >>> explanation = to_shap_explanation(np.array([[0.5, -0.25]]), np.array([[1.0, 2.0]]),
    ...                                   base_values=0.1, feature_names=["a", "b"])
    >>> explanation.values.shape, explanation.base_values, explanation.feature_names
    ((1, 2), array([0.1]), ['a', 'b'])
    """
    shap = import_optional("shap", purpose="to_shap_explanation")
    values, data, base_values, feature_names = _fields(attributions, X, base_values, feature_names)
    return shap.Explanation(
        values=values, base_values=base_values, data=data, feature_names=feature_names
    )


def from_shap_explanation(explanation):
    """Read the attributions of a ``shap.Explanation`` (of one output).

    Parameters
    ----------
    explanation : shap.Explanation
        Values of shape ``(n_samples, n_features)``.

    Returns
    -------
    Bunch
        ``attributions`` (float ndarray), ``data`` (ndarray or None), ``base_values`` (float ndarray
        of shape ``(n_samples,)`` or None) and ``feature_names`` (list of str or None).

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain import from_shap_explanation, to_shap_explanation
    >>> back = from_shap_explanation(to_shap_explanation(np.eye(2), base_values=[1.0, 2.0]))
    >>> back.attributions.tolist(), back.base_values.tolist()
    ([[1.0, 0.0], [0.0, 1.0]], [1.0, 2.0])
    """
    values = np.asarray(explanation.values, dtype=np.float64)
    if values.ndim == 1:
        values = values[None, :]
    if values.ndim != 2:
        raise ValueError(
            "explanation must hold one output: values of shape (n_samples, n_features), got "
            f"{values.shape}; select an output first, e.g. explanation[..., 1]"
        )
    data = explanation.data
    data = None if data is None else np.asarray(data).reshape(values.shape)
    base = explanation.base_values
    if base is not None:
        base = np.asarray(base, dtype=np.float64).reshape(-1)
        if base.size == 1 and values.shape[0] > 1:
            base = np.full(values.shape[0], base[0])
    names = explanation.feature_names
    names = None if names is None else [str(name) for name in names]
    return Bunch(attributions=values, data=data, base_values=base, feature_names=names)


def _json_safe(value):
    """A JSON value for a parameter: itself when JSON keeps it exactly, else its repr."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real) and np.isfinite(value):
        return float(value)
    if isinstance(value, list | tuple) and all(
        v is None or isinstance(v, bool | str | numbers.Real) for v in value
    ):
        return [_json_safe(v) for v in value]
    return {"repr": repr(value)}


def _versions():
    import sklearn

    from ._version import __version__

    return {
        "skexplain": __version__,
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "python": platform.python_version(),
    }


def save_attributions(
    path,
    attributions,
    X=None,
    *,
    explainer=None,
    feature_names=None,
    base_values=None,
    outputs=None,
    random_state=None,
    name=None,
):
    """Write attributions and their metadata to a ``.npz`` file that loads without pickle.

    Arrays are stored as they are (float64 values round-trip bit for bit); the metadata is one
    JSON document: feature names, the explainer's class and parameters (a parameter JSON cannot
    hold exactly, such as the model, is kept as its ``repr``), the seed and the versions of
    skexplain, numpy, scikit-learn and Python.

    Parameters
    ----------
    path : str or path-like
        The file to write (``.npz`` is appended by numpy when missing).
    attributions : array-like of shape (n_samples, n_features)
        The attributions.
    X : array-like of shape (n_samples, n_features) or None, default=None
        The explained rows. Numeric rows are kept as float64; other values as strings.
    explainer : estimator or None, default=None
        The explainer that produced them: its class and ``get_params(deep=False)`` are saved.
    feature_names : list of str or None, default=None
        Names of the features (a DataFrame's columns by default).
    base_values : float, array-like of shape (n_samples,) or None, default=None
        The output at the explainer's reference.
    outputs : array-like of shape (n_samples,) or None, default=None
        The explained output at each row.
    random_state : int or None, default=None
        The seed; by default the explainer's ``random_state`` parameter when it is an int.
    name : str or None, default=None
        A name for the explainer (its class name by default).

    Returns
    -------
    str
        The path written.

    See Also
    --------
    load_attributions : Read the file back.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from skexplain import load_attributions, save_attributions
    >>> path = os.path.join(tempfile.mkdtemp(), "attributions.npz")
    >>> _ = save_attributions(path, np.array([[0.1, 0.2]]), feature_names=["a", "b"], name="ig")
    >>> saved = load_attributions(path)
    >>> saved.attributions.tolist(), saved.feature_names, saved.name
    ([[0.1, 0.2]], ['a', 'b'], 'ig')
    """
    values, data, base_values, feature_names = _fields(attributions, X, base_values, feature_names)
    arrays = {"values": values}
    data_kind = None
    if data is not None:
        try:
            arrays["data"] = np.asarray(data, dtype=np.float64)
            data_kind = "float64"
        except (TypeError, ValueError):
            arrays["data"] = np.asarray(data).astype(str)  # mixed columns: as text
            data_kind = "str"
    if base_values is not None:
        arrays["base_values"] = base_values
    if outputs is not None:
        arrays["outputs"] = np.asarray(outputs, dtype=np.float64).reshape(values.shape[0])
    params, cls = None, None
    if explainer is not None:
        cls = f"{type(explainer).__module__}.{type(explainer).__qualname__}"
        if hasattr(explainer, "get_params"):
            params = {k: _json_safe(v) for k, v in explainer.get_params(deep=False).items()}
            seed = explainer.get_params(deep=False).get("random_state")
            if random_state is None and isinstance(seed, numbers.Integral):
                random_state = int(seed)
    if random_state is not None and not isinstance(random_state, numbers.Integral):
        raise TypeError(f"random_state must be an int or None, got {type(random_state).__name__}")
    metadata = {
        "format": _FORMAT,
        "format_version": _FORMAT_VERSION,
        "name": name
        if name is not None
        else (None if explainer is None else type(explainer).__name__),
        "explainer": cls,
        "params": params,
        "random_state": None if random_state is None else int(random_state),
        "feature_names": feature_names,
        "data": data_kind,
        "values_are": getattr(explainer, "_values_are", None) if explainer is not None else None,
        "versions": _versions(),
    }
    text = json.dumps(metadata, allow_nan=False, sort_keys=True)
    arrays["metadata"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    path = os.fspath(path)
    with open(path, "wb") as file:  # the exact path given, no ".npz" appended
        np.savez(file, **arrays)
    return path


def load_attributions(path):
    """Read a file written by :func:`save_attributions`; nothing in it is unpickled.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    Bunch
        ``attributions``, ``data`` (or None), ``base_values`` (or None), ``outputs`` (or None),
        ``feature_names``, ``name``, ``explainer`` (class path), ``params``, ``random_state``,
        ``values_are``, ``versions`` and ``metadata`` (the whole JSON document).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from skexplain import load_attributions, save_attributions
    >>> path = os.path.join(tempfile.mkdtemp(), "a.npz")
    >>> _ = save_attributions(path, np.ones((2, 3)), base_values=0.5)
    >>> load_attributions(path).base_values.tolist()
    [0.5, 0.5]
    """
    try:
        with np.load(os.fspath(path), allow_pickle=False) as stored:
            arrays = {key: stored[key] for key in stored.files}
    except ValueError as error:  # an object array: numpy refuses to unpickle it
        raise ValueError(
            f"{path} holds pickled objects; skexplain attribution files never do, so it is not "
            f"one (numpy: {error})"
        ) from error
    if "metadata" not in arrays or "values" not in arrays:
        raise ValueError(f"{path} is not a skexplain attributions file (no metadata)")
    metadata = json.loads(arrays["metadata"].tobytes().decode("utf-8"))
    if metadata.get("format") != _FORMAT:
        raise ValueError(f"{path} is not a skexplain attributions file")
    return Bunch(
        attributions=arrays["values"],
        data=arrays.get("data"),
        base_values=arrays.get("base_values"),
        outputs=arrays.get("outputs"),
        feature_names=metadata["feature_names"],
        name=metadata["name"],
        explainer=metadata["explainer"],
        params=metadata["params"],
        random_state=metadata["random_state"],
        values_are=metadata["values_are"],
        versions=metadata["versions"],
        metadata=metadata,
    )
