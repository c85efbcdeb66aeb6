"""Row-wise metrics run in parallel chunks (``n_jobs``, ``verbose``) and on dask collections.

Every metric that scores each row on its own is decorated with :func:`row_metric`. The metric
declares ``n_jobs=None`` and ``verbose=0`` in its signature (and documents them); the decorator

* runs it inside :func:`skexplain._engine.parallel_rows`, so its chunks of rows go through joblib
  (any joblib backend: a Dask or Ray cluster) and show a progress bar; each row's draws do not
  depend on its chunk, so the scores equal ``n_jobs=1``;
* given a dask array or DataFrame ``X``, returns a lazy dask array of scores, one block per block
  of rows, with the model or explainer entering the task graph once and the per-row arrays
  (attributions, per-row targets, explicit perturbations) split like X.
"""

import functools
import inspect

import numpy as np

from .._engine import parallel_rows
from ..utils import import_optional, is_dask_collection, map_row_blocks

__all__ = ["row_metric"]

# Arguments that hold one entry per explained row.
_PER_ROW = ("attributions", "W", "perturbations", "target")


def row_metric(function):
    """Give a row-wise metric ``n_jobs``, ``verbose`` and dask collections (see module doc)."""
    signature = inspect.signature(function)
    names = list(signature.parameters)
    if "n_jobs" not in names or "verbose" not in names or "X" not in names:
        raise TypeError(f"{function.__name__} must take X, n_jobs and verbose to be a row metric")
    leading = names[: names.index("X")]  # the model or the explainer, shipped once

    @functools.wraps(function)
    def metric(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        X = arguments["X"]
        if is_dask_collection(X):
            return _lazy(function, leading, arguments)
        with parallel_rows(arguments.get("n_jobs"), arguments.get("verbose", 0)):
            return function(*args, **kwargs)

    return metric


def _lazy(function, leading, arguments):
    da = import_optional("dask.array", purpose="metrics on dask arrays")

    X = arguments.pop("X")
    if not isinstance(X, da.Array):
        raise TypeError(
            f"{function.__name__} takes the rows of a dask DataFrame as a dask array: pass "
            "X.to_dask_array(lengths=True), or numpy/pandas rows"
        )
    shipped = tuple(arguments.pop(name) for name in leading)
    row_names = [
        name for name in _PER_ROW if name in arguments and _is_per_row(arguments[name], X.shape[0])
    ]
    row_arrays = [arguments.pop(name) for name in row_names]
    if leading == ["model"] and arguments.get("units") == "std":
        shipped = (_model_with_column_statistics(shipped[0], X, arguments.get("output")),)
    arguments["n_jobs"], arguments["verbose"] = 1, 0  # the blocks are the parallel work

    def block(*values, **kwargs):
        head, X_rows, rows = (
            values[: len(shipped)],
            values[len(shipped)],
            values[len(shipped) + 1 :],
        )
        per_row = dict(zip(row_names, rows, strict=True))
        return function(*head, X_rows, **per_row, **kwargs)

    return map_row_blocks(block, X, *row_arrays, shipped=shipped, **arguments)


def _model_with_column_statistics(model, X, output):
    """The model adapted once, with the standard deviations of all of X's rows (one pass).

    A metric given a bare model learns its noise units from the rows it scores: on each block
    alone they would differ from block to block. An explainer's adapter keeps its own (learned
    in the explainer's fit) and is shipped as it is.
    """
    import dask.array as da

    from ..models import ModelAdapter, as_model
    from ..utils import ColumnCodec

    if isinstance(model, ModelAdapter) and model.codec is not None:
        return model
    adapter = as_model(model, output=output or "auto")
    scale, mean = da.compute(X.std(axis=0), X.mean(axis=0))
    codec = ColumnCodec().fit(np.zeros((1, X.shape[1])))
    return adapter.with_codec(codec.with_statistics(scale, mean, X.shape[0]))


def _is_per_row(value, n_rows):
    if value is None or isinstance(value, (int, str, np.integer)):
        return False
    shape = getattr(value, "shape", None)
    if shape is None:
        value = np.asarray(value)
        shape = value.shape
    return len(shape) >= 1 and shape[0] == n_rows
