"""Validation reports: explainers side by side on explanation metrics, as a table and an HTML page.

:func:`evaluate_explainers` scores several explainers on the same rows with the metrics of
:mod:`skexplain.metrics` and returns a pandas DataFrame (rows explainers, columns
``(metric, "mean")`` and ``(metric, "sem")``); :class:`ExplanationReport` renders such a table,
with figures, into one self-contained HTML file (inline CSS, images embedded as base64 PNG, no
external resources) that can be mailed or attached to a validation record.
"""

import base64
import html
import io

import numpy as np

from ._evaluation import DEFAULT_METRICS, evaluate_explainers
from .display import first_of_family, metric_direction, pareto_front
from .utils import import_optional

__all__ = ["DEFAULT_METRICS", "evaluate_explainers", "ExplanationReport", "format_table"]


def format_table(results, greater_is_better=None):
    """The metrics table as console text: each column's direction, the best explainer starred.

    Parameters
    ----------
    results : pandas.DataFrame
        The table of :func:`evaluate_explainers`.
    greater_is_better : dict or None, default=None
        Metric -> direction (by default ``results.attrs["greater_is_better"]``).

    Returns
    -------
    str
        The table, one explainer per line, and a legend line.

    Examples
    --------
    >>> import pandas as pd
    >>> from skexplain.report import format_table
    >>> columns = pd.MultiIndex.from_product([["infidelity"], ["mean", "sem"]])
    >>> table = pd.DataFrame([[0.5, 0.1], [0.25, 0.1]], index=["a", "b"], columns=columns)
    >>> print(format_table(table))
    explainer  infidelity (lower better)
    a                              0.5
    b                             0.25 *
    * best in its column
    """
    from .display import MetricDisplay

    display = MetricDisplay(results, greater_is_better=greater_is_better)
    metrics = display._metrics()
    words = {True: "higher better", False: "lower better"}
    header = ["explainer"] + [
        f"{m} ({words[display.direction(m)]})" if display.direction(m) is not None else m
        for m in metrics
    ]
    best = {m: display.best(m) for m in metrics}
    lines = []
    for name in results.index:
        cells = [str(name)]
        for m in metrics:
            value = f"{results.loc[name, (m, 'mean')]:.4g}"
            cells.append(value + (" *" if best[m] == str(name) else "  "))
        lines.append(cells)
    widths = [max(len(row[k]) for row in [header, *lines]) for k in range(len(header))]
    out = [
        "  ".join(
            cell.ljust(widths[k]) if k == 0 else cell.rjust(widths[k]) for k, cell in enumerate(row)
        ).rstrip()
        for row in [header, *lines]
    ]
    out.append("* best in its column")
    return "\n".join(out)


