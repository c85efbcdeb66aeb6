"""Nearest rows of every row: exact search, or an approximate graph for millions of rows.

The kNN similarity graph of :func:`skexplain.kernels.knn_kernel_graph` needs each row's nearest
rows. Exact search costs ``N^2 D`` (scikit-learn's chunked brute force, the fastest exact option
in 30 dimensions): about 30-50 s CPU at 100,000 rows and an hour at a million. Past
:data:`APPROXIMATE_FROM` rows ``"auto"`` builds an HNSW graph with faiss (the ``[scale]`` extra),
whose cost grows as ``N log N``; :func:`neighbor_recall` measures on a sample how many of the
true nearest rows it found. The graph holds the rows as 8-bit codes where a check on a sample
finds that they keep the nearest rows (uniform, standardized or log-normal columns do; an
identifier column does not), and ranks each row's candidates by their exact distances.
"""

import ctypes
import sys
import warnings

import numpy as np
from sklearn.utils import check_random_state

from .utils import check_positive_integer, import_optional

__all__ = [
    "nearest_neighbors",
    "neighbor_recall",
    "ALGORITHMS",
    "APPROXIMATE_FROM",
]

ALGORITHMS = ("auto", "exact", "approximate")
#: Rows from which ``algorithm="auto"`` searches approximately (where faiss is installed). On
#: uniform rows of 30 features (the hard case for the graph) exact brute force took 5.0-5.2 s at
#: 50,000 rows against the graph's 5.4-6.6 s, and 20 s at 100,000 against 13-15 s (this also
#: prints both: benchmarks/bench_property_optimized.py section (c)).
APPROXIMATE_FROM = 100_000

# HNSW: links per node, and candidate-list sizes while building and searching. On uniform rows
# in 30 dimensions (a hard case: no low-dimensional structure), M = 32 with ef 80 found 98.8% of
# the 10 nearest rows at 100,000 rows and 98.0% at 300,000 with a search ef of 64, 99.6% and 99.3%
# with 128 (at twice the search's cost); M = 16 with ef 40 / 64 only 88.6% at 100,000. The share
# missed grows about 1.6x for every 3x rows, so 96 keeps a million rows well above 95%.
_HNSW_LINKS = 32
_HNSW_EF_CONSTRUCTION = 80
_HNSW_EF_SEARCH = 96
# Rows are stored, inserted and searched cluster by cluster (k-means on a sample, at most this many
# clusters), in batches of this many rows: consecutive insertions and searches then visit the same
# part of the graph, which stays in the CPU's caches (in random order each one misses them once the
# index outgrows them: the construction cost 4.6x for 3x rows from 100,000, 3.4x in this order).
_LOCALITY_CLUSTERS = 256
_INSERT_BATCH = 4096
# The graph stores each row as 8 bits a column (min to max) where that keeps at least this share
# of the nearest rows among the 2 k + 1 nearest codes (checked on this many rows); the candidates
# are then ranked by their exact distances. The codes take a quarter of the rows' memory: at a
# million uniform rows of 30 features the construction took 138 s against 178 s and the search
# 143 s against 166 s, at about the same recall (0.9742 against 0.9755; 0.9931 both at 100,000).
_CODES_KEEP = 0.995
_CODES_CHECKED = 500
_PURPOSE = "the approximate neighbour graph"
# madvise's advice to collapse a range into transparent huge pages now (<linux/mman.h>).
_MADV_COLLAPSE = 25


