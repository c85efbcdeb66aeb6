"""Similarity kernels over points and over features.

Point kernels weight pairs of explained rows in the robustness loss of Tadesse et al. (2024):
gaussian ``exp(-||x - x'||^2 / (2 length_scale^2))`` and threshold
``1{||x - x'||^2 <= length_scale}``. The feature similarity of an image grid weights pairs of
pixels in the smoothness loss.
"""

import numbers

import numpy as np
from scipy import sparse

from ._neighbors import listed_squared_distances, nearest_neighbors, neighbor_recall
from .utils import check_image_shape, squared_distances

__all__ = [
    "pairwise_kernel",
    "precision_weights",
    "knn_kernel_graph",
    "nearest_neighbors",
    "neighbor_recall",
    "grid_feature_similarity",
    "KERNELS",
]

#: Names of the kernels over rows accepted by :func:`pairwise_kernel` and :func:`knn_kernel_graph`.
KERNELS = ("gaussian", "threshold")


def _check_length_scale(length_scale):
    if isinstance(length_scale, bool) or not isinstance(length_scale, numbers.Real):
        raise TypeError(f"length_scale must be a positive number, got {length_scale!r}")
    if not np.isfinite(length_scale) or length_scale <= 0:
        raise ValueError(f"length_scale must be a positive number, got {length_scale!r}")
    return float(length_scale)


def pairwise_kernel(X, Y=None, *, kernel="gaussian", length_scale=1.0):
    """Kernel matrix between the rows of X and Y, shape ``(n_X, n_Y)``.

    Parameters
    ----------
    X : ndarray of shape (n_X, d)
        Rows.
    Y : ndarray of shape (n_Y, d), default=None
        Other rows; None means X.
    kernel : {"gaussian", "threshold"}, default="gaussian"
        ``exp(-||x - y||^2 / (2 length_scale^2))`` or ``1{||x - y||^2 <= length_scale}``.
    length_scale : float, default=1.0
        Lambda: the gaussian's length scale, or the threshold on the squared distance.

    Returns
    -------
    ndarray of shape (n_X, n_Y)
        The kernel between every row of X and every row of Y.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.kernels import pairwise_kernel
    >>> pairwise_kernel(np.array([[0.0], [1.0]]), kernel="threshold", length_scale=1.0)
    array([[1., 1.],
           [1., 1.]])
    """
    length_scale = _check_length_scale(length_scale)
    X = np.asarray(X, dtype=np.float64)
    Y = X if Y is None else np.asarray(Y, dtype=np.float64)
    return kernel_of_squared_distance(squared_distances(X, Y), kernel, length_scale)


def precision_weights(X, *, kernel="gaussian", length_scale=1.0):
    """Robustness weights ``S = -pinv(K)``: the negated precision of the rows' kernel matrix.

    Tadesse et al.'s corrected robustness loss (the authors' erratum and released code, and the
    GP form of their Prop. 1) weighs the pair ``(n, n')`` by ``-(K^+)_{nn'}`` instead of the
    kernel ``K_{nn'}`` itself; about half of these weights are negative. The pseudo-inverse is
    numpy's (as in the released code); the diagonal, which no pairwise difference uses, is set to
    0. Dense and cubic in the number of rows.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Rows.
    kernel : {"gaussian", "threshold"}, default="gaussian"
        The kernel whose precision is taken (see :func:`pairwise_kernel`).
    length_scale : float, default=1.0
        Its length scale.

    Returns
    -------
    ndarray of shape (n, n)
        Symmetric weights with a zero diagonal.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.kernels import precision_weights
    >>> S = precision_weights(np.array([[0.0], [1.0], [2.0]]))
    >>> bool(np.allclose(S, S.T)), bool((S < 0).any())
    (True, True)
    """
    K = pairwise_kernel(X, kernel=kernel, length_scale=length_scale)
    S = -np.linalg.pinv(K)
    S = 0.5 * (S + S.T)  # exactly symmetric
    np.fill_diagonal(S, 0.0)
    return S


