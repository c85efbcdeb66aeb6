"""Plots of attributions and metrics in scikit-learn's Display pattern.

A display computes once (``from_estimator``) or takes what was computed
(``from_attributions``, ``from_results``), keeps the numbers as attributes, and draws them with
``plot(ax=...)`` as often as asked without computing again; the last drawing's matplotlib
objects are ``figure_`` and ``ax_``. Nothing here changes global matplotlib state: no backend
switch, no rcParams. When no ``ax`` is given a new figure is made with ``pyplot.subplots``, as
scikit-learn's displays do; pass an ``ax`` (for instance of a ``matplotlib.figure.Figure``) to
keep pyplot out entirely.
"""

import numbers

import numpy as np

from .metrics import get_metric, get_metric_names, split_explainer
from .utils import import_optional

__all__ = ["AttributionDisplay", "MetricDisplay", "explainer_colors"]

_KINDS = ("bar", "beeswarm", "waterfall", "heatmap")


def _check_matplotlib():
    # Every drawing entry point calls this first; the matplotlib imports after it then succeed.
    import_optional("matplotlib", purpose="drawing a display (AttributionDisplay, MetricDisplay)")


def _new_axes(ax, **subplots):
    """``(figure, ax)``: the given axes' figure, or a new pyplot figure as scikit-learn does."""
    _check_matplotlib()
    if ax is not None:
        return ax.figure, ax
    import matplotlib.pyplot as plt

    return plt.subplots(**subplots)


def explainer_colors(names):
    """Give one colour per explainer name, the same in every skexplain figure.

    Parameters
    ----------
    names : list of str
        Explainer names, in the order they are shown.

    Returns
    -------
    dict
        Name -> matplotlib colour (of the ``tab10`` palette, cycled).

    Examples
    --------
    >>> from skexplain.display import explainer_colors
    >>> colors = explainer_colors(["Gradient", "SmoothGrad"])
    >>> colors["Gradient"] != colors["SmoothGrad"]
    True
    """
    _check_matplotlib()
    import matplotlib

    palette = matplotlib.colormaps["tab10"].colors
    return {str(name): palette[i % len(palette)] for i, name in enumerate(names)}


def feature_names_or_default(feature_names, X, n_features):
    if feature_names is None and hasattr(X, "columns"):
        feature_names = list(X.columns)
    if feature_names is None:
        return [f"x{j}" for j in range(n_features)]
    feature_names = [str(name) for name in feature_names]
    if len(feature_names) != n_features:
        raise ValueError(
            f"feature_names must have {n_features} names (one per attribution column), "
            f"got {len(feature_names)}"
        )
    return feature_names


def values_kind(explainer):
    """``"slopes"`` for local-slope explainers (gradients, C-LIME), else ``"attributions"``."""
    return getattr(explainer, "_values_are", "attributions")


def _per_row(value, n, name):
    """A scalar or ``(n,)`` array as a float ``(n,)`` array, or None."""
    if value is None:
        return None
    value = np.asarray(value, dtype=np.float64)
    if value.ndim == 0:
        return np.full(n, float(value))
    value = value.ravel()
    if value.shape != (n,):
        raise ValueError(
            f"{name} must be a scalar or have one value per row ({n}), got {value.size}"
        )
    return value


def explained_outputs(explainer, rows):
    """The explained output at each row and the base value (output at the reference), if any."""
    model = getattr(explainer, "model_", None)
    if model is None:
        return None, None
    target = model.resolve_target(rows, getattr(explainer, "target", None))
    outputs = model.predict(rows, target)
    base = getattr(explainer, "base_value_", None)
    if base is None:
        base = getattr(explainer, "expected_value_", None)
    if base is not None:
        base = np.asarray(base, dtype=np.float64)
        if base.ndim == 1 and base.size > 1 and target is not None:
            base = base[np.asarray(target)]  # one base value per class: the row's target
    elif hasattr(explainer, "baseline_"):
        # Integrated gradients' reference point: the base value is the output there.
        reference = np.broadcast_to(explainer.baseline_, rows.shape)
        base = model.predict(np.ascontiguousarray(reference), target)
    return outputs, base


