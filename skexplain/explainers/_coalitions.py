"""Coalition designs of the Shapley estimators: which coalitions to evaluate, and how to combine.

A design is drawn once per fitted explainer and shared by every explained row (common random
numbers). Every estimator here is linear in the coalition values: with ``v`` the values of the
design's coalitions at one row, ``v0 = v(empty)`` and ``vN = v(all players)``,

    phi = coef @ v + c0 * v0 + cN * vN,

so the whole regression (or permutation average) is factorized once, at fit, and applied to all
rows by one matrix product. Sampled designs also carry replicate estimators (delete-a-group
jackknife for the regression, antithetic pairs for permutations) from which per-feature standard
errors follow by the same product.
"""

from dataclasses import dataclass
from itertools import combinations
from math import comb

import numpy as np
from scipy import sparse

__all__ = ["CoalitionDesign", "exact_design", "kernel_design", "permutation_design"]

# Sampled pairs are split into this many groups for the delete-a-group jackknife (Kott 2001):
# 10 groups give standard errors within about 25% at a tenth of the cost of one per pair.
N_JACKKNIFE_GROUPS = 10
# Coalitions of one size are enumerated and drawn without replacement by index when there are at
# most this many and the draw takes at least 1/8 of them; otherwise random subsets are drawn and
# duplicates rejected (fewer than 1/8 of the draws collide). Enumerating all 142,506 subsets of
# size 5 of 30 players for a draw of 200 took 0.2 s.
_ENUMERATE_LIMIT = 200_000


