"""The row loop of the explainers that wrap reference packages (lime, shap).

The reference packages explain one row per call, so these explainers (and only these) loop over
rows in Python, in parallel with joblib when asked.
"""

import copy
import sys
from numbers import Integral

import numpy as np
from joblib import delayed, effective_n_jobs
from sklearn.utils import check_random_state, gen_even_slices

from .._engine import parallel_map


def _call_seed(random_state):
    """The seed every row of one ``transform`` call is explained with.

    An integer is used as it is, so ``random_state=7`` gives what the reference package gives
    with seed 7; None or a RandomState instance yields one fresh seed per call.
    """
    if isinstance(random_state, Integral) and not isinstance(random_state, bool):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _explain_rows(explain_chunk, X, target, *, n_jobs, verbose, desc):
    """Explain the rows of X with ``explain_chunk(X_chunk, target_chunk, progress) -> (c, d)``.

    The reference packages explain one row per call, so this is the one place where skexplain
    loops over rows: serially with a per-row progress bar, or in contiguous chunks through joblib
    (any backend chosen with ``joblib.parallel_config``), the bar advancing as chunks finish.
    Each chunk builds its own reference explainer, so nothing mutable is shared between workers.
    """
    from tqdm.auto import tqdm

    n = X.shape[0]
    workers = effective_n_jobs(n_jobs)
    with tqdm(total=n, desc=desc, unit="row", disable=not verbose) as bar:
        if workers == 1 or n <= 1:
            return explain_chunk(X, target, bar.update)
        slices = list(gen_even_slices(n, min(n, 4 * workers)))
        results = parallel_map(n_jobs)(
            delayed(explain_chunk)(X[s], None if target is None else target[s], None)
            for s in slices
        )
        parts = []
        for s, part in zip(slices, results, strict=True):
            parts.append(part)
            bar.update(s.stop - s.start)
    return np.concatenate(parts, axis=0)


class _ScalarOutput:
    """The explained scalar ``model_.predict(Z, target=t)``, as the function lime and shap call.

    lime and shap hand over all the perturbations of a row at once: they go to the model in one
    call, not in the adapter's chunks (shap's 2,108 coalitions x 100 background rows made 26
    calls per row, where shap alone makes one).
    """

    def __init__(self, model, target):
        self.model = copy.copy(model)  # a shallow copy: the same model, unchunked
        self.model.batch_size = sys.maxsize
        self.target = target

    def __call__(self, Z):
        return self.model.predict(np.asarray(Z, dtype=np.float64), target=self.target)