def kernel_of_squared_distance(squared, kernel, length_scale):
    """The kernel of squared distances, a numpy array or a torch tensor (kept on its device)."""
    if kernel == "gaussian":
        # divided twice, not by length_scale**2: that square under- or overflows for extreme
        # length scales (0 / 0 is NaN); this way the limits 0 and 1 come out right
        with np.errstate(over="ignore"):  # exp(-inf) = 0 is the limit
            scaled = squared / length_scale / length_scale * -0.5
        return np.exp(scaled) if isinstance(scaled, np.ndarray) else scaled.exp()
    if kernel == "threshold":
        return (squared <= length_scale) * 1.0
    raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")


def knn_kernel_graph(
    X,
    *,
    kernel="gaussian",
    length_scale=1.0,
    n_neighbors=10,
    algorithm="exact",
    random_state=None,
    neighbors=None,
):
    """Sparse similarity graph: the kernel on each row's ``n_neighbors`` nearest rows.

    The graph is symmetrized (an edge kept when either end lists the other) and has a zero
    diagonal. Memory and time grow with ``N * n_neighbors`` instead of ``N^2``.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Rows.
    kernel : {"gaussian", "threshold"}, default="gaussian"
        The kernel, as in :func:`pairwise_kernel`.
    length_scale : float, default=1.0
        The gaussian's length scale, or the threshold on the squared distance.
    n_neighbors : int, default=10
        Nearest rows kept for each row (itself excluded).
    algorithm : {"exact", "approximate", "auto"}, default="exact"
        How the nearest rows are found: exact brute force (``N^2 D``), an approximate HNSW graph
        (faiss, the ``[scale]`` extra; ``N log N``), or exact below 100,000 rows and
        approximate from there. See :func:`skexplain.kernels.neighbor_recall` to measure an
        approximate graph.
    random_state : int, RandomState instance or None, default=None
        Passed to the neighbour search.
    neighbors : ndarray of shape (n, k) or None, default=None
        Precomputed neighbour indices of every row (itself excluded), e.g. from
        :func:`skexplain.kernels.nearest_neighbors`; ``n_neighbors`` and ``algorithm`` are then
        unused.

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n, n)
        The symmetric similarity graph.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.kernels import knn_kernel_graph
    >>> X = np.array([[0.0], [1.0], [5.0]])  # 5's nearest row, 1, is 16 away in squares
    >>> knn_kernel_graph(X, kernel="threshold", length_scale=2.0, n_neighbors=1).toarray()
    array([[0., 1., 0.],
           [1., 0., 0.],
           [0., 0., 0.]])
    """
    length_scale = _check_length_scale(length_scale)
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    if neighbors is None:
        indices = nearest_neighbors(X, n_neighbors, algorithm=algorithm, random_state=random_state)
    else:
        indices = np.asarray(neighbors, dtype=np.int64)
        if indices.ndim != 2 or indices.shape[0] != n:
            raise ValueError(
                f"neighbors must have shape ({n}, n_neighbors), got shape {indices.shape}"
            )
    k = indices.shape[1]
    squared = listed_squared_distances(X, indices)
    values = kernel_of_squared_distance(squared, kernel, length_scale)
    rows = np.repeat(np.arange(n), k)
    graph = sparse.csr_matrix((values.ravel(), (rows, indices.ravel())), shape=(n, n))
    graph.setdiag(0.0)
    graph.eliminate_zeros()
    return graph.maximum(graph.T).tocsr()


def grid_feature_similarity(image_shape, *, length_scale=1.0):
    """Gaussian similarity of pixels by their distance on an image grid, ``(d, d)``.

    Features are the flattened image, channels first; pixels in different channels are not
    similar. The diagonal is zero (a feature is not its own neighbour).

    Parameters
    ----------
    image_shape : tuple of int
        ``(height, width)`` or ``(channels, height, width)``.
    length_scale : float, default=1.0
        Length scale of the gaussian, in pixels.

    Returns
    -------
    ndarray of shape (n_features, n_features)
        The similarity of every pair of features, ``n_features = channels * height * width``.

    Examples
    --------
    >>> from skexplain.kernels import grid_feature_similarity
    >>> grid_feature_similarity((1, 2)).round(4)
    array([[0.    , 0.6065],
           [0.6065, 0.    ]])
    """
    channels, height, width = check_image_shape(image_shape)
    rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    pixels = np.stack([rows.ravel(), cols.ravel()], axis=1).astype(np.float64)
    similarity = pairwise_kernel(pixels, kernel="gaussian", length_scale=length_scale)
    np.fill_diagonal(similarity, 0.0)
    return np.kron(np.eye(channels), similarity)
