"""Nearest-row search for the kNN similarity graph: exact, approximate (HNSW) and its recall."""

import sys

import numpy as np
import pytest

from skexplain import PropertyOptimizedExplainer
from skexplain.functions import SinExp
from skexplain.kernels import knn_kernel_graph, nearest_neighbors, neighbor_recall


def _brute_force(X, k):
    """Each row's k nearest other rows from the full distance matrix (ties by index)."""
    distances = ((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=2)
    np.fill_diagonal(distances, np.inf)
    return np.argsort(distances, axis=1, kind="stable")[:, :k]


def test_exact_search_equals_brute_force_without_the_row_itself():
    X = np.random.default_rng(0).normal(size=(300, 5))
    found = nearest_neighbors(X, 7, algorithm="exact")
    assert found.shape == (300, 7)
    np.testing.assert_array_equal(found, _brute_force(X, 7))
    assert not np.any(found == np.arange(300)[:, None])


def test_exact_search_with_duplicate_rows_drops_each_row_once():
    X = np.repeat(np.random.default_rng(1).normal(size=(50, 3)), 2, axis=0)
    found = nearest_neighbors(X, 3, algorithm="exact")
    assert not np.any(found == np.arange(100)[:, None])
    # The twin of each row is at distance 0: it must be listed.
    twins = np.arange(100) ^ 1
    assert np.all((found == twins[:, None]).any(axis=1))


def test_exact_search_is_translation_invariant():
    X = np.random.default_rng(2).uniform(-1, 1, size=(400, 4))
    base = nearest_neighbors(X, 5, algorithm="exact")
    np.testing.assert_array_equal(nearest_neighbors(X + 1e9, 5, algorithm="exact"), base)


def test_knn_graph_is_translation_invariant_to_large_offsets():
    # Multiples of 1/64 stay exact after the shift, so only the method can lose digits.
    X = np.random.default_rng(3).integers(-64, 64, size=(200, 3)) / 64.0
    graph = knn_kernel_graph(X, length_scale=0.5, n_neighbors=5).toarray()
    shifted = knn_kernel_graph(X + 1e10, length_scale=0.5, n_neighbors=5).toarray()
    np.testing.assert_allclose(shifted, graph, rtol=1e-9, atol=1e-12)


def test_precomputed_neighbors_give_the_same_graph():
    X = np.random.default_rng(4).normal(size=(150, 4))
    indices = nearest_neighbors(X, 6)
    direct = knn_kernel_graph(X, n_neighbors=6).toarray()
    given = knn_kernel_graph(X, neighbors=indices).toarray()
    np.testing.assert_array_equal(given, direct)
    with pytest.raises(ValueError, match="neighbors must have shape"):
        knn_kernel_graph(X, neighbors=indices[:10])


def test_recall_of_the_exact_graph_is_one_and_of_random_lists_is_low():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(500, 6))
    assert neighbor_recall(X, _brute_force(X, 10), random_state=0) == 1.0
    random_lists = rng.integers(0, 500, size=(500, 10))
    assert neighbor_recall(X, random_lists, random_state=0) < 0.1
    # Half of each list right: recall one half.
    half = _brute_force(X, 10).copy()
    half[:, 5:] = -1
    assert neighbor_recall(X, half, random_state=0) == pytest.approx(0.5)


def test_recall_counts_any_of_equally_near_rows():
    # 30 values, each row 4 times; gaps grow, so a group's nearest other group is unique. A
    # row's 5 nearest: its 3 copies, then 2 of the 4 tied copies of the nearest group.
    values = np.cumsum(np.arange(30.0))
    X = np.repeat(values, 4)[:, None]
    exact = _brute_force(X, 5)
    other_ties = exact.copy()
    for i, listed in enumerate(exact):
        ties = np.flatnonzero(X[:, 0] == X[listed[-1], 0])
        other_ties[i, 3:] = np.setdiff1d(ties, listed[3:])[:2]
    assert not np.array_equal(np.sort(other_ties, axis=1), np.sort(exact, axis=1))
    assert neighbor_recall(X, other_ties, random_state=0) == 1.0
    # A farther row is still a miss, and so is a row listed twice.
    farther = other_ties.copy()
    farther[:, 4] = (np.arange(120) + 60) % 120
    assert neighbor_recall(X, farther, random_state=0) < 0.85
    twice = other_ties.copy()
    twice[:, 4] = twice[:, 3]
    assert neighbor_recall(X, twice, random_state=0) == pytest.approx(0.8)


def test_approximate_graph_finds_the_nearest_rows():
    X = np.random.default_rng(6).uniform(-2, 2, size=(3000, 30))
    found, recall = nearest_neighbors(
        X, 10, algorithm="approximate", random_state=0, return_recall=True
    )
    assert found.shape == (3000, 10)
    assert not np.any(found == np.arange(3000)[:, None])
    exact = _brute_force(X, 10)
    true_recall = np.mean((found[:, :, None] == exact[:, None, :]).any(axis=2))
    assert true_recall >= 0.95
    assert abs(recall - true_recall) < 0.03  # measured on 1,000 of the 3,000 rows
    again = nearest_neighbors(X, 10, algorithm="approximate")
    np.testing.assert_array_equal(again, found)  # same rows, same graph


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="huge pages are asked of Linux")
def test_graph_arrays_are_filled_where_they_were_reserved():
    import faiss

    from skexplain._neighbors import _reserve_on_huge_pages

    vector = faiss.Int32Vector()
    _reserve_on_huge_pages(vector, 1 << 20, 4)  # 4 MiB: at least one whole 2 MiB page
    assert vector.size() == 0
    address = int(vector.data())
    vector.resize(1 << 20)
    # faiss fills the reserved (huge-page) memory rather than reallocating it.
    assert int(vector.data()) == address != 0


