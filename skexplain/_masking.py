"""The one masking loop: the model at rows whose columns come partly from background rows.

A *composite* of a row x and a background row b for a coalition S takes x's values on the
columns of S and b's elsewhere, ``(x_S, b_(not S))``. :func:`pair_values` evaluates the model at
the composites of every (row, background row) pair; :func:`coalition_values` averages them over
the background, ``v(S) = sum_b w_b f(x_S, b_(not S))``, the interventional game. They serve
:class:`~skexplain.ShapleyExplainer` (its estimators are linear in the values of each pair) and
the masking metrics of :mod:`skexplain.metrics` (a removed feature set to a baseline is a
background of one row; a background of several rows gives the interventional expectation), so
the explanation and the metrics that score it remove features in the same way. A frame's
categorical column is one column of codes here: a composite takes the background row's category.

This module sits at the bottom of the import graph with the engine, whose loops it uses.
"""

from functools import partial

import numpy as np

from . import _engine
from .utils import import_optional, is_tensor

__all__ = ["pair_values", "coalition_values"]


def pair_values(
    model, X, target, masks, background, relabel=None, *, relabel_by="background", out=None
):
    """Values ``f(x_S, b_(not S))`` of the coalitions at every (row, background row) pair.

    Pair ``p = i * m + b`` holds row ``X[i]`` against background row ``b``; its value at
    coalition k is the model at the composite row that takes the row's values on the
    coalition's columns and the background row's elsewhere. The coalition's columns are
    ``masks[k]``, or, with ``relabel``, ``masks[k, relabel[l]]`` where ``l`` is the pair's
    background row (``relabel_by="background"``) or its row (``"row"``): the design's player
    ``relabel[l, a]`` stands for column ``a`` there. ShapleyExplainer relabels its sampled
    designs per background row; the insertion and deletion curves give each row's ranking of
    the columns as its labels, with ``masks`` over ranks.

    Composite rows that are equal are evaluated once. Where the row and a background row agree
    on a column (a category, a count, a zero), whether a coalition holds that column does not
    change the composite, so the coalitions that differ only on such columns share one
    evaluation; on a table with categorical or discrete columns most composites repeat (the
    exact game on the 11 columns of AER's CreditCard needs 14% of them, 10 rows against 50
    background rows). Pairs whose rows differ on every column are sent to the model as they
    are, in chunks of the adapter's ``batch_size``, on its device
    (:meth:`ModelAdapter.query_perturbed`). A Pipeline's leading scalers and encoders
    transform the rows and background rows once, and the composites go to the rest of the
    Pipeline (:meth:`ModelAdapter.masking_inputs`): the same values, without encoding every
    composite. Which composites repeat is decided on the rows' own columns.

    Parameters
    ----------
    model : ModelAdapter
        The adapted model.
    X : ndarray of shape (n, d)
        The explained rows (encoded).
    target : ndarray of shape (n,) or None
        Output index per row.
    masks : ndarray of shape (K, d), bool
        The coalitions (True: the row's value).
    background : ndarray of shape (m, d)
        The background rows (encoded).
    relabel : ndarray of shape (m, d) or (n, d), or None, default=None
        The design's players at each background row or row (see above); None: ``masks`` as
        they are.
    relabel_by : {"background", "row"}, default="background"
        Whether ``relabel`` has one labelling per background row or per row.
    out : ndarray of shape (n * m, K) or None, default=None
        Where to write the values (a caller's buffer, reused across calls); None: a new array.

    Returns
    -------
    ndarray of shape (n * m, K)
        The values of the pairs (``out`` where given).
    """
    n, d = X.shape
    K, m = masks.shape[0], background.shape[0]
    values = np.empty((n * m, K)) if out is None else out
    if K == 0 or n == 0:
        return values
    if relabel_by == "background":
        # The pairs in the order of their background rows, so that runs share one labelling.
        order = np.argsort(np.tile(np.arange(m), n), kind="stable")
    elif relabel_by == "row":
        order = np.arange(n * m)
    else:
        raise ValueError(f"relabel_by must be 'background' or 'row', got {relabel_by!r}")
    rows, backgrounds = order // m, order % m
    labels = None
    if relabel is not None:
        labels = backgrounds if relabel_by == "background" else rows
    targets = None if target is None else target[rows]
    differs = X[rows] != background[backgrounds]
    # A pair that differs on k columns has at most 2**k distinct composites: sorted out where
    # that is fewer than the coalitions (repeats are certain), sent as they are otherwise (a
    # sample of 2,108 coalitions of 30 columns hardly repeats when one column agrees).
    plain = 2.0 ** differs.sum(axis=1) >= K
    # A Pipeline's leading scalers and encoders once for the rows and background rows, not
    # per composite; an encoded column goes with the column it encodes (its owner)
    model, X, background, owners = model.masking_inputs(X, background)
    queried = masks, relabel
    if owners is not None:
        queried = (masks[:, owners], None) if relabel is None else (masks, relabel[:, owners])
    deduplicated = masks, relabel
    for subset, evaluate, (M, R) in (
        (plain, _queried, queried),
        (~plain, partial(_deduplicated, owners=owners), deduplicated),
    ):
        if subset.any():
            evaluate(
                _Scattered(values, order[subset]),
                model,
                X[rows[subset]],
                None if targets is None else targets[subset],
                M,
                background,
                backgrounds[subset],
                R,
                None if labels is None else labels[subset],
                differs[subset],
            )
    return values