@dataclass
class CoalitionDesign:
    """Coalitions evaluated for every row and the linear estimator built on them.

    Attributes
    ----------
    masks : ndarray of shape (n_coalitions, n_players), bool
        The coalitions (True: the player takes the explained row's value).
    coef, c0, cN : arrays of shape (n_players, n_coalitions), (n_players,), (n_players,)
        ``phi = coef @ v + c0 * v(empty) + cN * v(all)``.
    replicates : ndarray or sparse matrix of shape (n_groups * n_players, n_coalitions) or None
        Replicate estimators, with ``r0`` and ``rN`` of shape ``(n_groups * n_players,)``;
        None for an exact design.
    se_scale : float
        ``var(phi) = se_scale * sum_g (phi_g - mean_g phi_g) ** 2``.
    relabel : ndarray of shape (n_background, n_players) or None
        One relabelling of the players per background row (None: the design as it is for
        every background row). At background row b, the design's player ``relabel[b, a]``
        stands for column ``a``: the coalitions evaluated there are ``masks[:, relabel[b]]`` and
        the estimate of player ``relabel[b, a]`` is column a's.
    """

    masks: np.ndarray
    coef: np.ndarray
    c0: np.ndarray
    cN: np.ndarray
    replicates: object = None
    r0: np.ndarray = None
    rN: np.ndarray = None
    se_scale: float = 0.0
    relabel: np.ndarray = None

    @property
    def n_groups(self):
        return 0 if self.replicates is None else self.r0.shape[0] // self.masks.shape[1]

    def estimate(self, values, v0, vN):
        """Attributions ``(n, d)`` from coalition values ``(n, K)`` and ``v0``, ``vN`` ``(n,)``."""
        return values @ self.coef.T + np.outer(v0, self.c0) + np.outer(vN, self.cN)

    def standard_errors(self, values, v0, vN):
        """Per-player standard errors ``(n, d)`` of :meth:`estimate` (zeros for exact designs)."""
        n, d = values.shape[0], self.masks.shape[1]
        if self.replicates is None:
            return np.zeros((n, d))
        reps = np.asarray(self.replicates @ values.T).T + np.outer(v0, self.r0)
        reps += np.outer(vN, self.rN)
        reps = reps.reshape(n, self.n_groups, d)
        spread = ((reps - reps.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
        return np.sqrt(self.se_scale * spread)


def _all_masks(d):
    """Every coalition but the empty and the full one, ``(2**d - 2, d)``."""
    codes = np.arange(1, 2**d - 1, dtype=np.int64)
    return ((codes[:, None] >> np.arange(d)) & 1).astype(bool)


def exact_design(d):
    """All ``2**d - 2`` proper coalitions with the Shapley weights (Shapley 1953).

    ``phi_j = sum_{S not containing j} w(|S|) (v(S + j) - v(S))`` with
    ``w(s) = s! (d - s - 1)! / d!``: coalition S enters ``phi_j`` with ``+w(|S| - 1)`` when it
    holds j and ``-w(|S|)`` otherwise.
    """
    masks = _all_masks(d)
    sizes = masks.sum(axis=1)
    w = np.array([1.0 / (d * comb(d - 1, s)) for s in range(d)])  # s!(d-s-1)!/d!
    coef = np.where(
        masks, w[np.maximum(sizes - 1, 0)][:, None], -w[np.minimum(sizes, d - 1)][:, None]
    )
    return CoalitionDesign(masks, coef.T.copy(), np.full(d, -1.0 / d), np.full(d, 1.0 / d))


def _regression(masks, weights, d):
    """The constrained weighted regression of KernelSHAP as a linear map of the values.

    Minimizes ``sum_k weights_k (v(S_k) - v0 - 1_{S_k} . phi)^2`` subject to
    ``sum(phi) = vN - v0`` (Lundberg & Lee 2017, Thm. 2), through its KKT system
    ``[[Z'WZ, 1], [1', 0]] [phi; mu] = [Z'W (v - v0); vN - v0]``, a ``(d + 1)``-square matrix
    inverted once (pseudo-inverse: a design that leaves a direction free gets the least-norm
    solution). Returns ``coef, c0, cN`` with ``phi = coef @ v + c0 v0 + cN vN``.
    """
    Z = masks.astype(np.float64)
    kkt = np.zeros((d + 1, d + 1))
    kkt[:d, :d] = Z.T @ (weights[:, None] * Z)
    kkt[:d, d] = kkt[d, :d] = 1.0
    inverse = np.linalg.pinv(kkt)
    L = (inverse[:d, :d] @ Z.T) * weights[None, :]  # (d, K)
    c = inverse[:d, d]
    return L, -L.sum(axis=1) - c, c


def _shapley_kernel_mass(d, s):
    """Total Shapley-kernel weight of the coalitions of size s: ``(d - 1) / (s (d - s))``."""
    return (d - 1) / (s * (d - s))


def _pair_strata(d):
    """Strata of paired sampling: sizes ``s <= d - s``, and the number of pairs each holds."""
    strata = []
    for s in range(1, d // 2 + 1):
        pairs = comb(d, s) if 2 * s != d else comb(d, s) // 2
        strata.append((s, pairs))
    return strata


def _allocate(budget_pairs, strata, allocation, d):
    """Pairs drawn per stratum: enumerate the strata the budget covers, share the rest.

    The share of a stratum is its Shapley-kernel mass ("kernel", as optimized KernelSHAP) or
    one per size ("leverage": the leverage scores of the regression are ``1 / C(d, s)`` per
    coalition, so every size gets the same share; Musco & Witter 2025, Lemma 3.3). Strata
    whose share exceeds their size are enumerated and the budget re-shared (water filling).
    """
    share = {}
    for s, _ in strata:
        sizes = (s,) if 2 * s == d else (s, d - s)
        if allocation == "kernel":
            share[s] = sum(_shapley_kernel_mass(d, t) for t in sizes)
        else:
            share[s] = float(len(sizes))
    counts = dict(strata)
    drawn = {}
    left = dict(share)
    remaining = budget_pairs
    while left:
        total = sum(left.values())
        full = [s for s in left if remaining * left[s] / total >= counts[s]]
        if not full:
            break
        for s in full:
            drawn[s] = counts[s]
            remaining -= counts[s]
            del left[s]
    if left:  # largest-remainder rounding of the shares to whole pairs
        total = sum(left.values())
        exact = {s: remaining * left[s] / total for s in left}
        base = {s: int(np.floor(exact[s])) for s in left}
        extra = remaining - sum(base.values())
        order = sorted(left, key=lambda s: (base[s] - exact[s], s))
        for s in order[:extra]:
            base[s] += 1
        drawn.update(base)
    return drawn


def _draw_subsets(d, s, n, rng, *, half=False):
    """``n`` distinct subsets of size s, uniformly, as a bool ``(n, d)`` array.

    With ``half`` (s = d/2) only subsets holding player 0 are drawn: each stands for the pair
    it forms with its complement.
    """
    free = d - 1 if half else d
    k = s - 1 if half else s
    total = comb(free, k)
    if total <= _ENUMERATE_LIMIT and 8 * n >= total:
        chosen = np.sort(rng.choice(total, size=n, replace=False))
        index = np.array(list(combinations(range(free), k)), dtype=np.int64).reshape(total, k)
        picked = index[chosen]
        masks = np.zeros((n, free), dtype=bool)
        np.put_along_axis(masks, picked, True, axis=1)
    else:
        masks = np.zeros((0, free), dtype=bool)
        while masks.shape[0] < n:
            extra = n - masks.shape[0]
            order = np.argsort(rng.random_sample((2 * extra, free)), axis=1)[:, :k]
            new = np.zeros((2 * extra, free), dtype=bool)
            np.put_along_axis(new, order, True, axis=1)
            both = np.concatenate([masks, new])
            _, first = np.unique(np.packbits(both, axis=1), axis=0, return_index=True)
            masks = both[np.sort(first)][:n]
    if half:
        masks = np.concatenate([np.ones((n, 1), dtype=bool), masks], axis=1)
    return masks


def kernel_design(d, n_coalitions, rng, *, allocation="leverage", n_relabel=0):
    """The KernelSHAP regression on a stratified, paired sample of coalitions.

    The budget buys pairs ``(S, complement of S)`` (paired sampling; Covert & Lee 2021). Each
    size stratum gets its pairs by :func:`_allocate`, drawn without replacement; a coalition of
    size s drawn among ``n_s`` of its size gets the regression weight ``mass(s) / n_s`` (the
    Horvitz-Thompson weight of the Shapley kernel), so every size keeps its exact total weight
    and a budget of ``2**d - 2`` enumerates every coalition: the exact Shapley values.

    With ``n_relabel`` background rows, each gets its own random relabelling of the players
    (drawn after the design): the game ``f(x_S, b_(not S))`` of each background row is then
    estimated from its own coalitions, so the sampling errors of the background rows are
    independent and average out, while the one factorization serves them all (the regression
    is symmetric in the players). Sizes the budget enumerates are the same under any
    relabelling.
    """
    strata = _pair_strata(d)
    total_pairs = sum(count for _, count in strata)
    budget_pairs = min(max(n_coalitions // 2, 1), total_pairs)
    drawn = _allocate(budget_pairs, strata, allocation, d)
    blocks, groups = [], []
    for s, count in strata:
        n = drawn.get(s, 0)
        if n == 0:
            continue
        half = 2 * s == d
        if n >= count:
            if half:  # the subsets holding player 0 stand for the pairs
                rest = _all_masks_of_size(d - 1, s - 1)
                subsets = np.concatenate([np.ones((count, 1), dtype=bool), rest], axis=1)
            else:
                subsets = _all_masks_of_size(d, s)
            group = np.full(n, -1)  # enumerated: in every replicate
        else:
            subsets = _draw_subsets(d, s, n, rng, half=half)
            group = rng.permutation(n) % N_JACKKNIFE_GROUPS
        blocks.append((s, subsets))
        groups.append(group)
    masks = np.concatenate([np.concatenate([m, ~m]) for _, m in blocks])
    group = np.concatenate([np.concatenate([g, g]) for g in groups])
    sizes = masks.sum(axis=1)

    def weights(keep):
        per_size = np.bincount(sizes[keep], minlength=d + 1).astype(np.float64)
        mass = np.array([0.0] + [_shapley_kernel_mass(d, t) for t in range(1, d)] + [0.0])
        with np.errstate(divide="ignore", invalid="ignore"):
            w = np.where(per_size > 0, mass / per_size, 0.0)[sizes]
        return np.where(keep, w, 0.0)

    coef, c0, cN = _regression(masks, weights(np.ones(len(masks), dtype=bool)), d)
    design = CoalitionDesign(masks, coef, c0, cN)
    labels = np.unique(group[group >= 0])
    if labels.size >= 2:
        reps = [_regression(masks, weights(group != g), d) for g in labels]
        design.replicates = np.concatenate([r[0] for r in reps])
        design.r0 = np.concatenate([r[1] for r in reps])
        design.rN = np.concatenate([r[2] for r in reps])
        design.se_scale = (labels.size - 1) / labels.size
    if n_relabel and labels.size:  # something was sampled: relabelling changes the draw
        design.relabel = np.argsort(rng.random_sample((n_relabel, d)), axis=1)
    return design


def _all_masks_of_size(d, s):
    index = np.array(list(combinations(range(d), s)), dtype=np.int64)
    masks = np.zeros((index.shape[0], d), dtype=bool)
    np.put_along_axis(masks, index, True, axis=1)
    return masks


def permutation_design(d, n_coalitions, rng, *, n_relabel=0):
    """Antithetic permutation sampling (Mitchell et al. 2022): each permutation and its reverse.

    A permutation visits its ``d - 1`` proper prefixes; the marginal contribution of each player
    is the change in value when it joins. ``n_coalitions // (2 (d - 1))`` pairs are drawn (at
    least one); repeated prefixes are evaluated once. The estimate is the mean over pairs, and
    the pairs are the replicates of its standard error. With ``n_relabel`` background rows, each
    gets its own random relabelling of the players, as in :func:`kernel_design`: in effect its
    own permutations.
    """
    n_pairs = max(1, n_coalitions // (2 * (d - 1)))
    forward = np.argsort(rng.random_sample((n_pairs, d)), axis=1)
    orders = np.stack([forward, forward[:, ::-1]], axis=1).reshape(2 * n_pairs, d)
    n_perm = orders.shape[0]
    # prefix i of permutation p (i = 1..d-1) holds orders[p, :i]
    position = np.argsort(orders, axis=1)  # position[p, j]: where player j comes
    prefix = position[:, None, :] < np.arange(1, d)[None, :, None]  # (P, d-1, d)
    flat = prefix.reshape(n_perm * (d - 1), d)
    masks, inverse = np.unique(flat, axis=0, return_inverse=True)
    inverse = inverse.reshape(n_perm, d - 1)
    K = masks.shape[0]
    # player at position i gains v(prefix_{i+1}) - v(prefix_i); prefix_0 = empty, prefix_d = all
    rows, cols, vals, players = [], [], [], []
    r0 = np.zeros((n_pairs, d))
    rN = np.zeros((n_pairs, d))
    for i in range(d):  # loop over positions only (d iterations), vectorized over permutations
        player = orders[:, i]
        pair = np.arange(n_perm) // 2
        if i + 1 < d:
            rows.append(pair * d + player)
            players.append(player)
            cols.append(inverse[:, i])
            vals.append(np.full(n_perm, 0.5))
        else:
            np.add.at(rN, (pair, player), 0.5)
        if i > 0:
            rows.append(pair * d + player)
            players.append(player)
            cols.append(inverse[:, i - 1])
            vals.append(np.full(n_perm, -0.5))
        else:
            np.add.at(r0, (pair, player), -0.5)
    vals, cols = np.concatenate(vals), np.concatenate(cols)
    replicates = sparse.csr_matrix((vals, (np.concatenate(rows), cols)), shape=(n_pairs * d, K))
    # csr sums the duplicate entries: a prefix shared by several permutations adds up
    coef = sparse.csr_matrix((vals / n_pairs, (np.concatenate(players), cols)), shape=(d, K))
    coef = coef.toarray()
    design = CoalitionDesign(masks, coef, r0.mean(axis=0), rN.mean(axis=0))
    if n_pairs >= 2:
        design.replicates = replicates
        design.r0 = r0.ravel()
        design.rN = rN.ravel()
        design.se_scale = 1.0 / (n_pairs * (n_pairs - 1))
    if n_relabel:
        design.relabel = np.argsort(rng.random_sample((n_relabel, d)), axis=1)
    return design
