"""The adapter interface: every query of a model goes through a :class:`ModelAdapter`.

An adapter answers two questions about the one scalar being explained (a class probability, a
logit, a regression output):

* ``predict(X, target=None) -> (n,)``
* ``gradient(X, target=None) -> (n, d)``

and :meth:`ModelAdapter.query_perturbed`, the engine's loop (:mod:`skexplain._engine`) that
evaluates the model (or its gradient) on many perturbed copies of every row and reduces them per
row, chunk by chunk, so that memory stays bounded whatever the number of rows and samples.
Explainers and metrics supply the perturbation and the reduction. The
adapters of each kind of model live in their own modules; this one knows none of them.
"""

import numbers
import sys
from abc import ABC, abstractmethod

import numpy as np

from .._engine import DEFAULT_BATCH_SIZE, map_row_chunks, query_perturbed
from ..utils import check_positive_integer, check_target, is_tensor


def _check_batch_size(batch_size, default=DEFAULT_BATCH_SIZE):
    if batch_size is None:
        return default
    return check_positive_integer(batch_size, "batch_size")


class ModelAdapter(ABC):
    """Common interface of the model adapters; build one with :func:`as_model`.

    Subclasses implement the native queries ``_outputs_native`` (all outputs, ``(N, k)``) and
    ``_gradient_native`` (gradient of one selected output per row, ``(N, d)``) on the adapter's
    own array type (numpy arrays, or torch tensors on the model's device), and the conversions
    ``to_native`` and ``to_numpy``. Everything public is built on those.

    Parameters
    ----------
    batch_size : int or None, default=None
        Model evaluations per query chunk; None uses ``default_batch_size``.
    default_batch_size : int, default=8192
        The chunk when the caller gives none (an adapter on an accelerator asks for more).

    See Also
    --------
    as_model : Build the adapter that fits a model.

    Examples
    --------
    >>> import numpy as np
    >>> from skexplain.models import ModelAdapter, as_model
    >>> model = as_model(lambda X: X.sum(axis=1))
    >>> isinstance(model, ModelAdapter)
    True
    >>> model.predict(np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([3., 7.])
    """

    # The raw columns of a table (a ColumnCodec of skexplain.utils), set by with_codec: rows are
    # float matrices, decoded into the model's own frame before every query.
    codec = None
    # Whether the model can be queried with a frame (a codec with categorical columns).
    _accepts_frames = False

    def __init__(self, batch_size=None, *, default_batch_size=DEFAULT_BATCH_SIZE):
        self.batch_size = _check_batch_size(batch_size, default_batch_size)

    @property
    def model_columns(self):
        """The column names the model was fitted on (``feature_names_in_``), or None."""
        return None

    @property
    def uses_finite_differences(self):
        """Whether gradients are finite differences of outputs (not autograd or exact)."""
        return False

    def with_codec(self, codec):
        """A shallow copy of the adapter that decodes its float rows with ``codec``.

        Parameters
        ----------
        codec : ColumnCodec
            The raw columns of the explained table, learned in an explainer's ``fit``.

        Returns
        -------
        ModelAdapter
            The copy; this adapter is left as it is (clones of explainers share it).

        Examples
        --------
        >>> import pandas as pd
        >>> from sklearn.linear_model import LinearRegression
        >>> from skexplain.models import as_model
        >>> from skexplain.utils import ColumnCodec
        >>> X = pd.DataFrame({"a": [0.0, 1.0, 2.0], "b": [1.0, 0.0, 1.0]})
        >>> model = as_model(LinearRegression().fit(X, X["a"] - X["b"]))
        >>> model.with_codec(ColumnCodec().fit(X)).predict([[2.0, 1.0]]).round(6)
        array([1.])
        """
        import copy

        if codec.has_categorical and not self._accepts_frames:
            raise ValueError(
                f"{type(self).__name__} takes float inputs, but X has categorical columns "
                f"{codec.categorical_names()}: encode them first, or explain a scikit-learn "
                "Pipeline that encodes them"
            )
        adapter = copy.copy(self)
        adapter.codec = codec
        return adapter

    def occlusion(self, X, target, columns):
        """``f(x) - f(x with column j set to its baseline)`` for each column j of ``columns``.

        How the explainers that need gradients attribute a categorical column: the output
        change of a one-hot step from the column's baseline category (its most frequent one in
        the fitting rows) to the row's own.

        Parameters
        ----------
        X : ndarray of shape (n, d)
            Encoded rows.
        target : ndarray of shape (n,) or None
            Output index per row.
        columns : array-like of int
            The occluded columns.

        Returns
        -------
        ndarray of shape (n, len(columns))
            The output changes.
        """
        X = _as_2d(X)
        columns = np.asarray(columns, dtype=np.int64)
        baseline = self.codec.baseline_[columns]
        k = columns.size
        fx = self.predict(X, target)

        def expand(Xc, rows):
            Z = np.repeat(Xc[:, None, :], k, axis=1)
            Z[:, np.arange(k), columns] = baseline
            return Z

        values = self.query_perturbed(
            X,
            target,
            expand,
            lambda V, Z, Xc, rows: V,
            n_per_row=k,
            kind="predict",
            keep_inputs=False,
        )
        return fx[:, None] - values

    # sklearn's clone must not copy (or unfit) the model: explainers tuned by GridSearchCV share
    # the adapter, as sklearn's FrozenEstimator does.
    def __sklearn_clone__(self):
        return self

    def masking_inputs(self, X, background):
        """The model, rows and background rows in which composites of the rows are evaluated.

        A composite takes each column from the row or from a background row. Where the model
        begins with steps that transform each column by itself (a scikit-learn Pipeline's
        scalers and encoders), the composite of the transformed rows is the transformed
        composite, each column carrying the columns it is encoded into; so the masking loop
        transforms the rows and background rows once and queries the rest of the model,
        instead of transforming every composite. This adapter has no such steps.

        Parameters
        ----------
        X : ndarray of shape (n, d)
            The explained rows (encoded).
        background : ndarray of shape (m, d)
            The background rows (encoded).

        Returns
        -------
        model : ModelAdapter
            The adapter that takes the transformed composites (this one).
        X, background : ndarray
            The rows and background rows as it takes them (as given).
        owners : ndarray of shape (D,) or None
            The column of X each transformed column comes from; None: the same position.
        """
        return self, X, background, None

    # -- conversions ---------------------------------------------------------------------------
    def to_native(self, array):
        """Convert a numpy array to the adapter's array type (identity for numpy models).

        Parameters
        ----------
        array : array-like
            The values to convert.

        Returns
        -------
        array
            The values as the adapter's native array (numpy, or a torch tensor on its device).
        """
        return np.asarray(array, dtype=np.float64)

    def to_numpy(self, array):
        """Convert a native array back to a float64 numpy array.

        Parameters
        ----------
        array : array
            A native array (numpy, or a torch tensor for torch models).

        Returns
        -------
        ndarray
            The values as float64 numpy.
        """
        return np.asarray(array, dtype=np.float64)

    # -- native queries, implemented by subclasses ----------------------------------------------
    @abstractmethod
    def _outputs_native(self, X):
        """All outputs of the model at X, ``(N, k)``, in the native array type."""

    @abstractmethod
    def _gradient_native(self, X, target):
        """Gradient of output ``target[i]`` at row ``X[i]``, ``(N, d)``, native array type."""

    def _predict_native(self, X, target):
        return _select(self._outputs_native(X), target)

    def _predict_owned(self, X, target):
        """:meth:`_predict_native` at inputs made for this query that nobody reads afterwards
        (the engine's perturbed copies): an adapter may give them to the model uncopied."""
        return self._predict_native(X, target)

    # -- public, numpy in and out, chunked ------------------------------------------------------
    def predict_all(self, X):
        """Return all outputs of the model, shape ``(n, k)`` (``k = 1`` for a single output).

        Parameters
        ----------
        X : array-like of shape (n, d)
            Input rows.

        Returns
        -------
        ndarray of shape (n, k)
            The model's outputs.
        """
        X = _as_2d(X)
        return self._chunked(X, lambda Xc, _: self._outputs_native(Xc), None)

    def predict(self, X, target=None):
        """Return the explained scalar output for every row, shape ``(n,)``.

        Parameters
        ----------
        X : array-like of shape (n, d)
            Input rows.
        target : None, int or ndarray of shape (n,), default=None
            Output to explain: None for a single-output model, an output index, or one index
            per row.

        Returns
        -------
        ndarray of shape (n,)
            The selected output at each row.
        """
        X = _as_2d(X)
        target = self._check_target(target, X.shape[0])
        return self._chunked(X, self._predict_native, target)

    def gradient(self, X, target=None):
        """Return the gradient of the explained output with respect to the input.

        Parameters
        ----------
        X : array-like of shape (n, d)
            Input rows.
        target : None, int or ndarray of shape (n,), default=None
            Output to explain: None for a single-output model, an output index, or one index
            per row.

        Returns
        -------
        ndarray of shape (n, d)
            The gradient at each row.
        """
        X = _as_2d(X)
        target = self._check_target(target, X.shape[0])
        return self._chunked(X, self._gradient_native, target)

    @property
    def classes_(self):
        """The labels of the model's outputs (a classifier's ``classes_``), or None."""
        return None

    def resolve_target(self, X, target=None):
        """Turn a ``target`` specification into one output index per row, or None.

        ``None`` or ``"predicted"`` means the single output of a single-output model, or, for a
        classifier, the class the model ranks highest at each row of ``X``: the predicted
        class, then kept for every perturbed copy of the row. A model with several outputs that
        is not a classifier (a multi-output regressor) needs an explicit target. An integer is
        an output index; any other scalar is a class label of ``classes_`` (``"barolo"``); an
        array gives one target per row (integers: indices; other values: labels, such as
        the true labels ``y``).

        Parameters
        ----------
        X : array-like of shape (n, d)
            The rows being explained.
        target : None, "predicted", int, label or array-like of shape (n,), default=None
            The specification.

        Returns
        -------
        ndarray of shape (n,) or None
            One output index per row, or None for a single-output model.
        """
        X = _as_2d(X)
        if target is None or (isinstance(target, str) and target == "predicted"):
            outputs = self.predict_all(X)
            if outputs.shape[1] == 1:
                return None
            if not self._outputs_are_classes:
                raise ValueError(
                    f"the model has {outputs.shape[1]} outputs and is not a classifier, so "
                    "there is no predicted class to explain: pass target=<output index>"
                )
            return np.argmax(outputs, axis=1)
        return self._check_target(self._label_indices(target), X.shape[0])

    # Whether "predicted" means the largest output (a classifier's scores, a network's logits).
    _outputs_are_classes = True

    def _label_indices(self, target):
        """Class labels (a scalar or per-row array of non-integers) as output indices."""
        if isinstance(target, numbers.Integral) and not isinstance(target, bool):
            return target
        values = np.asarray(target)
        if values.ndim == 1 and np.issubdtype(values.dtype, np.integer):
            return values
        classes = self.classes_
        if classes is None:
            raise ValueError(
                f"target {target!r} is a label, but the model has no classes_ to look it up "
                "in: pass an output index"
            )
        classes = np.asarray(classes)
        flat = np.atleast_1d(values).astype(object)
        lookup = {label: index for index, label in enumerate(classes.tolist())}
        unknown = [v for v in flat.tolist() if v not in lookup]
        if unknown:
            raise ValueError(
                f"target {sorted(set(map(str, unknown)))[:5]} not among the model's classes "
                f"{classes.tolist()}"
            )
        indices = np.array([lookup[v] for v in flat.tolist()], dtype=np.int64)
        return int(indices[0]) if values.ndim == 0 else indices

    def query_perturbed(
        self, X, target, expand, reduce, *, n_per_row, kind="gradient", keep_inputs=True, out=None
    ):
        """Evaluate the model on perturbed copies of every row and reduce them per row.

        The engine's loop (:mod:`skexplain._engine`) on this model: rows are processed in
        chunks of ``max(1, batch_size // n_per_row)`` so that each model query sees at most
        about ``batch_size`` inputs.

        Parameters
        ----------
        X : ndarray of shape (n, d)
            The rows to explain.
        target : ndarray of shape (n,) or None
            Output index per row, as returned by :meth:`resolve_target`; repeated for every copy.
        expand : callable
            ``expand(X_chunk, rows) -> Z`` maps a native ``(c, d)`` chunk, the rows ``rows`` (a
            slice) of ``X``, to native perturbed inputs of shape ``(c, n_per_row, d)``.
        reduce : callable
            ``reduce(V, Z, X_chunk, rows) -> R`` reduces the model's values ``V`` at ``Z`` (shape
            ``(c, n_per_row, d)`` for gradients, ``(c, n_per_row)`` for predictions) to a native or
            numpy array whose first axis is the chunk's rows.
        n_per_row : int
            Number of perturbed copies of each row.
        kind : {"gradient", "predict"}
            Which query to run on the perturbed inputs.
        keep_inputs : bool, default=True
            Whether ``reduce`` reads the perturbed inputs. With False it receives None for
            ``Z`` and a numpy model gets the inputs without its defensive copy.
        out : ndarray or None, default=None
            Where to write the reductions (``out[rows] = R`` for each chunk; any object that
            takes it); None: a new array.

        Returns
        -------
        ndarray
            The reductions of all chunks, concatenated along the first axis, as float64 numpy
            (``out`` where given).
        """
        return query_perturbed(
            self,
            _as_2d(X),
            target,
            expand,
            reduce,
            n_per_row=n_per_row,
            kind=kind,
            keep_inputs=keep_inputs,
            out=out,
        )

    # -- helpers --------------------------------------------------------------------------------
    def _chunked(self, X, query, target):
        def compute(rows):
            t = None if target is None else target[rows]
            return self.to_numpy(query(self.to_native(X[rows]), t))

        if X.shape[0] == 0:  # the query itself gives the shape of no answers
            return compute(slice(0, 0))
        return map_row_chunks(X.shape[0], compute, budget=self.batch_size)

    def _check_target(self, target, n):
        return check_target(target, n)