def nearest_neighbors(X, n_neighbors, *, algorithm="auto", random_state=None, return_recall=False):
    """Find each row's ``n_neighbors`` nearest other rows, shape ``(n, n_neighbors)``.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Rows.
    n_neighbors : int
        Neighbours per row, the row itself excluded (at most ``n - 1``).
    algorithm : {"auto", "exact", "approximate"}, default="auto"
        Exact brute force, an approximate HNSW graph (faiss), or exact below
        ``APPROXIMATE_FROM`` (100,000) rows and approximate from there (exact, with a warning,
        where faiss is not installed).
    random_state : int, RandomState instance or None, default=None
        Picks the rows on which an approximate graph's recall is measured (the HNSW graph
        itself draws its levels from faiss's own fixed seed, so the same rows give the same
        graph).
    return_recall : bool, default=False
        Also return the recall: 1.0 for an exact search, else :func:`neighbor_recall` on 1,000
        rows.

    Returns
    -------
    indices : ndarray of shape (n, min(n_neighbors, n - 1))
        Neighbour indices, nearest first.
    recall : float
        Only with ``return_recall=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.kernels import nearest_neighbors
    >>> nearest_neighbors(np.array([[0.0], [1.0], [5.0]]), 1)
    array([[1],
           [0],
           [1]])
    """
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    k = min(check_positive_integer(n_neighbors, "n_neighbors"), max(n - 1, 0))
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    if k == 0:
        indices, recall = np.zeros((n, 0), dtype=np.int64), 1.0
    elif algorithm == "exact" or (algorithm == "auto" and not _approximates(n)):
        indices, recall = _exact(X, X, k + 1, exclude_self=True), 1.0
    else:
        indices = _hnsw(X, k)
        recall = neighbor_recall(X, indices, random_state=random_state) if return_recall else None
    return (indices, recall) if return_recall else indices


def _approximates(n):
    """Whether ``algorithm="auto"`` builds the approximate graph for ``n`` rows."""
    if n < APPROXIMATE_FROM:
        return False
    try:
        import_optional("faiss", purpose=_PURPOSE)
    except ImportError as error:
        warnings.warn(
            f"{n:,} rows: exact nearest-neighbour search ({error})", UserWarning, stacklevel=3
        )
        return False
    return True


def _exact(X, queries, k, *, exclude_self):
    from sklearn.neighbors import NearestNeighbors

    # Centre first: brute force expands ||x||^2 + ||y||^2 - 2 x.y, which cancels for columns
    # with a large offset; the ranking of centred rows is the same and loses nothing.
    centre = X.mean(axis=0)
    search = NearestNeighbors(n_neighbors=k).fit(X - centre)
    indices = search.kneighbors(queries - centre, return_distance=False)
    if not exclude_self:
        return indices
    return _drop_self(indices, np.arange(queries.shape[0]) if queries is X else None)


def _drop_self(indices, own):
    """Remove each row's own index from its list (it is usually, not always, listed first)."""
    n, k = indices.shape
    own = np.arange(n) if own is None else own
    is_self = indices == own[:, None]
    # A row whose own index is missing (ties at distance 0) drops its farthest neighbour.
    is_self[~is_self.any(axis=1), -1] = True
    return indices[~is_self].reshape(n, k - 1)


def _hnsw(X, k):
    faiss = import_optional("faiss", purpose=_PURPOSE)
    centred = np.ascontiguousarray(X - X.mean(axis=0), dtype=np.float32)
    order = _locality_order(faiss, centred)
    rows = np.ascontiguousarray(centred[order])
    del centred
    padded = np.pad(rows, ((0, 0), (0, -rows.shape[1] % 8)))
    quantized = _share_kept_by_codes(faiss, padded, k) >= _CODES_KEEP
    rows = padded if quantized else rows
    del padded
    index = _hnsw_build(faiss, rows, quantized=quantized)
    if quantized:  # more candidates, ranked by their exact distances
        found = _nearest_listed(rows, _hnsw_search(faiss, index, rows, min(2 * k + 1, len(rows))))
        found = found[:, : k + 1]
    else:
        found = _hnsw_search(faiss, index, rows, k + 1)  # positions in `order`
    # HNSW may return -1 when it finds fewer than k + 1 rows; repeat the row's nearest instead.
    missing = found < 0
    if missing.any():
        found[missing] = np.broadcast_to(found[:, :1], found.shape)[missing]
    indices = np.empty_like(found)
    indices[order] = order[found]  # back to the rows of X
    return _drop_self(indices, np.arange(X.shape[0]))


def _share_kept_by_codes(faiss, rows, k):
    """The share of the ``k`` nearest rows that 8-bit codes of ``rows`` keep among the
    ``2 k + 1`` nearest codes, on :data:`_CODES_CHECKED` rows, by brute force over all codes.

    Quantizing each column from its minimum to its maximum loses a column whose neighbours
    differ by less than a 255th of its range (an identifier; a price among rows of the same
    shape): there the codes tie, and the exact distances cannot rank what the graph missed.
    """
    n = rows.shape[0]
    codes = faiss.IndexScalarQuantizer(rows.shape[1], faiss.ScalarQuantizer.QT_8bit)
    codes.train(rows)
    codes.add(rows)
    sample = np.sort(np.random.default_rng(0).choice(n, size=min(_CODES_CHECKED, n), replace=False))
    _, candidates = codes.search(np.ascontiguousarray(rows[sample]), min(2 * k + 1, n))
    return _share_near(rows, sample, candidates, k)