def coalition_values(
    model, X, target, masks, background, weights=None, relabel=None, *, relabel_by="background"
):
    """Values ``v(S) = sum_b w_b f(x_S, b_(not S))`` of the coalitions at every row, ``(n, K)``.

    The weighted mean of :func:`pair_values` over the background rows, block by block of rows
    (each block about four model calls, spread by ``n_jobs``): the masking metrics' output with
    a subset of features removed. Parameters as :func:`pair_values`, and ``weights`` of shape
    ``(m,)`` summing to 1 (None: equal weights).

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain._masking import coalition_values
    >>> from skexplain.models import as_model
    >>> model = as_model(lambda X: X[:, 0] * X[:, 1])
    >>> masks = np.array([[True, False], [False, True]])
    >>> background = np.array([[0.0, 1.0], [2.0, 3.0]])
    >>> coalition_values(model, np.array([[1.0, 1.0]]), None, masks, background)  # mean of 1, 3
    array([[2., 1.]])
    """
    n = X.shape[0]
    K, m = masks.shape[0], background.shape[0]
    weights = np.full(m, 1.0 / m) if weights is None else np.asarray(weights, dtype=np.float64)

    def compute(rows):
        labels = relabel[rows] if relabel is not None and relabel_by == "row" else relabel
        t = None if target is None else target[rows]
        values = pair_values(model, X[rows], t, masks, background, labels, relabel_by=relabel_by)
        return weights @ values.reshape(-1, m, K)  # (c, K)

    return _engine.map_row_chunks(
        n,
        compute,
        per_row=max(1, m * K),
        budget=4 * model.batch_size,
        empty_shape=(0, K),
    )


class _Scattered:
    """Rows of ``values`` in another order: ``self[rows] = part`` writes
    ``values[positions[rows]]``, so the engine's chunks of pairs, sorted by their labelling, go
    straight to the caller's rows (no intermediate array the size of the values)."""

    __slots__ = ("values", "positions")

    def __init__(self, values, positions):
        self.values, self.positions = values, positions

    def __setitem__(self, rows, part):
        self.values[self.positions[rows]] = part


def _gather_index(held, labels=None):
    """Where each column of a composite comes from in ``[background row, row]`` (2 d values):
    the background row's value at j, the row's at d + j where the coalition holds column j.

    With ``labels`` (a labelling of the players, ``(d,)``), the coalitions ``held[:,
    labels]``. The index is C-contiguous whatever the layout of ``held``: numpy's gather reads
    a strided index at about half the speed (a relabelled design's columns are strided)."""
    if labels is not None:
        held = np.take(held, labels, axis=-1)
    d = held.shape[-1]
    index = np.multiply(held, d, dtype=np.intp, order="C")
    index += np.arange(d)
    return index


def _composites(X, background, index, out=None):
    """Rows ``(c, K, d)``: X's values where the coalitions hold the column, the background rows'
    elsewhere, for ``index = _gather_index(held)`` of coalitions ``held`` ``(K, d)`` shared by
    the c pairs ``(X, background)``. A gather: exact, and several times faster than
    ``np.where`` over the broadcast shapes. ``mode="clip"`` (the index is in range by
    construction) spares numpy's buffered copy of ``out`` that ``"raise"`` makes: half the time."""
    source = np.concatenate([background, X], axis=1)
    return np.take(source, index, axis=1, out=out, mode="clip")