def _as_2d(X):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array (n_samples, n_features), got shape {X.shape}")
    return X


def _check_values(values, n_rows, where):
    """Check a model's output: one row per input, finite values."""
    shape = tuple(values.shape)
    if len(shape) not in (1, 2) or shape[0] != n_rows:
        raise ValueError(
            f"the model's {where} must have shape ({n_rows},) or ({n_rows}, n_outputs) for "
            f"{n_rows} input rows, got shape {shape}"
        )
    finite = values.isfinite().all() if is_tensor(values) else np.isfinite(values).all()
    if not bool(finite):
        raise ValueError(f"the model's {where} contains NaN or inf for some inputs")


def _select(outputs, target):
    """Pick one output per row from an ``(N, k)`` array (numpy or torch)."""
    k = outputs.shape[1]
    if target is None:
        if k != 1:
            raise ValueError(
                f"the model has {k} outputs: pass target (an output index, or None to explain "
                "the predicted class through an explainer)"
            )
        return outputs[:, 0]
    if target.size and int(target.max()) >= k:
        raise ValueError(f"target index {int(target.max())} is out of range for {k} outputs")
    if is_tensor(outputs):
        index = sys.modules["torch"].as_tensor(target, device=outputs.device)
        return outputs.gather(1, index[:, None])[:, 0]
    return outputs[np.arange(outputs.shape[0]), target]
