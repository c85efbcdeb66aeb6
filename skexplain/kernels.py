"""Similarity kernels over points and over features.

Point kernels weight pairs of explained rows in the robustness loss of Tadesse et al. (2024):
gaussian ``exp(-||x - x'||^2 / (2 length_scale^2))`` and threshold
``1{||x - x'||^2 <= length_scale}``. The feature similarity of an image grid weights pairs of
pixels in the smoothness loss.
"""

import numbers

import numpy as np
from scipy import sparse

from .utils import check_image_shape, check_positive_integer, squared_distances

__all__ = ["pairwise_kernel", "knn_kernel_graph", "grid_feature_similarity", "KERNELS"]

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


def kernel_of_squared_distance(squared, kernel, length_scale):
    """The kernel of squared distances, a numpy array or a torch tensor (kept on its device)."""
    if kernel == "gaussian":
        scaled = squared / (-2.0 * length_scale**2)
        return np.exp(scaled) if isinstance(scaled, np.ndarray) else scaled.exp()
    if kernel == "threshold":
        return (squared <= length_scale) * 1.0
    raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")


def knn_kernel_graph(X, *, kernel="gaussian", length_scale=1.0, n_neighbors=10):
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
    from sklearn.neighbors import NearestNeighbors

    length_scale = _check_length_scale(length_scale)
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    n_neighbors = check_positive_integer(n_neighbors, "n_neighbors")
    k = min(n_neighbors + 1, n)  # each row finds itself first
    # Exact search. sklearn's "auto" takes brute force above 15 features (chunked, OpenMP over
    # the query rows) and a kd-tree below. In 30-D brute force is the fastest exact option by
    # far: at 20,000 uniform rows, one thread, 2 s CPU against 16-27 s for ball_tree (leaf_size
    # 30-1000) and 25-54 s for kd_tree (benchmarks/bench_property_optimized.py). Its cost grows
    # as N^2 D: about 45-50 s CPU at N = 100,000, D = 30, which dominates the solve.
    distances, indices = NearestNeighbors(n_neighbors=k).fit(X).kneighbors(X)
    values = kernel_of_squared_distance(distances**2, kernel, length_scale)
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
