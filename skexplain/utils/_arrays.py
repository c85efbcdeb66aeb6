"""Array helpers that work on numpy arrays and torch tensors alike, without importing torch."""

import sys

import numpy as np


def is_tensor(value):
    """Whether ``value`` is a torch tensor, without importing torch (slow) when it is unused."""
    torch = sys.modules.get("torch")
    return torch is not None and torch.is_tensor(value)


def is_module(value):
    """Whether ``value`` is a ``torch.nn.Module``, without importing torch when it is unused."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.nn.Module)


def squared_distances(X, Y):
    """Squared euclidean distances of numpy arrays or torch tensors (same code for both)."""
    squared = (X * X).sum(axis=1)[:, None] + (Y * Y).sum(axis=1)[None, :] - 2.0 * X @ Y.T
    return squared.clip(min=0.0)


def subset_masks(sizes, n_features, rng):
    """Uniformly random subsets with the given sizes, as a 0/1 matrix ``(len(sizes), d)``."""
    ranks = np.argsort(np.argsort(rng.random_sample((len(sizes), n_features)), axis=1), axis=1)
    return (ranks < np.asarray(sizes)[:, None]).astype(np.float64)