# -- report -------------------------------------------------------------------------------------
def _figure_png(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    plt = import_optional("matplotlib.pyplot", purpose="the report's figures")

    plt.close(fig)
    return buffer.getvalue()


def _pyplot():
    matplotlib = import_optional("matplotlib", purpose="the report's figures")

    # Agg renders without a display (servers, CI); the report never shows a window.
    if matplotlib.get_backend().lower() != "agg":
        matplotlib.use("Agg", force=True)
    plt = import_optional("matplotlib.pyplot", purpose="the report's figures")

    return plt


class ExplanationReport:
    """An HTML page comparing explainers: the metrics table and figures, in one file.

    Parameters
    ----------
    results : pandas.DataFrame
        The table of :func:`evaluate_explainers`: rows explainers, columns
        ``(metric, "mean" | "sem")``.
    attributions : dict or None, default=None
        Explainer name -> attributions ``(n_samples, n_features)``, for the per-row figures.
    X : array-like of shape (n_samples, n_features) or None, default=None
        The explained rows (shown beside the heatmaps of image rows).
    feature_names : list of str or None, default=None
        Names of the features in the attribution bars (``x0, x1, ...`` by default).
    title : str, default="skexplain: explanation report"
        Title of the HTML page.
    image_shape : tuple of int or None, default=None
        Shape ``(height, width)`` of image rows: their attributions are drawn as heatmaps instead
        of bars.
    n_rows : int, default=3
        Explained rows drawn.
    n_features : int, default=10
        Features per bar chart: the largest by mean absolute attribution over the explainers.
    greater_is_better : dict or None, default=None
        Metric -> direction; by default ``results.attrs["greater_is_better"]``, else the
        metric's own direction in :mod:`skexplain.metrics`.
    description : str or None, default=None
        A paragraph shown under the title (plain text).
    explainers : dict or None, default=None
        Explainer name -> explainer, whose parameters are listed with the run settings (and
        whose nature, local slopes or attributions, labels the per-row panels).
    settings : dict or None, default=None
        Run settings shown in their own table (rows, noise scale, seed, the model's held-out
        score, ...).

    Attributes
    ----------
    figures_ : list of (str, bytes)
        Figure captions and PNG bytes, set by :meth:`render`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skexplain.report import ExplanationReport
    >>> columns = pd.MultiIndex.from_product([["infidelity", "complexity"], ["mean", "sem"]])
    >>> table = pd.DataFrame([[0.1, 0.01, 2.0, 0.1], [0.3, 0.02, 1.0, 0.1]],
    ...                      index=["a", "b"], columns=columns)
    >>> page = ExplanationReport(table, attributions={"a": np.eye(2), "b": np.ones((2, 2))})
    >>> text = page.render()
    >>> text.startswith("<!DOCTYPE html>"), text.count("data:image/png;base64,")
    (True, 3)
    """

    def __init__(
        self,
        results,
        attributions=None,
        X=None,
        feature_names=None,
        title="skexplain: explanation report",
        *,
        image_shape=None,
        n_rows=3,
        n_features=10,
        greater_is_better=None,
        description=None,
        explainers=None,
        settings=None,
    ):
        self.results = results
        self.attributions = attributions
        self.X = X
        self.feature_names = feature_names
        self.title = title
        self.image_shape = image_shape
        self.n_rows = n_rows
        self.n_features = n_features
        self.greater_is_better = greater_is_better
        self.description = description
        self.explainers = explainers
        self.settings = settings

    # -- inputs ---------------------------------------------------------------------------------
    def _metrics(self):
        columns = self.results.columns
        if getattr(columns, "nlevels", 1) != 2:
            raise ValueError(
                "results must have (metric, 'mean' | 'sem') columns, as evaluate_explainers "
                f"returns; got columns {list(columns)!r}"
            )
        return list(dict.fromkeys(columns.get_level_values(0)))

    def _direction(self, metric):
        given = self.greater_is_better
        if given is None:
            given = self.results.attrs.get("greater_is_better", {})
        if metric in given:
            return given[metric]
        return metric_direction(metric)

    def _attributions(self):
        if not self.attributions:
            return {}
        out = {str(k): np.asarray(v, dtype=np.float64) for k, v in self.attributions.items()}
        shapes = {W.shape for W in out.values()}
        if len(shapes) != 1 or any(W.ndim != 2 for W in out.values()):
            raise ValueError(
                f"attributions must be 2-D arrays of one shape, got shapes {sorted(shapes)}"
            )
        return out

    # -- figures --------------------------------------------------------------------------------
    def _metric_bars(self, plt, metrics):
        names = [str(i) for i in self.results.index]
        width = min(4 * len(metrics), 16)
        cols = min(len(metrics), 4)
        grid = (int(np.ceil(len(metrics) / cols)), cols)
        fig, axes = plt.subplots(*grid, figsize=(width, 2.8 * grid[0]), squeeze=False)
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        for ax, metric in zip(axes.flat, metrics, strict=False):
            mean = self.results[(metric, "mean")].to_numpy(dtype=float)
            sem = self.results[(metric, "sem")].to_numpy(dtype=float)
            positions = np.arange(len(names))
            ax.bar(
                positions,
                mean,
                yerr=np.nan_to_num(sem),
                color=[colors[i % len(colors)] for i in positions],
                capsize=3,
            )
            ax.set_xticks(positions, names, rotation=30, ha="right")
            ax.set_title(f"{metric} {_arrow(self._direction(metric))}".strip())
        for ax in list(axes.flat)[len(metrics) :]:
            ax.set_visible(False)
        fig.tight_layout()
        return "Metrics per explainer (mean over rows, error bars: standard error)", fig

    def _front(self, plt, metrics):
        faithful = first_of_family("faithfulness", metrics, self.results)
        robust = first_of_family("robustness", metrics, self.results)
        if faithful is None or robust is None:
            return None
        x = self.results[(robust, "mean")].to_numpy(dtype=float)
        y = self.results[(faithful, "mean")].to_numpy(dtype=float)
        fig, ax = plt.subplots(figsize=(6, 4.5))
        ax.errorbar(
            x,
            y,
            xerr=np.nan_to_num(self.results[(robust, "sem")].to_numpy(dtype=float)),
            yerr=np.nan_to_num(self.results[(faithful, "sem")].to_numpy(dtype=float)),
            fmt="o",
            capsize=3,
        )
        for name, xi, yi in zip(self.results.index, x, y, strict=True):
            ax.annotate(str(name), (xi, yi), textcoords="offset points", xytext=(5, 5))
        # The front of the points no explainer beats on both properties (in loss form).
        signs = [1.0 if self._direction(m) is not True else -1.0 for m in (robust, faithful)]
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.sum() > 1:
            index = np.flatnonzero(ok)
            front = index[pareto_front(signs[0] * x[ok], signs[1] * y[ok])]
            ax.plot(x[front], y[front], "--", color="grey", label="front")
            ax.legend()
        ax.set_xlabel(f"{robust} {_arrow(self._direction(robust))} (robustness)")
        ax.set_ylabel(f"{faithful} {_arrow(self._direction(faithful))} (faithfulness)")
        fig.tight_layout()
        return f"Faithfulness-robustness trade-off: {faithful} against {robust}", fig

    def _row_bars(self, plt, attributions, row):
        names = list(attributions)
        W = np.stack([attributions[name][row] for name in names])  # (k, d)
        d = W.shape[1]
        features = self.feature_names or [f"x{j}" for j in range(d)]
        top = np.argsort(-np.abs(W).mean(axis=0), kind="stable")[: self.n_features][::-1]
        fig, ax = plt.subplots(figsize=(7, 0.45 * len(top) * max(1, len(names) / 3) + 1.2))
        height = 0.8 / len(names)
        for i, name in enumerate(names):
            offset = (i - (len(names) - 1) / 2) * height
            ax.barh(np.arange(len(top)) + offset, W[i, top], height=height, label=name)
        ax.set_yticks(np.arange(len(top)), [str(features[j]) for j in top])
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_xlabel("attribution")
        ax.legend(fontsize="small")
        fig.tight_layout()
        return f"Attributions of row {row} (top {len(top)} features)", fig

    def _heatmaps(self, plt, attributions, rows):
        names = list(attributions)
        X = None if self.X is None else np.asarray(self.X, dtype=np.float64)
        cols = len(names) + (X is not None)
        fig, axes = plt.subplots(
            len(rows), cols, figsize=(2.2 * cols, 2.2 * len(rows)), squeeze=False
        )
        for r, row in enumerate(rows):
            panels = axes[r]
            if X is not None:
                panels[0].imshow(X[row].reshape(self.image_shape), cmap="gray")
                panels[0].set_title(f"row {row}", fontsize="small")
                panels = panels[1:]
            for ax, name in zip(panels, names, strict=True):
                image = attributions[name][row].reshape(self.image_shape)
                bound = float(np.max(np.abs(image))) or 1.0
                ax.imshow(image, cmap="RdBu_r", vmin=-bound, vmax=bound)
                ax.set_title(name, fontsize="small")
        for ax in axes.flat:
            ax.set_xticks([])
            ax.set_yticks([])
        fig.tight_layout()
        return "Attribution heatmaps (red: positive, blue: negative)", fig

    def figures(self):
        """Draw every figure of the report.

        Returns
        -------
        list of (str, bytes)
            The caption and PNG bytes of each figure.
        """
        metrics = self._metrics()
        attributions = self._attributions()
        plt = _pyplot()
        made = [self._metric_bars(plt, metrics), self._front(plt, metrics)]
        if attributions:
            n = next(iter(attributions.values())).shape[0]
            rows = list(range(min(self.n_rows, n)))
            if self.image_shape is not None:
                d = next(iter(attributions.values())).shape[1]
                if int(np.prod(self.image_shape)) != d:
                    raise ValueError(
                        f"image_shape {tuple(self.image_shape)} does not hold {d} features"
                    )
                if rows:
                    made.append(self._heatmaps(plt, attributions, rows))
            else:
                made.extend(self._row_bars(plt, attributions, row) for row in rows)
        return [(caption, _figure_png(fig)) for caption, fig in (m for m in made if m)]

    # -- html -----------------------------------------------------------------------------------
    def _table_html(self, metrics):
        cells = []
        for name in self.results.index:
            row = [f"<th>{html.escape(str(name))}</th>"]
            for metric in metrics:
                mean = self.results.loc[name, (metric, "mean")]
                sem = self.results.loc[name, (metric, "sem")]
                spread = "" if not np.isfinite(sem) else f" &plusmn; {sem:.3g}"
                row.append(f'<td title="{float(mean)!r}">{mean:.4g}{spread}</td>')  # exact value
            cells.append(f"<tr>{''.join(row)}</tr>")
        header = "".join(f"<th>{html.escape(m)} {_arrow(self._direction(m))}</th>" for m in metrics)
        return (
            '<table class="metrics">\n'
            f"<thead><tr><th>explainer</th>{header}</tr></thead>\n"
            f"<tbody>\n{chr(10).join(cells)}\n</tbody>\n</table>"
        )

    def _settings_html(self):
        rows = [(str(k), str(v)) for k, v in (self.settings or {}).items()]
        for name, explainer in (self.explainers or {}).items():
            params = getattr(explainer, "get_params", dict)(deep=False) if explainer else {}
            shown = ", ".join(f"{k}={v!r}" for k, v in params.items() if k != "model")
            rows.append((f"explainer {name}", f"{type(explainer).__name__}({shown})"))
        if not rows:
            return []
        body = "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows
        )
        return ["<h2>Run settings</h2>", f'<table class="settings">{body}</table>']

    def render(self):
        """Render the report as one HTML document.

        Returns
        -------
        str
            The self-contained HTML page (figures embedded as PNG data).
        """
        from ._version import __version__

        metrics = self._metrics()
        self.figures_ = self.figures()
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{html.escape(self.title)}</title>",
            f"<style>{_CSS}</style></head><body>",
            f"<h1>{html.escape(self.title)}</h1>",
        ]
        if self.description:
            parts.append(f"<p>{html.escape(self.description)}</p>")
        parts += self._settings_html()
        parts += [
            "<h2>Metrics</h2>",
            "<p>Mean over the explained rows &plusmn; its standard error; "
            "&uarr; higher is better, &darr; lower is better.</p>",
            self._table_html(metrics),
            "<h2>Figures</h2>",
        ]
        for caption, png in self.figures_:
            data = base64.b64encode(png).decode("ascii")
            parts.append(
                f'<figure><img src="data:image/png;base64,{data}" '
                f'alt="{html.escape(caption)}"><figcaption>{html.escape(caption)}'
                "</figcaption></figure>"
            )
        parts.append(f"<footer>skexplain {html.escape(__version__)}</footer></body></html>")
        return "\n".join(parts) + "\n"

    def to_html(self, path=None):
        """Write the report to ``path`` as one self-contained HTML file.

        Parameters
        ----------
        path : str, path-like or None, default=None
            Where to write; None only returns the text.

        Returns
        -------
        str
            The HTML document.
        """
        text = self.render()
        if path is not None:
            with open(path, "w", encoding="utf-8") as file:
                file.write(text)
        return text

    def _repr_html_(self):  # Jupyter shows the report inline
        return self.render()


def _arrow(greater_is_better):
    return {True: "\u2191", False: "\u2193"}.get(greater_is_better, "")


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
table.metrics { border-collapse: collapse; margin: 1em 0; }
table.metrics th, table.metrics td { border: 1px solid #ccc; padding: 4px 10px; }
table.metrics td { text-align: right; font-variant-numeric: tabular-nums; }
table.metrics thead th { background: #f2f2f2; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; }
figcaption { color: #555; font-size: 0.9em; }
footer { margin-top: 2em; color: #888; font-size: 0.8em; }
"""
