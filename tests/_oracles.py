"""Reference computations the tests compare skexplain against, written independently of it."""

import itertools
import math

import numpy as np


def brute_force_shapley(f, x, background):
    """Interventional Shapley values of ``v(S) = mean_b f(x_S, b_rest)``, coalition by coalition."""
    d = x.shape[0]

    def value(S):
        Z = background.copy()
        Z[:, list(S)] = x[list(S)]
        return f(Z).mean()

    phi = np.zeros(d)
    for j in range(d):
        others = [k for k in range(d) if k != j]
        for size in range(d):
            weight = math.factorial(size) * math.factorial(d - size - 1) / math.factorial(d)
            for S in itertools.combinations(others, size):
                phi[j] += weight * (value(S + (j,)) - value(S))
    return phi
