"""Raw columns of a table <-> the float matrix that explainers, perturbations and metrics use.

skexplain's engine works on float matrices ``(n, d)``: noise is added to them, masks replace their
entries, gradients are taken with respect to them. A user's rows are often a pandas DataFrame
whose columns are numbers, strings, booleans or ``category``, and whose model (a Pipeline with a
ColumnTransformer, a HistGradientBoosting with native categorical support) must be queried with a
frame of exactly those columns and dtypes. :class:`ColumnCodec` bridges the two, learned once in
``fit``:

* ``encode(X)``: numeric columns as they are, every other column as the integer code of its
  category (a float), so a categorical column is one feature, one player of a masking game;
* ``decode(Z)``: any float matrix, perturbed copies included, back to a frame of the model's
  own columns and dtypes (codes are rounded to the nearest category and clipped into range);
* the per-column statistics the defaults need: the standard deviation of each numeric column
  (the unit of noise scales and radii) and a baseline (mean of a number, mode of a category).

Without a frame the codec is the identity on numbers; if the model was fitted on a frame
(``feature_names_in_``) its rows are still handed over as a frame with those names, so no
"X does not have valid feature names" warning fires.
"""

import numpy as np

from ._optional import import_optional

__all__ = ["ColumnCodec", "is_frame"]


def is_frame(X):
    """Whether X is a pandas or polars DataFrame (without importing either)."""
    module = type(X).__module__.split(".")[0]
    return module in ("pandas", "polars") and hasattr(X, "columns")


def _as_pandas(X):
    if type(X).__module__.split(".")[0] == "polars":
        return X.to_pandas()
    return X


def _is_categorical(series):
    pd = import_optional("pandas", purpose="explaining a DataFrame")
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype):
        return True
    return not pd.api.types.is_numeric_dtype(dtype)


def _categories(series):
    """The categories of a column, in a stable order; missing values are a category of their own."""
    pd = import_optional("pandas", purpose="explaining a DataFrame")
    if isinstance(series.dtype, pd.CategoricalDtype):
        values = list(series.dtype.categories)
    elif pd.api.types.is_bool_dtype(series.dtype):
        values = [False, True]
    else:
        present = pd.unique(series.dropna())
        try:
            values = sorted(present)
        except TypeError:  # mixed types: the order of appearance
            values = list(present)
    if series.isna().any():
        values.append(None)
    return values