@pytest.mark.parametrize("quantized", [False, True])
def test_the_reserved_graph_arrays_hold_the_whole_graph(quantized):
    # The reservation is sized from the rows: a graph that outgrew it would be reallocated by
    # faiss, off the huge pages.
    import faiss

    from skexplain._neighbors import _graph_arrays, _hnsw_build

    rows = np.random.default_rng(8).uniform(-2, 2, size=(20_000, 32)).astype(np.float32)
    index = _hnsw_build(faiss, rows, quantized=quantized)
    arrays = _graph_arrays(faiss, index, rows.shape[0])
    assert len(arrays) == 2
    assert arrays[0][1] == rows.shape[0] * (32 if quantized else 128)  # bytes of stored rows
    for vector, reserved, _ in arrays:
        assert 0.9 * reserved <= vector.size() <= reserved


def test_codes_are_checked_against_the_exact_nearest_rows():
    import faiss

    from skexplain._neighbors import _share_kept_by_codes

    rng = np.random.default_rng(9)
    uniform = rng.uniform(-2, 2, size=(5000, 16)).astype(np.float32)
    assert _share_kept_by_codes(faiss, uniform, 10) >= 0.995
    # An identifier column dominates the distances, and its 255 levels tie about 20 rows each:
    # the nearest rows across a level's edge fall out of the 21 nearest codes.
    with_id = np.column_stack([uniform[:, :7], np.arange(5000) * 10.0]).astype(np.float32)
    assert _share_kept_by_codes(faiss, with_id, 10) < 0.9


def test_a_table_the_codes_would_lose_is_stored_as_it_is():
    # Rows whose nearest differ by less than a 255th of a column's range: the graph keeps the
    # rows themselves (with codes the recall here falls to 0.78).
    rng = np.random.default_rng(10)
    X = np.column_stack([np.arange(6000.0), rng.uniform(0, 3, size=(6000, 4))])
    found, recall = nearest_neighbors(
        X, 10, algorithm="approximate", random_state=0, return_recall=True
    )
    exact = _brute_force(X, 10)
    assert np.mean((found[:, :, None] == exact[:, None, :]).any(axis=2)) >= 0.95
    assert recall >= 0.95


def test_listed_rows_are_ranked_by_their_exact_distances():
    from skexplain._neighbors import _nearest_listed

    rows = np.array([[0.0], [3.0], [1.0], [-2.0]], dtype=np.float32)
    found = np.array([[1, 2, -1, 0], [3, 1, 0, 2], [-1, -1, 2, 0], [3, 0, 2, 1]])
    ranked = _nearest_listed(rows, found)
    np.testing.assert_array_equal(
        ranked, [[0, 2, 1, -1], [1, 2, 0, 3], [2, 0, -1, -1], [3, 0, 2, 1]]
    )


def test_property_optimized_on_the_approximate_graph_matches_the_exact_one():
    X = np.random.default_rng(7).uniform(-2, 2, size=(2500, 5))
    params = dict(model=SinExp(), lambda_robust=1.0, n_neighbors=10, random_state=0)
    exact = PropertyOptimizedExplainer(neighbors_algorithm="exact", **params).fit(X)
    approx = PropertyOptimizedExplainer(neighbors_algorithm="approximate", **params).fit(X)
    assert exact.neighbor_recall_ == 1.0
    assert approx.neighbor_recall_ >= 0.95
    gap = abs(approx.objective_ - exact.objective_) / exact.objective_
    assert gap < 0.01
    assert np.abs(approx.explanations_ - exact.explanations_).max() < 0.1


@pytest.mark.parametrize("algorithm", ["fast", None])
def test_bad_algorithm_is_refused(algorithm):
    X = np.zeros((5, 2))
    with pytest.raises(ValueError, match="algorithm must be one of"):
        nearest_neighbors(X, 2, algorithm=algorithm)


def test_auto_searches_approximately_from_the_threshold(monkeypatch):
    from skexplain import _neighbors

    monkeypatch.setattr(_neighbors, "APPROXIMATE_FROM", 500)
    built = []
    graph = _neighbors._hnsw

    def hnsw(X, k):
        built.append(X.shape[0])
        return graph(X, k)

    monkeypatch.setattr(_neighbors, "_hnsw", hnsw)
    X = np.random.default_rng(11).uniform(size=(600, 4))
    nearest_neighbors(X[:499], 5)
    assert built == []
    nearest_neighbors(X[:500], 5)
    assert built == [500]


def test_auto_without_faiss_searches_exactly_and_says_so(monkeypatch):
    from skexplain import _neighbors
    from skexplain.utils._optional import MissingOptionalDependency

    def missing(module, *, purpose=None):
        raise MissingOptionalDependency(f"{purpose} needs faiss", name="faiss", extra="scale")

    monkeypatch.setattr(_neighbors, "APPROXIMATE_FROM", 500)
    monkeypatch.setattr(_neighbors, "import_optional", missing)
    X = np.random.default_rng(12).uniform(size=(600, 4))
    with pytest.warns(UserWarning, match="600 rows: exact nearest-neighbour search"):
        found = nearest_neighbors(X, 5)
    np.testing.assert_array_equal(np.sort(found, axis=1), np.sort(_brute_force(X, 5), axis=1))
    with pytest.raises(MissingOptionalDependency, match="needs faiss"):
        nearest_neighbors(X, 5, algorithm="approximate")
