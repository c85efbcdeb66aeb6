"""The engine: every loop over chunks of rows and their perturbed copies, and their sizes.

One chunking policy: a chunk holds ``max(1, budget // per_row)`` rows, where ``per_row`` is the
work one row brings (its perturbed copies, its finite-difference points, the columns of its
kernel row) and ``budget`` is one of the sizes set below, in this one place. One loop,
:func:`map_row_chunks`, runs every chunked computation and writes the chunks' results into one
preallocated array. On it sit the two loops over perturbed copies:

* :func:`query_perturbed`: the model's outputs or gradients at the copies (the explainers'
  noise, the metrics' draws), run by :meth:`skexplain.models.ModelAdapter.query_perturbed`;
* :func:`explain_perturbed`: fitted explainers' explanations of the copies (sensitivity and
  stability metrics, kernel smoothing, the aggregator's robust weights).

On :func:`query_perturbed` sits the one masking loop, :mod:`skexplain._masking`: the model at
rows whose columns come partly from background rows (the Shapley explainers' game, and the
masking metrics' removal).

Both take the same callbacks: ``expand(X_rows, rows) -> Z``, the copies ``(c, m, d)`` of the rows
``rows`` (a slice of X) whose values are ``X_rows``, and ``reduce(values, Z, X_rows, rows)``, an
array whose first axis is the chunk's rows. This module imports nothing from the rest of the
package, so every layer may use it.
"""

import contextlib
import contextvars
import copy
import functools
import pathlib

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "ACCELERATOR_BATCH_SIZE",
    "EXPLAIN_BATCH_SIZE",
    "KERNEL_BLOCK_ENTRIES",
    "KERNEL_BLOCK_ROWS",
    "TRAINING_BATCH_SIZE",
    "SHAPLEY_VALUES_PER_BLOCK",
    "SHAPLEY_QUERY_CACHE_BYTES",
    "SHAPLEY_QUERY_VALUES",
    "SHAPLEY_QUERY_ROWS",
    "last_level_cache_bytes",
    "shapley_query_rows",
    "rows_per_chunk",
    "row_chunks",
    "map_row_chunks",
    "parallel_rows",
    "parallel_map",
    "query_perturbed",
    "explain_perturbed",
]

# -- the sizes: every chunk of the package is set here ----------------------------------------
# Model evaluations per chunk on the CPU: large enough that per-call overhead vanishes for small
# networks, small enough that a chunk's activations stay in cache. Against 32,768, on 2 cores:
# C-LIME on an MLPClassifier(64, 64) took 4.2-5.9 ms per row instead of 6.8-8.0; SmoothGrad-50
# and IG-50 on a 30-64-64-2 torch MLP ran 1.2-1.4x faster; infidelity within noise.
DEFAULT_BATCH_SIZE = 8192
# On an accelerator, larger chunks keep the device busy (torch modules on CUDA).
ACCELERATOR_BATCH_SIZE = 32768
# Perturbed rows explained per call of an explainer: bounds the memory of the copies and their
# explanations.
EXPLAIN_BATCH_SIZE = 8192
# Entries of a block of a kernel matrix between query rows and inducing points (the GP's
# posterior mean): 4M float64, 32 MB.
KERNEL_BLOCK_ENTRIES = 1 << 22
# Rows of the n x n kernel matrix of the robustness loss held at once: memory O(2048 n).
KERNEL_BLOCK_ROWS = 2048
# Network evaluations per chunk of the explanation-regularized training (torch, any device).
TRAINING_BATCH_SIZE = 32768
# Coalition values f(x_S, b_rest) of the Shapley explainers held at once (rows x background rows
# x coalitions of a block of rows, 32 MB): the block's values are combined into attributions by
# one matrix product before the next block is evaluated (in chunks of batch_size). Each
# labelling of the design is turned into a gather index once per block, so a block of about
# 40 rows (2,108 coalitions x 50 background rows) makes that cost a tenth of the gathers'.
SHAPLEY_VALUES_PER_BLOCK = 1 << 22
# Inputs (rows x columns) of a Shapley query when the model's batch_size is left at its default,
# between DEFAULT_BATCH_SIZE and SHAPLEY_QUERY_ROWS rows: the best call size follows the CPU's
# last-level cache. The sklearn MLP of benchmarks/bench_shapley.py (a), 30 columns, one thread,
# per million rows: on an Intel Xeon with a 300 MiB L3, 0.41 s in calls of 8,192 rows and 0.37 s
# in calls of 32,768; on an AMD EPYC with a 32 MiB L3, 0.27 s and 0.36 s (16,384: 0.29 s). A call
# of one input value per SHAPLEY_QUERY_CACHE_BYTES bytes of that cache (float64 inputs filling a
# sixteenth of it, the rest left to the model's intermediates) gives 8,738 rows on the AMD and
# 32,768 (the cap) on the Intel; where the cache's size is unknown, SHAPLEY_QUERY_VALUES. The cap
# bounds what a model makes per input row (a wide hidden layer on a 4-column table) at 4x the
# default's.
SHAPLEY_QUERY_CACHE_BYTES = 128
SHAPLEY_QUERY_VALUES = 1 << 20
SHAPLEY_QUERY_ROWS = 4 * DEFAULT_BATCH_SIZE


