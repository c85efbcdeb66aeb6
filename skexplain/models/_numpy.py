"""Numpy-backed adapters: gradients by batched central finite differences."""

import numpy as np

from .._engine import map_row_chunks
from ._base import ModelAdapter, _check_values, _select


class _NumpyModel(ModelAdapter):
    """Base of the numpy-backed adapters: gradients by batched central finite differences."""

    # Step of the central differences, relative to max(1, |x_j|): eps ** (1/3) balances the
    # truncation error O(h^2) against the rounding error O(eps / h).
    fd_step = float(np.finfo(np.float64).eps ** (1.0 / 3.0))

    def _model_input(self, X, copy=True):
        """The float rows as the model takes them: the codec's frame, or a copy of the array.

        The one place where a numpy model receives its input: a fresh copy, so that a model that
        writes into its input (normalizing in place, say) cannot change the caller's X or the
        engine's perturbed copies; ``copy=False`` for inputs nobody reads again
        (:meth:`_predict_owned`).
        """
        X = np.array(X, dtype=np.float64, copy=True if copy else None)
        if self.codec is None or not self._accepts_frames:
            return X
        return self.codec.decode(X)

    def _outputs_native(self, X, *, copy=True):
        out = np.asarray(self._call(self._model_input(X, copy)), dtype=np.float64)
        _check_values(out, X.shape[0], "output")
        return out[:, None] if out.ndim == 1 else out

    def _predict_owned(self, X, target):
        # The engine's composites are made for this call only: no defensive copy (a tenth of
        # the time of a Shapley value on a small MLP).
        return _select(self._outputs_native(X, copy=False), target)

    def _gradient_native(self, X, target):
        exact = self._exact_gradient(X, target)
        if exact is not None:
            _check_values(exact, X.shape[0], "gradient")
            return exact
        return self._finite_difference_gradient(X, target)

    def _exact_gradient(self, X, target):
        return None

    @property
    def uses_finite_differences(self):
        """Whether gradients are finite differences (no exact gradient is known)."""
        return True

    def _finite_difference_gradient(self, X, target):
        n, d = X.shape
        # Categorical columns (codes of a frame's categories) have no gradient: only numeric
        # columns are moved; the explainers attribute categories by occlusion.
        moved = np.arange(d) if self.codec is None else np.flatnonzero(self.codec.numeric_)
        k = moved.size
        if k == 0:
            return np.zeros((n, d))

        # 2 k evaluations per row: chunk the rows so each query stays near batch_size inputs.
        def compute(rows):
            Xc = X[rows]
            c = Xc.shape[0]
            h = self.fd_step * np.maximum(1.0, np.abs(Xc[:, moved]))  # (c, k)
            steps = np.zeros((c, k, d))
            steps[:, np.arange(k), moved] = h  # copy i moves feature moved[i]
            points = np.concatenate([Xc[:, None, :] + steps, Xc[:, None, :] - steps], axis=1)
            t = None if target is None else np.repeat(target[rows], 2 * k)
            values = self._predict_native(points.reshape(c * 2 * k, d), t).reshape(c, 2, k)
            grad = np.zeros((c, d))
            grad[:, moved] = (values[:, 0] - values[:, 1]) / (2.0 * h)
            return grad

        return map_row_chunks(n, compute, per_row=2 * k, budget=self.batch_size, empty_shape=(0, d))