class AttributionDisplay:
    """Plot attributions: global importance, beeswarm, waterfall or heatmap.

    Build it with :meth:`from_estimator` (explains the rows once) or :meth:`from_attributions`
    (attributions computed elsewhere, or loaded with :func:`skexplain.load_attributions`); then
    :meth:`plot` draws any kind on any axes without computing again.

    Parameters
    ----------
    attributions : ndarray of shape (n_samples, n_features)
        One attribution (or local slope) per feature of every row.
    data : ndarray of shape (n_samples, n_features) or None, default=None
        The explained rows: feature values in the waterfall and the beeswarm's colours.
    feature_names : list of str or None, default=None
        Names of the features (``x0, x1, ...`` by default).
    base_values : float, ndarray of shape (n_samples,) or None, default=None
        The model output at the explainer's reference (integrated gradients' baseline, the
        Shapley base value): the waterfall's start.
    outputs : ndarray of shape (n_samples,) or None, default=None
        The explained model output at each row: the waterfall's end.
    name : str or None, default=None
        The explainer's name, shown in titles.
    values_are : {"attributions", "slopes"}, default="attributions"
        ``"slopes"`` for local slopes (gradients, SmoothGrad, C-LIME): they are labelled as
        slopes and never drawn as a waterfall from the base value to the output, which they do
        not sum to.

    Attributes
    ----------
    figure_ : matplotlib Figure
        The figure of the last :meth:`plot`.
    ax_ : matplotlib Axes
        The axes of the last :meth:`plot`.

    See Also
    --------
    MetricDisplay : Metrics of several explainers, as bars or a trade-off front.
    skexplain.to_shap_explanation : The same numbers as a ``shap.Explanation``.

    Examples
    --------
    >>> import numpy as np
    >>> from matplotlib.figure import Figure
    >>> from skexplain import IntegratedGradients
    >>> from skexplain.display import AttributionDisplay
    >>> from skexplain.functions import SumOfSines
    >>> X = np.random.default_rng(0).uniform(-1, 1, size=(20, 4))
    >>> ax = Figure().subplots()
    >>> display = AttributionDisplay.from_estimator(IntegratedGradients(model=SumOfSines()), X,
    ...                                             kind="bar", ax=ax)
    >>> display.ax_ is ax, display.attributions.shape
    (True, (20, 4))
    >>> display.plot(ax=Figure().subplots(), kind="waterfall", row=3) is display
    True
    """

    def __init__(
        self,
        attributions,
        data=None,
        *,
        feature_names=None,
        base_values=None,
        outputs=None,
        name=None,
        values_are="attributions",
    ):
        self.attributions = attributions
        self.data = data
        self.feature_names = feature_names
        self.base_values = base_values
        self.outputs = outputs
        self.name = name
        self.values_are = values_are

    # -- constructors ---------------------------------------------------------------------------
    @classmethod
    def from_estimator(
        cls,
        explainer,
        X,
        *,
        feature_names=None,
        name=None,
        kind="bar",
        ax=None,
        **plot_kwargs,
    ):
        """Explain the rows of X once and draw them.

        Parameters
        ----------
        explainer : explainer
            A skexplain explainer; fitted on ``X`` first when it is not fitted.
        X : array-like of shape (n_samples, n_features)
            The rows to explain.
        feature_names : list of str or None, default=None
            Names of the features (a DataFrame's columns by default).
        name : str or None, default=None
            The explainer's name (its class name by default).
        kind : {"bar", "beeswarm", "waterfall", "heatmap"}, default="bar"
            What :meth:`plot` draws first.
        ax : matplotlib Axes or None, default=None
            Where to draw; a new figure when None.
        **plot_kwargs : dict
            Passed to :meth:`plot` (``row``, ``max_features``, ``image_shape``).

        Returns
        -------
        display : AttributionDisplay
            The display, already drawn.
        """
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted

        try:
            check_is_fitted(explainer)
        except NotFittedError:
            explainer.fit(X)
        attributions = np.asarray(explainer.transform(X), dtype=np.float64)
        last, rows, _ = split_explainer(explainer, np.asarray(X, dtype=np.float64))
        outputs, base = explained_outputs(last, rows)
        display = cls(
            attributions,
            X,
            feature_names=feature_names,
            base_values=base,
            outputs=outputs,
            name=type(explainer).__name__ if name is None else name,
            values_are=values_kind(explainer),
        )
        return display.plot(ax=ax, kind=kind, **plot_kwargs)

    @classmethod
    def from_attributions(
        cls,
        attributions,
        X=None,
        *,
        feature_names=None,
        base_values=None,
        outputs=None,
        name=None,
        values_are="attributions",
        kind="bar",
        ax=None,
        **plot_kwargs,
    ):
        """Draw attributions computed elsewhere.

        Parameters
        ----------
        attributions : array-like of shape (n_samples, n_features)
            The attributions.
        X : array-like of shape (n_samples, n_features) or None, default=None
            The explained rows.
        feature_names : list of str or None, default=None
            Names of the features.
        base_values : float, array-like of shape (n_samples,) or None, default=None
            The output at the reference (waterfall start).
        outputs : array-like of shape (n_samples,) or None, default=None
            The explained output at each row (waterfall end).
        name : str or None, default=None
            The explainer's name.
        values_are : {"attributions", "slopes"}, default="attributions"
            Whether the values are additive attributions or local slopes.
        kind : {"bar", "beeswarm", "waterfall", "heatmap"}, default="bar"
            What :meth:`plot` draws first.
        ax : matplotlib Axes or None, default=None
            Where to draw.
        **plot_kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : AttributionDisplay
            The display, already drawn.

        Examples
        --------
        >>> import numpy as np
        >>> from matplotlib.figure import Figure
        >>> from skexplain.display import AttributionDisplay
        >>> A = np.array([[0.5, -0.2], [0.1, 0.3]])
        >>> d = AttributionDisplay.from_attributions(A, feature_names=["a", "b"],
        ...                                          ax=Figure().subplots())
        >>> [t.get_text() for t in d.ax_.get_yticklabels()]
        ['b', 'a']
        """
        display = cls(
            np.asarray(attributions, dtype=np.float64),
            X,
            feature_names=feature_names,
            base_values=base_values,
            outputs=outputs,
            name=name,
            values_are=values_are,
        )
        return display.plot(ax=ax, kind=kind, **plot_kwargs)

    # -- checks ---------------------------------------------------------------------------------
    def _checked(self):
        A = np.asarray(self.attributions, dtype=np.float64)
        if A.ndim != 2:
            raise ValueError(f"attributions must be 2-D (n_samples, n_features), got {A.shape}")
        n, d = A.shape
        data = None
        if self.data is not None:
            data = np.asarray(self.data, dtype=np.float64)
            if data.shape != A.shape:
                raise ValueError(
                    f"data must have the attributions' shape {A.shape}, got {data.shape}"
                )
        if self.values_are not in ("attributions", "slopes"):
            raise ValueError(
                f"values_are must be 'attributions' or 'slopes', got {self.values_are!r}"
            )
        names = feature_names_or_default(self.feature_names, self.data, d)
        base = _per_row(self.base_values, n, "base_values")
        outputs = _per_row(self.outputs, n, "outputs")
        return A, data, names, base, outputs

    def _value_label(self):
        if self.values_are == "slopes":
            return "local slope \u2202f/\u2202x (per feature unit)"
        return "attribution"

    def _title(self, text):
        return f"{self.name}: {text}" if self.name else text

    # -- drawing --------------------------------------------------------------------------------
    def plot(self, ax=None, *, kind="bar", row=0, max_features=10, image_shape=None):
        """Draw the attributions.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
            Where to draw; a new figure when None.
        kind : {"bar", "beeswarm", "waterfall", "heatmap"}, default="bar"
            ``"bar"``: global importance, the mean absolute attribution of each feature;
            ``"beeswarm"``: every row's attribution per feature, coloured by the feature's value;
            ``"waterfall"``: one row from the base value to the model output (local slopes are
            drawn as slopes, apart); ``"heatmap"``: one row's attributions as an image.
        row : int, default=0
            The row of ``"waterfall"`` and ``"heatmap"``.
        max_features : int, default=10
            Features shown by ``"bar"``, ``"beeswarm"`` and ``"waterfall"`` (largest first; the
            rest are summed into one bar in the waterfall).
        image_shape : tuple of int or None, default=None
            ``(height, width)`` of image rows, for ``"heatmap"``.

        Returns
        -------
        display : AttributionDisplay
            This display.
        """
        if kind not in _KINDS:
            raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
        if not isinstance(max_features, numbers.Integral) or max_features < 1:
            raise ValueError(f"max_features must be a positive integer, got {max_features!r}")
        A, data, names, base, outputs = self._checked()
        if kind in ("waterfall", "heatmap"):
            if not isinstance(row, numbers.Integral) or not -A.shape[0] <= row < A.shape[0]:
                raise ValueError(f"row must be an index below {A.shape[0]}, got {row!r}")
            row = int(row) % A.shape[0]
        fig, ax = _new_axes(ax)
        draw = getattr(self, f"_plot_{kind}")
        draw(ax, A, data, names, base, outputs, row=row, top=max_features, shape=image_shape)
        self.figure_, self.ax_ = fig, ax
        return self

    def _plot_bar(self, ax, A, data, names, base, outputs, *, top, **_):
        importance = np.abs(A).mean(axis=0)
        order = np.argsort(-importance, kind="stable")[:top][::-1]
        ax.barh(np.arange(order.size), importance[order], color="#1f77b4")
        ax.set_yticks(np.arange(order.size), [names[j] for j in order])
        ax.set_xlabel(f"mean |{self._value_label()}| over {A.shape[0]} rows")
        ax.set_title(self._title("global importance"))

    def _plot_beeswarm(self, ax, A, data, names, base, outputs, *, top, **_):
        import matplotlib

        order = np.argsort(-np.abs(A).mean(axis=0), kind="stable")[:top][::-1]
        cmap = matplotlib.colormaps["coolwarm"]
        scatter = None
        for position, j in enumerate(order):
            values = A[:, j]
            offsets = _swarm_offsets(values)
            colour = "#555555"
            if data is not None:
                low, high = np.nanpercentile(data[:, j], [5, 95])
                colour = np.clip((data[:, j] - low) / (high - low or 1.0), 0, 1)
            scatter = ax.scatter(
                values,
                position + offsets,
                c=colour,
                cmap=cmap if data is not None else None,
                vmin=0 if data is not None else None,
                vmax=1 if data is not None else None,
                s=12,
                linewidths=0,
            )
        ax.axvline(0.0, color="#999999", linewidth=0.8, zorder=0)
        ax.set_yticks(np.arange(order.size), [names[j] for j in order])
        ax.set_xlabel(self._value_label())
        ax.set_title(self._title("attributions of every row"))
        if data is not None and scatter is not None:
            bar = ax.figure.colorbar(scatter, ax=ax, ticks=[0, 1], aspect=40)
            bar.ax.set_yticklabels(["low", "high"])
            bar.set_label("feature value")

    def _plot_waterfall(self, ax, A, data, names, base, outputs, *, row, top, **_):
        values = A[row]
        order = np.argsort(-np.abs(values), kind="stable")
        shown, rest = order[:top], order[top:]
        labels = [names[j] if data is None else f"{names[j]} = {data[row, j]:.4g}" for j in shown]
        contributions = list(values[shown])
        if rest.size and self.values_are == "attributions":  # slopes do not add up
            labels.append(f"{rest.size} other features")
            contributions.append(float(values[rest].sum()))
        output = None if outputs is None else outputs[row]
        start = None if base is None else base[row]
        if self.values_are == "slopes" or start is None:
            # Local slopes (or attributions without a reference) do not add up from a base value
            # to the output: drawn as plain bars, labelled, with the output alone in the title.
            y = np.arange(len(contributions))[::-1]
            ax.barh(
                y, contributions, color=["#d62728" if c > 0 else "#1f77b4" for c in contributions]
            )
            ax.set_yticks(y, labels)
            ax.axvline(0.0, color="#999999", linewidth=0.8)
            ax.set_xlabel(self._value_label())
            where = "" if output is None else f", f(x) = {output:.4g}"
            ax.set_title(self._title(f"row {row}{where}"))
            return
        # Waterfall: the base value, then each feature's attribution, then what the attributions
        # leave unexplained (completeness gap), ending at the model output.
        if output is not None:
            gap = output - start - float(values.sum())
            if abs(gap) > 1e-9 * max(1.0, abs(output)):
                labels.append("not attributed")
                contributions.append(gap)
        y = np.arange(len(contributions))[::-1]
        left = start + np.concatenate([[0.0], np.cumsum(contributions)[:-1]])
        colours = ["#d62728" if c > 0 else "#1f77b4" for c in contributions]
        ax.barh(y, contributions, left=left, color=colours)
        for yi, li, ci in zip(y, left, contributions, strict=True):
            ax.text(
                li + ci,
                yi,
                f" {ci:+.3g}",
                va="center",
                ha="left" if ci >= 0 else "right",
                fontsize="small",
            )
        ax.set_yticks(y, labels)
        ax.margins(x=0.18)  # room for the value labels beside the bars
        end = start + float(np.sum(contributions))
        ax.axvline(start, color="#777777", linestyle=":", linewidth=1)
        ax.axvline(end, color="#333333", linestyle="--", linewidth=1)
        ax.set_xlabel("model output")
        end_label = "f(x)" if output is not None else "base + sum of attributions"
        ax.set_title(
            self._title(f"row {row}: base value {start:.4g} \u2192 {end_label} = {end:.4g}")
        )

    def _plot_heatmap(self, ax, A, data, names, base, outputs, *, row, shape, **_):
        if shape is None:
            raise ValueError("kind='heatmap' needs image_shape=(height, width)")
        if int(np.prod(shape)) != A.shape[1]:
            raise ValueError(f"image_shape {tuple(shape)} does not hold {A.shape[1]} features")
        image = A[row].reshape(shape)
        bound = float(np.max(np.abs(image))) or 1.0
        shown = ax.imshow(image, cmap="RdBu_r", vmin=-bound, vmax=bound)
        if data is not None:
            ax.contour(data[row].reshape(shape), levels=3, colors="black", linewidths=0.5)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.figure.colorbar(shown, ax=ax, label=self._value_label())
        ax.set_title(self._title(f"row {row}"))