def _nearest_listed(rows, found):
    """``found`` (-1 for none) reordered by the listed rows' exact distances, nearest first."""
    ranked = np.empty_like(found)
    step = 1 << 16
    for start in range(0, found.shape[0], step):
        block = found[start : start + step]
        squared = listed_squared_distances(
            rows, np.maximum(block, 0), np.arange(start, start + block.shape[0])
        )
        squared[block < 0] = np.inf
        keep = np.argsort(squared, axis=1, kind="stable")
        ranked[start : start + step] = np.take_along_axis(block, keep, axis=1)
    return ranked


def _locality_order(faiss, rows):
    """A permutation of the rows that lists them cluster by cluster (k-means on a sample)."""
    n, d = rows.shape
    n_clusters = min(_LOCALITY_CLUSTERS, n // 1024)
    if n_clusters < 2:
        return np.arange(n)
    kmeans = faiss.Kmeans(d, n_clusters, niter=8, seed=1234, max_points_per_centroid=64)
    kmeans.train(rows)
    _, labels = kmeans.index.search(rows, 1)
    return np.argsort(labels.ravel(), kind="stable")


def _hnsw_build(faiss, rows, *, quantized=False):
    """The HNSW graph over float32 ``rows`` (stored as they are, or as 8-bit codes when
    ``quantized``: a multiple of 8 columns takes faiss's vectorized path), inserted in batches
    in their order."""
    n, d = rows.shape
    if quantized:
        index = faiss.IndexHNSWSQ(d, faiss.ScalarQuantizer.QT_8bit, _HNSW_LINKS)
        index.train(rows)  # each column's minimum and maximum
    else:
        index = faiss.IndexHNSWFlat(d, _HNSW_LINKS)
    index.hnsw.efConstruction = _HNSW_EF_CONSTRUCTION
    for vector, size, itemsize in _graph_arrays(faiss, index, n):
        _reserve_on_huge_pages(vector, size, itemsize)
    for start in range(0, n, _INSERT_BATCH):
        index.add(rows[start : start + _INSERT_BATCH])
    return index


def _graph_arrays(faiss, index, n):
    """The graph's two large arrays, ``(faiss vector, items for n rows, bytes per item)``: the
    stored rows (bytes), and the links (2 M per row on the bottom layer, M per upper layer: a
    row has one upper layer in M on average); none where faiss does not expose them (before
    1.7.2 the stored rows were not ``codes``)."""
    try:
        storage = faiss.downcast_index(index.storage)
        codes, code_size = storage.codes, storage.code_size
        links = index.hnsw.neighbors
    except AttributeError:
        return []
    return [(codes, n * code_size, 1), (links, n * (2 * _HNSW_LINKS + 2), 4)]


def _reserve_on_huge_pages(vector, size, itemsize):
    """Give a faiss vector the capacity of ``size`` items, backed by transparent huge pages.

    The graph's searches read rows and links at random: past the CPU's caches every read also
    misses the TLB, whose 4 KiB pages cover a few MiB, while its 2 MiB pages cover the whole
    graph. With the kernel's usual ``madvise`` mode only memory marked for it gets huge pages
    (numpy marks its large arrays; faiss's vectors are not): the capacity is allocated, collapsed
    into huge pages (``MADV_COLLAPSE``, Linux 6.1), and kept while faiss fills the vector (a
    ``resize`` within capacity does not move it). Elsewhere, or where the kernel refuses, the
    vector is left as faiss makes it.
    """
    if not sys.platform.startswith("linux"):
        return
    vector.resize(size)
    try:
        madvise = ctypes.CDLL(None, use_errno=True).madvise
        page = 2 << 20
        address = int(vector.data())
        start = -(-address // page) * page
        stop = (address + size * itemsize) // page * page
        if stop > start:
            madvise(ctypes.c_void_p(start), ctypes.c_size_t(stop - start), _MADV_COLLAPSE)
    except (AttributeError, OSError, TypeError):  # no madvise, or an unexpected pointer
        pass
    finally:
        vector.resize(0)


def _hnsw_search(faiss, index, rows, k):
    """The ``k`` nearest indexed rows of every indexed row, ``(n, k)`` int64 (-1 where none).

    Each search starts on the bottom layer at the row itself, which is in the graph: the descent
    from the top layer (log n steps) that a new query needs is skipped.
    """
    n = rows.shape[0]
    index.hnsw.efSearch = max(_HNSW_EF_SEARCH, 2 * k)
    start = np.arange(n, dtype=np.int32)
    start_distances = np.zeros(n, dtype=np.float32)
    distances = np.empty((n, k), dtype=np.float32)
    found = np.empty((n, k), dtype=np.int64)
    index.search_level_0(
        n,
        faiss.swig_ptr(rows),
        k,
        faiss.swig_ptr(start),
        faiss.swig_ptr(start_distances),
        faiss.swig_ptr(distances),
        faiss.swig_ptr(found),
        1,  # one entry point per query
        1,  # one search per entry point
    )
    return found


def listed_squared_distances(X, indices, rows=None):
    """``||x_i - x_j||^2`` for every row i and each j it lists, ``(n, k)``.

    ``indices[r]`` lists the neighbours of row ``rows[r]`` (None: of row r). From the
    differences themselves (not ``||x||^2 + ||y||^2 - 2 x.y``), in chunks of rows.
    """
    n, k = indices.shape
    rows = np.arange(n) if rows is None else rows
    squared = np.empty(indices.shape)
    step = max(1, 2**20 // max(1, k * X.shape[1]))
    for start in range(0, n, step):
        block = slice(start, min(start + step, n))
        squared[block] = ((X[indices[block]] - X[rows[block], None, :]) ** 2).sum(axis=2)
    return squared


def neighbor_recall(X, indices, *, n_sample=1000, random_state=None):
    """Measure the share of the true nearest rows that ``indices`` lists, on a sample of rows.

    A listed row counts when it is as near as the row's ``k``-th nearest: with ties (tables
    with repeated rows, integer columns) the exact search's choice among equally near rows is
    arbitrary, and any of them is as good a neighbour.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        The rows the neighbours were searched among.
    indices : ndarray of shape (n, k)
        Each row's neighbours, itself excluded (as :func:`nearest_neighbors` returns).
    n_sample : int, default=1000
        Rows whose exact neighbours are computed (``n_sample x n`` distances).
    random_state : int, RandomState instance or None, default=None
        Picks the sampled rows.

    Returns
    -------
    float
        Mean over the sampled rows of the share of their ``k`` listed rows (distinct, other
        than the row) that are no farther than their ``k``-th nearest; 1.0 for an exact graph.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.kernels import neighbor_recall
    >>> X = np.array([[0.0], [1.0], [5.0]])
    >>> neighbor_recall(X, np.array([[1], [0], [1]])), neighbor_recall(X, np.array([[2], [2], [0]]))
    (1.0, 0.0)

    Of two rows equally near, either is a nearest neighbour:

    >>> neighbor_recall(np.array([[0.0], [1.0], [-1.0]]), np.array([[2], [0], [0]]))
    1.0
    """
    X = np.asarray(X, dtype=np.float64)
    n, k = indices.shape
    if k == 0 or n == 0:
        return 1.0
    rng = check_random_state(random_state)
    rows = np.sort(rng.choice(n, size=min(n_sample, n), replace=False))
    return _share_near(X, rows, indices[rows], k)


def _share_near(X, rows, listed, k):
    """Mean over ``rows`` of the share of their ``k`` nearest other rows that ``listed``
    (a list per row, any length, -1 for none) holds, by an exact search of those rows; a
    listed row as near as the k-th nearest counts (ties), the row itself or a repeat does not.
    """
    exact = _drop_self(_exact(X, X[rows], k + 1, exclude_self=False), rows)
    found = np.sort(listed, axis=1)
    # A listed row is a miss where it is missing (-1), the row itself or listed twice.
    valid = (found >= 0) & (found != rows[:, None])
    valid[:, 1:] &= found[:, 1:] != found[:, :-1]
    # (len(rows), 1): the k-th nearest, computed as the listed rows' distances are
    kth = listed_squared_distances(X, exact[:, -1:], rows)
    near = listed_squared_distances(X, np.where(valid, found, 0), rows) <= kth * (1 + 1e-9)
    return float(np.mean(np.minimum((near & valid).sum(axis=1), k) / k))