def _joined(column, more):
    """A column's values and more rows of it (``category`` and bool dtypes list them all)."""
    pd = import_optional("pandas", purpose="explaining a DataFrame")
    if isinstance(column.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(column.dtype):
        return column
    return pd.concat([column.astype(object), more.astype(object)], ignore_index=True)


class ColumnCodec:
    """Map a table's raw columns to floats and back; learned from the fitting rows.

    Parameters
    ----------
    model_columns : array-like of str or None, default=None
        The columns the model was fitted on (its ``feature_names_in_``), in the model's order;
        decoded frames have exactly these columns. None: the fitted rows' columns.

    Attributes
    ----------
    columns_ : list or None
        Names of the raw columns (None when fitted on an array without names).
    categorical_ : ndarray of bool, shape (n_features,)
        Which columns are categorical (strings, booleans, ``category``, objects).
    categories_ : list
        For each column, the list of its categories (None for numeric columns).
    dtypes_ : list
        The original dtype of each column (None for arrays).
    scale_ : ndarray of shape (n_features,)
        Standard deviation of each numeric column in the fitting rows (1 where it is zero, e.g.
        a single fitting row, or the column is categorical): the unit of noise scales and radii.
    baseline_ : ndarray of shape (n_features,)
        Mean of each numeric column and the code of the most frequent category of each
        categorical column.
    """

    def __init__(self, model_columns=None):
        self.model_columns = model_columns

    # -- learning -------------------------------------------------------------------------------
    def fit(self, X, also=None):
        """Learn the columns, their kinds, categories and statistics from the rows X.

        ``also`` (a frame with X's columns, or None) holds rows whose categories are learned
        too, but not their statistics: the background rows of a metric scored on a few rows,
        whose categories X may lack.
        """
        if is_frame(X):
            X = _as_pandas(X)
            self.columns_ = list(X.columns)
            self.dtypes_ = list(X.dtypes)
            self.categorical_ = np.array([_is_categorical(X[c]) for c in X.columns], dtype=bool)
            extra = _as_pandas(also) if also is not None and is_frame(also) else None
            self.categories_ = [
                _categories(X[c] if extra is None else _joined(X[c], extra[c])) if cat else None
                for c, cat in zip(X.columns, self.categorical_, strict=True)
            ]
        else:
            d = np.shape(X)[1]
            self.columns_ = None if self.model_columns is None else list(self.model_columns)
            self.dtypes_ = [None] * d
            self.categorical_ = np.zeros(d, dtype=bool)
            self.categories_ = [None] * d
        if self.model_columns is not None and self.columns_ is not None:
            missing = [c for c in self.model_columns if c not in self.columns_]
            if missing:
                raise ValueError(
                    f"X lacks columns the model was fitted on: {missing} (X has {self.columns_})"
                )
        Z = self.encode(X)
        self.fit_statistics(Z)
        return self

    def fit_statistics(self, Z):
        """Learn ``scale_`` and ``baseline_`` from encoded rows ``Z``."""
        Z = np.asarray(Z, dtype=np.float64)
        scale = Z.std(axis=0) if Z.shape[0] else np.ones(Z.shape[1])
        scale = np.where((scale > 0) & ~self.categorical_, scale, 1.0)
        baseline = Z.mean(axis=0) if Z.shape[0] else np.zeros(Z.shape[1])
        for j in np.flatnonzero(self.categorical_):
            counts = np.bincount(Z[:, j].astype(np.int64), minlength=len(self.categories_[j]))
            baseline[j] = float(np.argmax(counts))
        self.scale_ = scale
        self.baseline_ = baseline
        self.n_fit_rows_ = Z.shape[0]
        return self

    def with_statistics(self, scale, baseline, n_rows):
        """Set ``scale_`` and ``baseline_`` computed elsewhere (over data too large for memory).

        Parameters
        ----------
        scale : array-like of shape (n_features,)
            Each column's standard deviation (zero or a categorical column's: 1).
        baseline : array-like of shape (n_features,)
            Each column's mean (a categorical column's: its most frequent code).
        n_rows : int
            The rows the statistics were computed from.

        Returns
        -------
        self : ColumnCodec
        """
        scale = np.asarray(scale, dtype=np.float64)
        self.scale_ = np.where((scale > 0) & ~self.categorical_, scale, 1.0)
        self.baseline_ = np.asarray(baseline, dtype=np.float64)
        self.n_fit_rows_ = int(n_rows)
        return self

    def noise_factors(self, units):
        """What a noise scale or radius is multiplied by, per column.

        ``"std"``: each numeric column's standard deviation; ``"raw"``: 1; categorical columns
        0 (never noised).
        """
        if units not in ("std", "raw"):
            raise ValueError(f"units must be 'std' or 'raw', got {units!r}")
        factors = self.scale_ if units == "std" else np.ones(self.categorical_.size)
        return np.where(self.categorical_, 0.0, factors)

    @property
    def has_categorical(self):
        """Whether any column is categorical."""
        return bool(self.categorical_.any())

    @property
    def numeric_(self):
        """Which columns are numeric."""
        return ~self.categorical_

    def categorical_names(self):
        """Names (or indices) of the categorical columns."""
        names = self.columns_ if self.columns_ is not None else range(len(self.categorical_))
        return [name for name, cat in zip(names, self.categorical_, strict=True) if cat]

    # -- conversions ----------------------------------------------------------------------------
    def encode(self, X):
        """The rows X as a float64 matrix: numbers as they are, categories as their codes.

        A frame must have the fitted columns (in any order); an array is taken as already
        encoded.
        """
        if not is_frame(X):
            return np.asarray(X, dtype=np.float64)
        pd = import_optional("pandas", purpose="explaining a DataFrame")
        X = _as_pandas(X)
        if self.columns_ is not None and list(X.columns) != self.columns_:
            missing = [c for c in self.columns_ if c not in X.columns]
            extra = [c for c in X.columns if c not in self.columns_]
            if missing or extra:
                raise ValueError(
                    "The feature names should match those that were passed during fit: "
                    f"missing {missing}, unexpected {extra}"
                )
            X = X[self.columns_]
        out = np.empty(X.shape, dtype=np.float64)
        for j, column in enumerate(X.columns):
            values = X[column]
            if not self.categorical_[j]:
                try:
                    out[:, j] = pd.to_numeric(values).to_numpy(dtype=np.float64, na_value=np.nan)
                except (TypeError, ValueError) as exc:
                    raise ValueError(
                        f"column {column!r} was numeric in fit but holds {values.dtype} values"
                    ) from exc
                continue
            categories = self.categories_[j]
            known = [c for c in categories if c is not None]
            codes = pd.Index(known).get_indexer(values.astype(object)).astype(np.float64)
            missing = values.isna().to_numpy()
            unknown = (codes < 0) & ~missing
            if unknown.any():
                raise ValueError(
                    f"column {column!r} holds categories not seen in fit: "
                    f"{sorted(map(str, pd.unique(values[unknown])))}"
                )
            if missing.any():
                if categories[-1] is not None:
                    raise ValueError(f"column {column!r} has missing values, unlike in fit")
                codes[missing] = len(categories) - 1
            out[:, j] = codes
        return out

    def decode(self, Z):
        """The float rows Z as the model takes them: a frame of its columns, or an array.

        Categorical codes are rounded to the nearest category and clipped into range, so any
        float matrix (noisy, masked or interpolated copies) decodes to valid categories.
        """
        Z = np.asarray(Z, dtype=np.float64)
        if self.columns_ is None:
            return Z
        pd = import_optional("pandas", purpose="explaining a DataFrame")
        data = {}
        for j, column in enumerate(self.columns_):
            if not self.categorical_[j]:
                data[column] = Z[:, j]
                continue
            categories = self.categories_[j]
            codes = np.clip(np.rint(Z[:, j]), 0, len(categories) - 1).astype(np.int64)
            data[column] = self._decode_categorical(codes, j, categories)
        frame = pd.DataFrame(data, columns=self.columns_, copy=False)
        if self.model_columns is not None:
            frame = frame[list(self.model_columns)]
        return frame

    def _decode_categorical(self, codes, j, categories):
        pd = import_optional("pandas", purpose="explaining a DataFrame")
        dtype = self.dtypes_[j]
        has_missing = categories[-1] is None
        known = categories[:-1] if has_missing else categories
        if has_missing:
            codes = np.where(codes == len(categories) - 1, -1, codes)
        if isinstance(dtype, pd.CategoricalDtype):
            return pd.Categorical.from_codes(codes, dtype=dtype)
        values = np.asarray(known, dtype=object)[np.maximum(codes, 0)]
        if has_missing:
            values[codes < 0] = None
        if dtype is not None and pd.api.types.is_bool_dtype(dtype) and not has_missing:
            return values.astype(bool)
        return pd.array(values, dtype=dtype) if dtype is not None else values