def _swarm_offsets(values, width=0.35, bins=40):
    """Vertical offsets that spread points sharing a value bin (a simple beeswarm)."""
    if values.size == 0:
        return values
    span = np.ptp(values) or 1.0
    which = np.floor((values - values.min()) / span * (bins - 1)).astype(int)
    offsets = np.zeros(values.size)
    for b in np.unique(which):
        members = np.flatnonzero(which == b)
        k = members.size
        if k > 1:
            # 0, +1, -1, +2, -2, ... scaled to the band
            steps = np.array([(i + 1) // 2 * (1 if i % 2 else -1) for i in range(k)], dtype=float)
            offsets[members] = steps / max(np.abs(steps).max(), 1) * width * min(1.0, k / 10)
    return offsets


# -- metrics ------------------------------------------------------------------------------------
def registered_metric(name):
    """The registry's entry of a results column named after a metric, else None."""
    try:
        return get_metric(name)
    except ValueError:
        return None


def metric_direction(metric):
    """True when greater is better for a metric of :mod:`skexplain.metrics`, None if unknown."""
    spec = registered_metric(metric)
    return None if spec is None else spec.greater_is_better


def first_of_family(family, metrics, results):
    """The first of ``metrics`` measuring ``family``, in the registry's order of preference.

    A column's family is ``results.attrs["family"]`` (set by ``evaluate_explainers``), else that
    of the registered metric of its name.
    """
    given = results.attrs.get("family", {})
    order = get_metric_names(family=family)
    candidates = [
        m for m in metrics if given.get(m, getattr(registered_metric(m), "family", None)) == family
    ]
    rank = {m: order.index(m) if m in order else len(order) for m in candidates}
    return min(candidates, key=rank.get, default=None)


def pareto_front(x, y):
    """Indices of the points no other point beats on both (lower-is-better) axes, by x."""
    order = np.lexsort((y, x))
    front, best = [], np.inf
    for i in order:
        if y[i] < best:
            front.append(i)
            best = y[i]
    return front


def _renderer(fig):
    canvas = fig.canvas
    if hasattr(canvas, "get_renderer"):
        return canvas.get_renderer()
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    return FigureCanvasAgg(fig).get_renderer()  # a figure made without pyplot


def _place_labels(ax, x, y, labels, colors=None, fontsize="small"):
    """Annotate points so that no two labels overlap each other or a point's marker.

    Each label tries offsets around its point, nearest first, and keeps the first whose
    bounding box (measured by the figure's renderer) meets no label already placed and no
    marker.

    Parameters
    ----------
    ax : matplotlib Axes
        The axes holding the points.
    x, y : array-like of shape (n,)
        Data coordinates of the points.
    labels : list of str
        One label per point.
    colors : list or None, default=None
        Text colour per label.
    fontsize : str or float, default="small"
        Font size of the labels.

    Returns
    -------
    list of matplotlib Annotation
        The labels.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from skexplain.display import _place_labels
    >>> ax = Figure().subplots()
    >>> _ = ax.plot([0, 0.001], [0, 0.001], "o")
    >>> a, b = _place_labels(ax, [0, 0.001], [0, 0.001], ["first", "second"])
    >>> r = ax.figure.canvas.get_renderer()
    >>> bool(a.get_window_extent(r).overlaps(b.get_window_extent(r)))
    False
    """
    from matplotlib.transforms import Bbox

    fig = ax.figure
    renderer = _renderer(fig)
    points = ax.transData.transform(np.column_stack([x, y]))
    marker = 6.0 * fig.dpi / 72.0  # half a marker, in pixels
    taken = [
        Bbox.from_bounds(px - marker, py - marker, 2 * marker, 2 * marker) for px, py in points
    ]
    placed = []
    candidates = [
        (dx * r, dy * r)
        for r in (6, 14, 24, 36, 50)
        for dx, dy in ((1, 1), (1, -1), (-1, 1), (-1, -1), (1, 0), (-1, 0), (0, 1.4), (0, -1.4))
    ]
    for i, text in enumerate(labels):
        chosen = None
        for dx, dy in candidates:
            note = ax.annotate(
                str(text),
                (x[i], y[i]),
                xytext=(dx, dy),
                textcoords="offset points",
                ha="left" if dx > 0 else ("right" if dx < 0 else "center"),
                va="bottom" if dy > 0 else ("top" if dy < 0 else "center"),
                fontsize=fontsize,
                color=None if colors is None else colors[i],
                annotation_clip=False,
            )
            box = note.get_window_extent(renderer).padded(1.0)
            if not any(box.overlaps(other) for other in taken):
                chosen = note
                taken.append(box)
                break
            note.remove()
        if chosen is None:  # crowded: the farthest candidate, whatever it meets
            dx, dy = candidates[-1]
            chosen = ax.annotate(
                str(text),
                (x[i], y[i]),
                xytext=(dx, dy),
                textcoords="offset points",
                fontsize=fontsize,
                color=None if colors is None else colors[i],
                arrowprops={"arrowstyle": "-", "color": "#999999"},
                annotation_clip=False,
            )
            taken.append(chosen.get_window_extent(renderer))
        placed.append(chosen)
    return placed


class MetricDisplay:
    """Plot the metrics of several explainers: bars per metric, or the trade-off of two.

    Build it with :meth:`from_results` from the table of
    :func:`skexplain.report.evaluate_explainers`; :meth:`plot` draws ``kind="bars"`` (one axes
    per metric, explainers in their own colours, standard errors as error bars) or
    ``kind="front"`` (two metrics against each other, the Pareto front of the explainers that no
    other beats on both, labels placed so that none overlaps).

    Parameters
    ----------
    results : pandas.DataFrame
        Rows explainers, columns ``(metric, "mean" | "sem")``.
    greater_is_better : dict or None, default=None
        Metric -> True (higher is better), False or None (unknown); by default
        ``results.attrs["greater_is_better"]``.

    Attributes
    ----------
    figure_ : matplotlib Figure
        The figure of the last :meth:`plot`.
    ax_ : matplotlib Axes or ndarray of Axes
        The axes of the last :meth:`plot`.
    labels_ : list of matplotlib Annotation
        The point labels of the last ``kind="front"`` plot.
    front_ : list of str
        The explainers on the front of the last ``kind="front"`` plot.

    Examples
    --------
    >>> import pandas as pd
    >>> from matplotlib.figure import Figure
    >>> from skexplain.display import MetricDisplay
    >>> columns = pd.MultiIndex.from_product([["infidelity", "max_sensitivity"],
    ...                                       ["mean", "sem"]])
    >>> table = pd.DataFrame([[0.1, 0.01, 2.0, 0.1], [0.3, 0.02, 1.0, 0.1]],
    ...                      index=["a", "b"], columns=columns)
    >>> display = MetricDisplay.from_results(table, kind="front", ax=Figure().subplots())
    >>> [label.get_text() for label in display.labels_]
    ['a', 'b']
    """

    def __init__(self, results, *, greater_is_better=None):
        self.results = results
        self.greater_is_better = greater_is_better

    @classmethod
    def from_results(cls, results, *, greater_is_better=None, kind="bars", ax=None, **plot_kwargs):
        """Draw a table of :func:`~skexplain.report.evaluate_explainers`.

        Parameters
        ----------
        results : pandas.DataFrame
            Rows explainers, columns ``(metric, "mean" | "sem")``.
        greater_is_better : dict or None, default=None
            Metric directions (by default ``results.attrs["greater_is_better"]``).
        kind : {"bars", "front"}, default="bars"
            What :meth:`plot` draws first.
        ax : matplotlib Axes, array of Axes or None, default=None
            Where to draw.
        **plot_kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : MetricDisplay
            The display, already drawn.
        """
        return cls(results, greater_is_better=greater_is_better).plot(
            ax=ax, kind=kind, **plot_kwargs
        )

    @classmethod
    def from_explainers(cls, explainers, X, metrics=None, *, kind="bars", ax=None, **kwargs):
        """Score explainers with :func:`~skexplain.report.evaluate_explainers` and draw.

        Parameters
        ----------
        explainers : dict or list of (str, explainer)
            Named explainers.
        X : array-like of shape (n_samples, n_features)
            The rows.
        metrics : list of str or None, default=None
            Metric names (the report's defaults when None).
        kind : {"bars", "front"}, default="bars"
            What :meth:`plot` draws first.
        ax : matplotlib Axes, array of Axes or None, default=None
            Where to draw.
        **kwargs : dict
            Passed to :func:`~skexplain.report.evaluate_explainers` (``model``,
            ``random_state``, ``n_jobs``).

        Returns
        -------
        display : MetricDisplay
            The display, already drawn.
        """
        from ._evaluation import evaluate_explainers

        results = evaluate_explainers(explainers, X, metrics, **kwargs)
        return cls(results).plot(ax=ax, kind=kind)

    def metric_names(self):
        """Return the metrics of the results, in their column order.

        Returns
        -------
        list of str
            The first level of the results' columns, each once.
        """
        columns = self.results.columns
        if getattr(columns, "nlevels", 1) != 2:
            raise ValueError(
                "results must have (metric, 'mean' | 'sem') columns, as evaluate_explainers "
                f"returns; got columns {list(columns)!r}"
            )
        return list(dict.fromkeys(columns.get_level_values(0)))

    def direction(self, metric):
        """Whether greater is better for ``metric`` (None when unknown).

        Parameters
        ----------
        metric : str
            A column of the results.

        Returns
        -------
        bool or None
            True when higher is better, False when lower is, None when unknown.
        """
        given = self.greater_is_better
        if given is None:
            given = self.results.attrs.get("greater_is_better", {})
        if metric in given:
            return given[metric]
        return metric_direction(metric)

    def best(self, metric):
        """The name of the best explainer on ``metric`` (None when its direction is unknown).

        Parameters
        ----------
        metric : str
            A column of the results.

        Returns
        -------
        str or None
            The explainer with the best mean.
        """
        higher = self.direction(metric)
        mean = self.results[(metric, "mean")].to_numpy(dtype=float)
        if higher is None or not np.isfinite(mean).any():
            return None
        score = np.where(np.isfinite(mean), mean if higher else -mean, -np.inf)
        return str(self.results.index[int(np.argmax(score))])

    def plot(self, ax=None, *, kind="bars", metrics=None, x=None, y=None):
        """Draw the metrics.

        Parameters
        ----------
        ax : matplotlib Axes, array of Axes or None, default=None
            ``kind="bars"``: one axes per metric (a single axes for one metric); ``"front"``:
            one axes. A new figure when None.
        kind : {"bars", "front"}, default="bars"
            Bars per metric, or one metric against another.
        metrics : list of str or None, default=None
            Metrics of the bars (all by default).
        x, y : str or None, default=None
            The front's metrics (by default the first robustness and faithfulness metrics).

        Returns
        -------
        display : MetricDisplay
            This display.
        """
        if kind == "bars":
            self._plot_bars(ax, self.metric_names() if metrics is None else list(metrics))
        elif kind == "front":
            self._plot_front(ax, x, y)
        else:
            raise ValueError(f"kind must be 'bars' or 'front', got {kind!r}")
        return self

    def _plot_bars(self, ax, metrics):
        names = [str(i) for i in self.results.index]
        colors = explainer_colors(names)
        if ax is None:
            cols = min(len(metrics), 3)
            rows = int(np.ceil(len(metrics) / cols))
            fig, axes = _new_axes(
                None, nrows=rows, ncols=cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False
            )
            axes = np.asarray(axes).ravel()
        else:
            axes = np.atleast_1d(np.asarray(ax, dtype=object)).ravel()
            fig = axes[0].figure
        if axes.size < len(metrics):
            raise ValueError(f"ax must hold {len(metrics)} axes (one per metric), got {axes.size}")
        for a, metric in zip(axes, metrics, strict=False):
            mean = self.results[(metric, "mean")].to_numpy(dtype=float)
            sem = self.results[(metric, "sem")].to_numpy(dtype=float)
            positions = np.arange(len(names))
            bars = a.bar(
                positions,
                mean,
                yerr=np.nan_to_num(sem),
                color=[colors[name] for name in names],
                capsize=3,
            )
            best = self.best(metric)
            if best is not None:
                i = names.index(best)
                bars[i].set_edgecolor("black")
                bars[i].set_linewidth(2)
                bars[i].set_hatch("//")
            a.set_xticks(positions, names, rotation=30, ha="right")
            a.axhline(0.0, color="#999999", linewidth=0.8)
            a.set_title(
                f"{metric} {_arrow_word(self.direction(metric))}".strip(), fontsize="medium"
            )
        for a in axes[len(metrics) :]:
            a.set_visible(False)
        self.figure_, self.ax_ = fig, axes if axes.size > 1 else axes[0]

    def front_metrics(self, x=None, y=None):
        """Return the two metrics of the trade-off front: ``(robustness, faithfulness)``.

        Parameters
        ----------
        x, y : str or None, default=None
            Chosen metrics; by default the registry's first robustness and faithfulness
            metrics among the results.

        Returns
        -------
        tuple of str
            The x and y metrics.

        Raises
        ------
        ValueError
            When the results lack a metric of either family, or a chosen one.
        """
        metrics = self.metric_names()
        if x is None:
            x = first_of_family("robustness", metrics, self.results)
        if y is None:
            y = first_of_family("faithfulness", metrics, self.results)
        if x is None or y is None:
            raise ValueError(
                "kind='front' needs two metrics: pass x= and y=, or results with a robustness "
                f"and a faithfulness metric (got {metrics})"
            )
        for m in (x, y):
            if m not in metrics:
                raise ValueError(f"{m!r} is not a metric of the results ({metrics})")
        return x, y

    def _plot_front(self, ax, x_metric, y_metric):
        x_metric, y_metric = self.front_metrics(x_metric, y_metric)
        names = [str(i) for i in self.results.index]
        colors = explainer_colors(names)
        fig, ax = _new_axes(ax, figsize=(6.5, 4.8))
        x = self.results[(x_metric, "mean")].to_numpy(dtype=float)
        y = self.results[(y_metric, "mean")].to_numpy(dtype=float)
        xerr = np.nan_to_num(self.results[(x_metric, "sem")].to_numpy(dtype=float))
        yerr = np.nan_to_num(self.results[(y_metric, "sem")].to_numpy(dtype=float))
        for i, name in enumerate(names):
            ax.errorbar(
                x[i],
                y[i],
                xerr=xerr[i],
                yerr=yerr[i],
                fmt="o",
                color=colors[name],
                capsize=3,
                markersize=7,
            )
        # The front: explainers that no other beats on both metrics (in loss form).
        signs = [-1.0 if self.direction(m) is True else 1.0 for m in (x_metric, y_metric)]
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.sum() > 1:
            index = np.flatnonzero(ok)
            front = index[pareto_front(signs[0] * x[ok], signs[1] * y[ok])]
            # Rings mark the front's explainers (a front of one point has no line to show).
            ax.plot(
                x[front],
                y[front],
                "--",
                color="grey",
                marker="o",
                markersize=15,
                markerfacecolor="none",
                zorder=0,
                label="front: no other explainer is better on both",
            )
            self.front_ = [str(self.results.index[i]) for i in front]
            # Above the axes, where it cannot cover a point or a label.
            ax.legend(fontsize="small", loc="lower left", bbox_to_anchor=(0.0, 1.01), frameon=False)
        ax.set_xlabel(f"{x_metric} ({_arrow_word(self.direction(x_metric))})")
        ax.set_ylabel(f"{y_metric} ({_arrow_word(self.direction(y_metric))})")
        ax.margins(0.15)
        ax.get_xlim(), ax.get_ylim()  # settle the autoscaled limits before measuring labels
        self.labels_ = _place_labels(ax, x, y, names, colors=[colors[n] for n in names])
        self.figure_, self.ax_ = fig, ax


def _arrow_word(greater_is_better):
    return {True: "\u2191 higher is better", False: "\u2193 lower is better"}.get(
        greater_is_better, ""
    )
