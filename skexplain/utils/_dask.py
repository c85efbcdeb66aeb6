"""Dask arrays and DataFrames in, lazy results out: explainers and metrics block by block.

``explainer.transform(X)`` and the metrics take a dask array (or dask DataFrame) of rows and
return a lazy dask array, one block of results per block of rows, which nothing computes until
the caller does. The fitted explainer (or the model) enters the task graph once, as one node that
every block depends on, so a distributed scheduler ships it to each worker once instead of with
every task. The rows never pass through the driver.
"""

import sys

import numpy as np

from ._optional import import_optional

__all__ = ["is_dask_collection", "map_row_blocks"]


def is_dask_collection(X):
    """Whether ``X`` is a dask collection (without importing dask when it is not loaded)."""
    dask = sys.modules.get("dask")
    return dask is not None and dask.is_dask_collection(X)


def _apply(X_block, *args, function, n_arrays, shapes, kwargs):
    blocks, shipped = args[:n_arrays], args[n_arrays:]
    # Each per-row array travelled flattened to (rows, -1): give it back its own shape.
    blocks = [b.reshape((b.shape[0], *shape)) for b, shape in zip(blocks, shapes, strict=True)]
    return np.asarray(function(*shipped, X_block, *blocks, **kwargs), dtype=np.float64)


def _apply_frame(frame, *shipped, function, columns, kwargs):
    pd = import_optional("pandas", purpose="a dask DataFrame")
    values = np.asarray(function(*shipped, frame, **kwargs), dtype=np.float64)
    if values.ndim == 1:
        return pd.Series(values, index=frame.index)
    return pd.DataFrame(values, index=frame.index, columns=columns)


def map_row_blocks(function, X, *row_arrays, shipped=(), n_columns=None, columns=None, **kwargs):
    """Apply ``function(*shipped, X_rows, *row_arrays_rows, **kwargs)`` lazily to each row block.

    Parameters
    ----------
    function : callable
        Computes the results of a block of rows (numpy rows, or a pandas frame for a dask
        DataFrame), one result row per input row.
    X : dask array of shape (n, d) or dask DataFrame
        The rows. An array is rechunked to whole rows (one chunk across its columns).
    *row_arrays : array-like of shape (n, ...)
        Arrays with one entry per row of X (attributions, targets, draws), split like X's rows.
    shipped : tuple, default=()
        Large objects the function needs (the fitted explainer, the model): each enters the
        graph once, as one node.
    n_columns : int or None, default=None
        Columns of the result; None for one value per row.
    columns : list of str or None, default=None
        Names of the result's columns, for a dask DataFrame X.
    **kwargs
        Passed to ``function``.

    Returns
    -------
    dask array of shape (n,) or (n, n_columns), or a dask DataFrame/Series for a DataFrame X
        The lazy results.
    """
    dask = import_optional("dask", purpose="dask collections")
    da = import_optional("dask.array", purpose="dask collections")

    nodes = tuple(dask.delayed(obj, pure=True) for obj in shipped)
    if not isinstance(X, da.Array):  # a dask DataFrame: one partition a block
        if not row_arrays:
            meta = _apply_frame(X._meta, function=_empty(n_columns), columns=columns, kwargs={})
            return X.map_partitions(
                _apply_frame, *nodes, function=function, columns=columns, kwargs=kwargs, meta=meta
            )
        raise TypeError(
            "a metric on a dask DataFrame needs its rows as a dask array: pass "
            "X.to_dask_array(lengths=True) (numeric columns), or explain the frame with "
            "explainer.transform, which takes dask DataFrames"
        )
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D dask array (n_samples, n_features), got {X.ndim}-D")
    X = X.rechunk({1: -1})
    flat, shapes = [], []
    for array in row_arrays:
        array = da.asarray(array)
        if array.shape[0] != X.shape[0]:
            raise ValueError(
                f"every per-row array must have {X.shape[0]} rows like X, got {array.shape[0]}"
            )
        shapes.append(array.shape[1:])
        array = array.reshape((array.shape[0], -1)) if array.ndim != 2 else array
        flat.append(array.rechunk((X.chunks[0], -1)))
    if n_columns is None:
        chunks, drop_axis = (X.chunks[0],), 1
    else:
        chunks, drop_axis = (X.chunks[0], (int(n_columns),)), []
    return da.map_blocks(
        _apply,
        X,
        *flat,
        *nodes,
        function=function,
        n_arrays=len(flat),
        shapes=shapes,
        kwargs=kwargs,
        dtype=np.float64,
        chunks=chunks,
        drop_axis=drop_axis,
        meta=np.empty((0,) * len(chunks)),
    )


def _empty(n_columns):
    def meta(frame, **kwargs):
        return np.zeros((len(frame),) if n_columns is None else (len(frame), n_columns))

    return meta