def _queried(out, model, pairs, targets, masks, background, backgrounds, relabel, labels, differs):
    """Every composite of the pairs, through the engine in chunks (on the model's device);
    ``out[rows] = values`` receives the values of each chunk of pairs."""
    K = masks.shape[0]
    B = model.to_native(background)
    M = model.to_native(masks.astype(np.float64)) > 0.5  # (K, d), native bool
    shared = _gather_index(masks)
    # A torch model on the CPU gets numpy's gather on its tensors' memory (about 4x torch's
    # indexing or where there); on an accelerator the composites are made on the device.
    on_cpu = not is_tensor(B) or B.device.type == "cpu"
    source_rows = B.numpy() if is_tensor(B) and on_cpu else background

    def expand(Xc, chunk):
        b = backgrounds[chunk]
        if not on_cpu:
            torch = import_optional("torch", purpose="masking the inputs of a torch model")
            held = M[None]
            if relabel is not None:  # (c, K, d): the coalitions in each pair's labels
                own = relabel[labels[chunk]]
                held = torch.as_tensor(masks[:, own].transpose(1, 0, 2), device=Xc.device)
            Bc = B[torch.as_tensor(b, device=Xc.device)][:, None, :]
            return torch.where(held, Xc[:, None, :], Bc)
        if is_tensor(Xc):
            return import_optional("torch", purpose="masking").from_numpy(
                gathered(Xc.numpy(), b, chunk)
            )
        return gathered(Xc, b, chunk)

    indices = {}  # the gather index of each labelling: the pairs come sorted by their labels

    def index_of(label):
        index = indices.get(label)
        if index is None:
            if len(indices) >= 4:  # runs of a label are consecutive: a few are enough
                indices.clear()
            index = indices[label] = _gather_index(masks, relabel[label])
        return index

    buffer = []  # the composites of every chunk, in one array: the model's until it returns

    def composites_buffer(Xc):
        shape = (Xc.shape[0], K, Xc.shape[1])
        if not buffer or buffer[0].shape[0] < shape[0] or buffer[0].dtype != Xc.dtype:
            buffer[:] = [np.empty(shape, dtype=Xc.dtype)]
        return buffer[0][: shape[0]]

    def gathered(Xc, b, chunk):
        if relabel is None:
            return _composites(Xc, source_rows[b], shared, out=composites_buffer(Xc))
        # One gather per run of pairs with the same labelling, its index made once per label
        # (a run spans chunks); one gather for all where the runs are too short for a loop
        # (a labelling per row against a single baseline row: the curves' rankings).
        own = labels[chunk]
        runs = np.flatnonzero(np.diff(own, prepend=-1))
        if len(runs) > 8 and K * Xc.shape[1] * len(b) < 4096 * len(runs):
            held = masks[:, relabel[own]].transpose(1, 0, 2)  # (c, K, d)
            source = np.concatenate([source_rows[b], Xc], axis=1)[:, None, :]
            return np.take_along_axis(source, _gather_index(held), axis=2)
        Z = composites_buffer(Xc)
        for start, stop in zip(runs, [*runs[1:], len(b)], strict=True):
            index = index_of(own[start])
            _composites(Xc[start:stop], source_rows[b[start:stop]], index, out=Z[start:stop])
        return Z

    def reduce(V, Z, Xc, chunk):
        return V

    # Chunks in series (they share the buffer): this loop runs inside the callers' loop over
    # blocks of rows, which is the one that n_jobs spreads.
    with _engine.parallel_rows(1, 0):
        model.query_perturbed(
            pairs, targets, expand, reduce, n_per_row=K, kind="predict", keep_inputs=False, out=out
        )


def _deduplicated(
    out, model, pairs, targets, masks, background, backgrounds, relabel, labels, differs, owners
):
    """The distinct composites of the pairs only, each evaluated once (``out[:] = values``).

    A composite is fixed by its pair and the columns where it takes the row's value and the row
    differs from the background row: coalitions that agree on those columns give the same
    composite. A pair that differs on k columns numbers them 0 to k - 1 and codes each
    coalition by the bits of the ones it holds, ``code < 2**k`` (k is small here: ``2**k`` is
    fewer than the coalitions). The codes of all coalitions at all pairs are one matrix product;
    a pair's distinct composites are its codes that occur, found by marking them in a table of
    ``2**k`` slots per pair (no sort), and evaluated in the order of their codes. With
    ``owners`` (the column of the rows each column of the transformed ``pairs`` and
    ``background`` encodes), ``masks``, ``relabel`` and ``differs`` are over the rows' columns
    and a composite takes the encoded columns of the columns it holds.
    """
    P = pairs.shape[0]
    position = np.where(differs, np.cumsum(differs, axis=1) - 1, 0)  # differing columns' numbers
    weight = np.where(differs, np.ldexp(1.0, position), 0.0)  # 2**number, exact in float64
    if relabel is not None:  # weights of the design's players: column a is player relabel[l, a]
        players = np.zeros((P, masks.shape[1]))
        np.add.at(players, (np.arange(P)[:, None], relabel[labels]), weight)
        weight = players
    codes = (weight @ masks.T.astype(np.float64)).astype(np.int64)  # (P, K)
    slots = 1 << int(differs.sum(axis=1).max())
    codes += np.arange(P)[:, None] * slots  # one table of slots for all pairs
    occurs = np.zeros(P * slots, dtype=bool)
    occurs[codes.ravel()] = True
    distinct = np.flatnonzero(occurs)  # by pair, then code
    number = np.cumsum(occurs) - 1  # the distinct composite in each occurring slot
    pair, code = np.divmod(distinct, slots)
    values = np.empty(pair.size)
    for chunk in _engine.row_chunks(pair.size, budget=model.batch_size):
        p = pair[chunk]
        held = differs[p] & ((code[chunk, None] >> position[p]) & 1).astype(bool)
        if owners is not None:
            held = held[:, owners]
        source = np.concatenate([background[backgrounds[p]], pairs[p]], axis=1)
        composite = np.take_along_axis(source, _gather_index(held), axis=1)
        values[chunk] = model.predict(composite, None if targets is None else targets[p])
    out[:] = values[number[codes]]