@functools.cache
def last_level_cache_bytes(root="/sys/devices/system/cpu/cpu0/cache"):
    """Size of the CPU's largest data cache in bytes, from Linux's sysfs (None elsewhere)."""
    sizes = {}
    for entry in pathlib.Path(root).glob("index*"):
        try:
            if (entry / "type").read_text().strip() in ("Data", "Unified"):
                level = int((entry / "level").read_text())
                sizes[level] = _bytes((entry / "size").read_text().strip())
        except (OSError, ValueError):
            continue
    return sizes[max(sizes)] if sizes else None


def _bytes(text):
    """``"32768K"`` (sysfs's way) as bytes; plain digits are bytes."""
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:].upper(), 1)
    return int(text[:-1] if scale > 1 else text) * scale


def shapley_query_rows(n_columns):
    """Rows per Shapley query on the CPU when the model's batch size is left at its default."""
    cache = last_level_cache_bytes()
    values = SHAPLEY_QUERY_VALUES if cache is None else cache // SHAPLEY_QUERY_CACHE_BYTES
    rows = values // max(int(n_columns), 1)
    return min(SHAPLEY_QUERY_ROWS, max(DEFAULT_BATCH_SIZE, rows))


def rows_per_chunk(per_row, budget=DEFAULT_BATCH_SIZE):
    """Rows in a chunk when each row costs ``per_row`` units of a ``budget``: at least one."""
    return max(1, int(budget) // max(1, int(per_row)))


def row_chunks(n_rows, per_row=1, budget=DEFAULT_BATCH_SIZE):
    """The slices of ``range(n_rows)`` that :func:`rows_per_chunk` gives, in order."""
    step = rows_per_chunk(per_row, budget)
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


# n_jobs and verbose of the call being run (an explainer's transform, a metric): read by the
# outermost map_row_chunks, which runs the chunks in parallel and shows the progress bar.
_PARALLEL = contextvars.ContextVar("skexplain_parallel", default=(None, 0))


@contextlib.contextmanager
def parallel_rows(n_jobs=None, verbose=0):
    """Run the row chunks of the computations inside this block with joblib and a progress bar.

    ``n_jobs`` follows joblib (None: 1 unless a ``joblib.parallel_config`` says otherwise; -1: all
    cores), so ``joblib.parallel_config(backend="dask")`` or Ray's backend spreads the chunks over
    a cluster. Only the outermost loop of chunks is spread and shown; the loops it calls run in
    series. Every chunk computes the same values wherever it runs (each explainer and metric
    draws one bank of perturbations from its seed and applies it to every row), so the result
    equals ``n_jobs=1`` exactly.
    """
    token = _PARALLEL.set((n_jobs, int(verbose or 0)))
    try:
        yield
    finally:
        _PARALLEL.reset(token)


def parallel_workers():
    """Workers that the outermost loop of chunks will use here: 1 outside :func:`parallel_rows`
    and inside a chunk, else joblib's ``effective_n_jobs`` of its ``n_jobs``."""
    n_jobs = _PARALLEL.get()[0]
    if n_jobs == 1:
        return 1
    from joblib import effective_n_jobs

    return effective_n_jobs(n_jobs)


def parallel_map(n_jobs):
    """``joblib.Parallel(n_jobs)`` returning results as they finish, where the backend can.

    A generator lets the caller write each result into its output (or advance a progress bar)
    as it arrives instead of holding them all; backends that cannot stream (Ray's) return the
    list.
    """
    from joblib import Parallel
    from joblib.parallel import get_active_backend

    backend, _ = get_active_backend()
    streams = getattr(backend, "supports_return_generator", False)
    return Parallel(n_jobs=n_jobs, return_as="generator" if streams else "list")


def _serial(compute):
    """``compute`` with the loops it calls kept in series and silent (they run inside a chunk)."""

    def run(rows):
        with parallel_rows(1, 0):
            return compute(rows)

    return run


def map_row_chunks(
    n_rows, compute, *, per_row=1, budget=DEFAULT_BATCH_SIZE, empty_shape=(0,), out=None
):
    """Run ``compute(rows) -> array`` on every chunk of rows and stack the results.

    The one loop of the package. The output is preallocated after the first chunk (a list of
    parts would fragment the heap); with no rows it is ``np.zeros(empty_shape)``. ``out``, if
    given, receives the parts instead (``out[rows] = part``, any object that takes it) and is
    returned. Inside :func:`parallel_rows` the chunks run through joblib and show a progress
    bar.
    """
    chunks = list(row_chunks(n_rows, per_row, budget))
    n_jobs, verbose = _PARALLEL.get()
    run = _serial(compute)
    if n_jobs == 1 or len(chunks) < 2:
        parts = map(run, chunks)
    else:
        from joblib import delayed, effective_n_jobs

        if effective_n_jobs(n_jobs) == 1:
            parts = map(run, chunks)
        else:
            parts = parallel_map(n_jobs)(delayed(run)(rows) for rows in chunks)
    if verbose and chunks:
        from tqdm.auto import tqdm

        parts = tqdm(parts, total=len(chunks), unit="chunk", desc="skexplain", leave=False)
    if out is not None:
        for rows, part in zip(chunks, parts, strict=True):
            out[rows] = part
        return out
    for rows, part in zip(chunks, parts, strict=True):
        part = np.asarray(part, dtype=np.float64)
        if out is None:
            out = np.empty((n_rows, *part.shape[1:]))
        out[rows] = part
    return np.zeros(empty_shape) if out is None else out


def query_perturbed(
    model, X, target, expand, reduce, *, n_per_row, kind="gradient", keep_inputs=True, out=None
):
    """Evaluate a model adapter on perturbed copies of every row and reduce them per row.

    Rows go in chunks of ``max(1, model.batch_size // n_per_row)`` so that each model query sees
    at most about ``batch_size`` inputs; ``expand`` and ``reduce`` see native arrays (numpy, or
    tensors on the model's device); ``out`` as in :func:`map_row_chunks`. See
    :meth:`skexplain.models.ModelAdapter.query_perturbed`.
    """
    if kind not in ("gradient", "predict"):
        raise ValueError(f"kind must be 'gradient' or 'predict', got {kind!r}")
    n, d = X.shape

    def compute(rows):
        Xc = model.to_native(X[rows])
        c = Xc.shape[0]
        Z = expand(Xc, rows)
        codec = getattr(model, "codec", None)
        if kind == "gradient" and codec is not None and codec.has_categorical:
            # Categories have no gradient: every copy keeps the row's own categories (the
            # explainers attribute them by occlusion, see BaseExplainer).
            Z = np.array(Z, dtype=np.float64)
            Z[:, :, codec.categorical_] = Xc[:, None, codec.categorical_]
        flat = Z.reshape(c * n_per_row, d)
        t = None if target is None else np.repeat(target[rows], n_per_row)
        if kind == "gradient":
            V = model._gradient_native(flat, t).reshape(c, n_per_row, d)
        elif keep_inputs:
            V = model._predict_native(flat, t).reshape(c, n_per_row)
        else:  # the inputs are the model's: nobody reads them afterwards
            V = model._predict_owned(flat, t).reshape(c, n_per_row)
            Z = None
        return model.to_numpy(reduce(V, Z, Xc, rows))

    return map_row_chunks(
        n, compute, per_row=n_per_row, budget=model.batch_size, empty_shape=(0, d), out=out
    )


def _is_skexplain_explainer(explainer):
    # A skexplain explainer (BaseExplainer) explains for a given output through ``_explain``
    # (wrapped by ``_explain_raw_columns``, which adds the rule for categorical columns);
    # tested by its protocol so that this module stays below ``base`` in the import graph.
    return callable(getattr(explainer, "_explain_raw_columns", None)) and hasattr(
        explainer, "target"
    )


def _explain_copies(explainer, X, Z, target=None):
    """Explanations ``(c, m, d)`` of perturbed copies ``Z`` of the rows ``X``.

    A skexplain explainer explains each copy for the output chosen at its original row (the
    predicted class at x is kept for every copy, as the metrics and Captum do), or for ``target``
    (one index per row) when given; any other object with ``transform`` is simply asked to
    transform the copies.
    """
    c, m, d = Z.shape
    flat = Z.reshape(c * m, d)
    if _is_skexplain_explainer(explainer):
        check_is_fitted(explainer)
        if target is None:
            target = explainer.model_.resolve_target(X, explainer.target)
        target = None if target is None else np.repeat(target, m)
        explained = explainer._explain_raw_columns(flat, target)
    else:
        explained = explainer.transform(flat)
    return np.asarray(explained, dtype=np.float64).reshape(c, m, d)


def _reseeded(explainer, rng):
    """A shallow copy of a fitted explainer drawing its noise from a seed taken from ``rng``.

    The copy's ``random_state`` (where it has one) and those of its fitted inner explainers
    (attributes ending in ``_`` holding an explainer, or a list of them or of ``(name,
    explainer)`` pairs, as :class:`~skexplain.KernelSmoothed` and the aggregator keep) become new
    integers; the explainer itself is untouched. ``rng=None`` returns the explainer as it is.
    """
    if rng is None or not isinstance(explainer, BaseEstimator):
        return explainer
    fresh = copy.copy(explainer)
    if "random_state" in explainer.get_params(deep=False):
        fresh.random_state = int(rng.randint(np.iinfo(np.int32).max))
    for name, value in vars(explainer).items():
        if not name.endswith("_") or name.startswith("_"):
            continue
        if isinstance(value, BaseEstimator):
            setattr(fresh, name, _reseeded(value, rng))
        elif isinstance(value, list) and value:
            setattr(fresh, name, [_reseeded_member(member, rng) for member in value])
    return fresh


def _reseeded_member(member, rng):
    if isinstance(member, tuple) and len(member) == 2:
        return member[0], _reseeded(member[1], rng)
    return _reseeded(member, rng)


def _explain_rows(explainer, X, target):
    """Explanations of the rows themselves, for ``target`` when given (as ``transform`` else).

    The rows are the encoded float rows of the engine: a skexplain explainer explains them
    directly, as it does their copies (``transform`` would take them for a new table, and warn
    that an explainer fitted on a frame got an array)."""
    if _is_skexplain_explainer(explainer):
        check_is_fitted(explainer)
        if target is None:
            target = explainer.model_.resolve_target(X, explainer.target)
        return np.asarray(explainer._explain_raw_columns(X, target), dtype=np.float64)
    return np.asarray(explainer.transform(X), dtype=np.float64)


def explain_perturbed(
    explainers, X, expand, n_per_row, reduce, *, at_rows=True, target=None, fresh_noise=None
):
    """Explain perturbed copies of every row with fitted explainers, chunk by chunk.

    Parameters
    ----------
    explainers : list of fitted explainers
        The explainers; ``reduce`` sees their explanations stacked in this order.
    X : ndarray of shape (n, d)
        The rows whose copies are explained.
    expand : callable
        ``expand(X_rows, rows) -> Z``, the perturbed copies ``(c, n_per_row, d)`` of the rows
        ``rows`` (a slice of X) whose values are ``X_rows``.
    n_per_row : int
        Copies per row.
    reduce : callable
        ``reduce(values, Z, X_rows, rows) -> array`` whose first axis is the chunk's rows, with
        ``values = (phi_x, phi_z)``: the explanations at the rows, ``(c, k, d)`` for k
        explainers (None when ``at_rows`` is False), and at the copies, ``(c, n_per_row, k, d)``.
    at_rows : bool, default=True
        Whether ``reduce`` needs ``phi_x``.
    target : ndarray of shape (n,) or None, default=None
        Output index of each row, kept for its copies; None resolves it with each explainer's
        own ``target`` at the rows (the predicted class at x). A meta-explainer called with a
        caller's target (the copies of a metric) must pass it on here.
    fresh_noise : RandomState instance or None, default=None
        None explains the rows and all their copies with the explainers as fitted: a
        stochastic explainer with an integer ``random_state`` reuses one noise bank at x and at
        every copy (common random numbers). A RandomState draws fresh noise instead: the rows
        and each copy index are explained by a copy of the explainer (and of its fitted inner
        explainers) reseeded from it, as Yeh et al.'s code, Captum and Decker et al.'s code
        re-explain every perturbed input with new noise.

    Returns
    -------
    ndarray
        The reductions of all chunks, stacked along the first axis.

    Examples
    --------
    The mean distance between the gradient at a row and at copies shifted by 0.1:

    >>> import numpy as np
    >>> from skexplain import Gradient
    >>> from skexplain.base import explain_perturbed
    >>> X = np.array([[0.0, 1.0], [2.0, 3.0]])
    >>> grad = Gradient(model=lambda X: (X**2).sum(axis=1)).fit(X)
    >>> def reduce(values, Z, X_rows, rows):
    ...     phi_x, phi_z = values
    ...     return np.linalg.norm(phi_z - phi_x[:, None], axis=-1).mean(axis=(1, 2))
    >>> explain_perturbed([grad], X, lambda X_rows, rows: X_rows[:, None] + 0.1, 1, reduce)
    array([0.28284271, 0.28284271])
    """

    def compute(rows):
        Xc = X[rows]
        Z = np.asarray(expand(Xc, rows), dtype=np.float64)
        t = None if target is None else target[rows]
        phi_x = None
        if at_rows:
            phi_x = np.stack(
                [_explain_rows(_reseeded(e, fresh_noise), Xc, t) for e in explainers], axis=1
            )
        if fresh_noise is None:
            phi_z = np.stack([_explain_copies(e, Xc, Z, t) for e in explainers], axis=2)
        else:  # one reseeded explainer per copy index: every copy of a row gets its own noise
            phi_z = np.stack(
                [
                    np.concatenate(
                        [
                            _explain_copies(_reseeded(e, fresh_noise), Xc, Z[:, j : j + 1], t)
                            for j in range(Z.shape[1])
                        ],
                        axis=1,
                    )
                    for e in explainers
                ],
                axis=2,
            )
        return reduce((phi_x, phi_z), Z, Xc, rows)

    return map_row_chunks(X.shape[0], compute, per_row=n_per_row, budget=EXPLAIN_BATCH_SIZE)
