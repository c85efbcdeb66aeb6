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
import numbers

import numpy as np

from ._evaluation import DEFAULT_METRICS, default_explainers, evaluate_explainers
from .utils import import_optional, is_frame

__all__ = [
    "DEFAULT_METRICS",
    "default_explainers",
    "evaluate_explainers",
    "ExplanationReport",
    "format_table",
]


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
    metrics = display.metric_names()
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
    return buffer.getvalue()


def _figure(**kwargs):
    """A figure that pyplot does not know of: the report never touches matplotlib's state."""
    figure = import_optional("matplotlib.figure", purpose="the report's figures")
    return figure.Figure(**kwargs)


def _zero_rows(W):
    """Rows whose attributions are all zero (to the last bit)."""
    return np.flatnonzero(~np.any(W != 0, axis=1))


def _fmt(value):
    return "nan" if not np.isfinite(value) else f"{value:.4g}"


class ExplanationReport:
    """An HTML page comparing explainers: what each metric means, which explainer to trust.

    The page holds a verdict computed from the numbers (the best explainer per property, the
    trade-offs, contradictions the numbers show), the metrics table with each column's
    direction and its best explainer marked, each metric's definition, range and perturbation,
    the run settings, figures (metric bars, the faithfulness-robustness front, global importance
    per explainer) and per-row panels (waterfalls from the base value to the model output for
    attributions, local slopes apart), in one self-contained file (inline CSS, images embedded
    as PNG, no external resources). Figures are drawn with :mod:`skexplain.display` on figures
    that pyplot never sees.

    Parameters
    ----------
    results : pandas.DataFrame
        The table of :func:`evaluate_explainers`: rows explainers, columns
        ``(metric, "mean" | "sem")``.
    attributions : dict or None, default=None
        Explainer name -> attributions ``(n_samples, n_features)``, for the per-row figures.
    X : array-like of shape (n_samples, n_features) or None, default=None
        The explained rows (feature values in the per-row panels; images beside heatmaps).
    feature_names : list of str or None, default=None
        Names of the features (``x0, x1, ...`` by default).
    title : str, default="skexplain: explanation report"
        Title of the HTML page.
    image_shape : tuple of int or None, default=None
        Shape ``(height, width)`` of image rows: their attributions are drawn as heatmaps.
    n_rows : int, default=3
        Explained rows drawn.
    n_features : int, default=10
        Features per bar chart: the largest by absolute attribution.
    greater_is_better : dict or None, default=None
        Metric -> direction; by default ``results.attrs["greater_is_better"]``, else the
        registry's.
    description : str or None, default=None
        A paragraph shown under the title (plain text).
    explainers : dict or None, default=None
        Explainer name -> fitted explainer: their parameters join the run settings, and their
        model gives the per-row output and base value.
    settings : dict or None, default=None
        Run settings shown in their own table (rows, noise scale, seed, the model's held-out
        score, ...).
    docs_url : str or None, default=None
        Root of the HTML documentation: each metric's definition links to its user-guide page
        there. Without it the page names the user-guide page in words.

    Attributes
    ----------
    figures_ : list of (str, bytes)
        Figure captions and PNG bytes, set by :meth:`render`.
    displays_ : dict
        The :class:`~skexplain.display.MetricDisplay` objects drawn (``"bars"``, ``"front"``),
        set by :meth:`render`.
    verdict_ : list of str
        The verdict's sentences, set by :meth:`render`.
    notes_ : list of str
        The notes on contradictions, set by :meth:`render`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skexplain.report import ExplanationReport
    >>> columns = pd.MultiIndex.from_product([["infidelity", "complexity"], ["mean", "sem"]])
    >>> table = pd.DataFrame([[0.1, 0.01, 2.0, 0.1], [0.3, 0.02, 1.0, 0.1]],
    ...                      index=["a", "b"], columns=columns)
    >>> page = ExplanationReport(table, attributions={"a": np.eye(2), "b": np.ones((2, 2))})
    >>> text = page.render()
    >>> text.startswith("<!DOCTYPE html>"), len(page.figures_) >= 3
    (True, True)
    >>> page.verdict_[0]
    'Most faithful: a (best on infidelity).'
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
        docs_url=None,
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
        self.docs_url = docs_url

    # -- inputs ---------------------------------------------------------------------------------
    def _display(self):
        from .display import MetricDisplay

        return MetricDisplay(self.results, greater_is_better=self.greater_is_better)

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

    def _names(self, d):
        from .display import feature_names_or_default

        return feature_names_or_default(self.feature_names, self.X, d)

    def _value_kind(self, name):
        from .display import values_kind

        explainer = (self.explainers or {}).get(name)
        return "attributions" if explainer is None else values_kind(explainer)

    def _row_outputs(self, name, rows):
        """``(outputs, base values, targets)`` of the named explainer's model at ``rows``."""
        from .display import explained_outputs

        explainer = (self.explainers or {}).get(name)
        if explainer is None or self.X is None or not hasattr(explainer, "model_"):
            return None, None, None
        try:
            if is_frame(self.X) and hasattr(explainer, "codec_"):
                # a frame's raw columns (strings included) as the codes the explainer queries
                X = explainer.codec_.encode(self.X.iloc[rows])
            else:
                X = np.asarray(self.X, dtype=np.float64)[rows]
            outputs, base = explained_outputs(explainer, X)
            target = explainer.model_.resolve_target(X, getattr(explainer, "target", None))
        except Exception:  # a figure's annotation, never a reason to fail the report
            return None, None, None
        if base is not None:
            base = np.broadcast_to(np.asarray(base, dtype=np.float64), (len(rows),))
        return outputs, base, target

    def _numeric_X(self):
        """X as floats for the figures, or None (no X, or a frame with non-numeric columns:
        the waterfalls then name the features without their values)."""
        if self.X is None:
            return None
        try:
            return np.asarray(self.X, dtype=np.float64)
        except (TypeError, ValueError):
            return None

    def _row_values(self, row):
        """The raw values of one row as text (numbers to 4 digits, categories as they are)."""
        values = self.X.iloc[row].tolist() if is_frame(self.X) else list(np.asarray(self.X)[row])
        return [
            f"{v:.4g}" if isinstance(v, numbers.Real) and not isinstance(v, bool) else str(v)
            for v in values
        ]

    # -- the words --------------------------------------------------------------------------------
    def _winners(self, display, metrics, family):
        """``{explainer: [metrics it is best on]}`` among the metrics of ``family``."""
        families = self.results.attrs.get("family", {})
        from .display import registered_metric

        wins = {}
        for m in metrics:
            fam = families.get(m, getattr(registered_metric(m), "family", None))
            best = display.best(m)
            if fam == family and best is not None:
                wins.setdefault(best, []).append(m)
        return wins

    def verdict(self):
        """Say which explainer to trust for what, in sentences computed from the table.

        Returns
        -------
        list of str
            The most faithful, most robust and sparsest explainers (by the number of their
            family's metrics they are best on), the trade-off between the first two with the
            ratios of their scores, and the best average rank over all metrics.
        """
        display = self._display()
        metrics = display.metric_names()
        sentences, leaders = [], {}
        for family, word in (
            ("faithfulness", "Most faithful"),
            ("robustness", "Most robust"),
            ("smoothness", "Smoothest"),
            ("complexity", "Sparsest"),
        ):
            wins = self._winners(display, metrics, family)
            if not wins:
                continue
            top = max(len(v) for v in wins.values())
            leaders[family] = [k for k, v in wins.items() if len(v) == top]
            parts = []
            for name in leaders[family]:
                text = f"{name} (best on {', '.join(wins[name])}"
                others = [m for v in wins.values() for m in v if m not in wins[name]]
                if others:
                    text += f"; not on {', '.join(others)}"
                parts.append(text + ")")
            sentences.append(f"{word}: {' and '.join(parts)}.")
        faithful, robust = leaders.get("faithfulness"), leaders.get("robustness")
        if faithful and robust:
            f, r = faithful[0], robust[0]
            if f == r:
                sentences.append(
                    f"{f} leads on both faithfulness and robustness here: prefer it unless the "
                    "metrics it does not win matter most to you."
                )
            else:
                fm = self._winners(display, metrics, "faithfulness")[f][0]
                rm = self._winners(display, metrics, "robustness")[r][0]
                sentences.append(
                    f"Trade-off: trust {f} to show which features move the output, and {r} "
                    "when explanations must stay stable for nearby inputs. "
                    + self._ratio(display, f, r, rm)
                    + " "
                    + self._ratio(display, r, f, fm)
                )
        ranks = self._ranks(display, metrics)
        if ranks is not None and len(ranks) > 1:
            best = ranks.idxmin()
            sentences.append(
                f"Overall, {best} has the best average rank ({ranks[best]:.2g}, 1 is best) over "
                f"the {self._n_ranked(display, metrics)} metrics with a direction."
            )
        return sentences

    def _ratio(self, display, worse, better, metric):
        a = self.results.loc[worse, (metric, "mean")]
        b = self.results.loc[better, (metric, "mean")]
        if not (np.isfinite(a) and np.isfinite(b)):
            return ""
        text = f"On {metric}, {worse} scores {_fmt(a)} against {better}'s {_fmt(b)}"
        spread = np.nansum(
            [self.results.loc[worse, (metric, "sem")], self.results.loc[better, (metric, "sem")]]
        )
        if abs(a - b) <= spread:
            return f"{text}, within their standard errors."
        if display.direction(metric) is False and a > 0 and b > 0:
            return f"{text} ({a / b:.3g} times as high)."
        return f"{text}."

    def _n_ranked(self, display, metrics):
        return sum(display.direction(m) is not None for m in metrics)

    def _ranks(self, display, metrics):
        pd = import_optional("pandas", purpose="the report's verdict")

        columns = {}
        for m in metrics:
            higher = display.direction(m)
            if higher is None:
                continue
            mean = self.results[(m, "mean")].astype(float)
            columns[m] = mean.rank(ascending=not higher, method="min")
        if not columns:
            return None
        return pd.DataFrame(columns).mean(axis=1)

    def notes(self):
        """Describe the contradictions and pitfalls the numbers show, one note each.

        Returns
        -------
        list of str
            Notes on: an explainer with a good infidelity but a negative faithfulness
            correlation, faithfulness metrics that disagree, all-zero explanations (which score
            a perfect complexity), areas under a negative output, local slopes beside
            attributions.
        """
        display = self._display()
        metrics = display.metric_names()
        mean = {m: self.results[(m, "mean")].astype(float) for m in metrics}
        notes = []
        if "faithfulness_correlation" in mean:
            negative = [str(k) for k, v in mean["faithfulness_correlation"].items() if v < 0]
            if negative:
                best_infidelity = display.best("infidelity") if "infidelity" in mean else None
                who = ", ".join(negative)
                text = (
                    f"{who}: negative faithfulness correlation, so the features they rank high "
                    "do not move the output the way their attributions say when set to the "
                    "baseline."
                )
                if best_infidelity in negative:
                    text += (
                        f" {best_infidelity} nevertheless has the lowest infidelity: infidelity "
                        "probes small noise around the row, faithfulness correlation removes "
                        "whole features, and a local slope can be right for the first and wrong "
                        "for the second."
                    )
                notes.append(text)
        faithfulness = [
            m for m in metrics if self.results.attrs.get("family", {}).get(m) == "faithfulness"
        ]
        for name in self.results.index:
            best_on = [m for m in faithfulness if display.best(m) == str(name)]
            worst_on = [m for m in faithfulness if self._worst(display, m) == str(name)]
            if best_on and worst_on:
                notes.append(
                    f"The faithfulness metrics disagree about {name}: best on "
                    f"{', '.join(best_on)}, worst on {', '.join(worst_on)}."
                )
        attributions = self._attributions()
        for name, W in attributions.items():
            zero = _zero_rows(W)
            if zero.size:
                notes.append(
                    f"{name} gives all-zero attributions on {zero.size} of {W.shape[0]} rows "
                    f"({'rows' if zero.size > 1 else 'row'} {', '.join(map(str, zero[:8]))}"
                    f"{', ...' if zero.size > 8 else ''}): "
                    "the model's output is flat there (a saturated output has a zero gradient). "
                    "Such rows score a perfect complexity of 0 while explaining nothing."
                )
        negative = [
            m for m in ("insertion_auc", "deletion_auc") if m in mean and (mean[m] < 0).any()
        ]
        if negative:
            notes.append(
                f"{' and '.join(negative)} {'are' if len(negative) > 1 else 'is'} negative: "
                "an area under the explained output, which is negative here (a log-probability, "
                "say). Compare explainers on it, not signs."
            )
        if attributions and self.explainers:
            slopes = [n for n in attributions if self._value_kind(n) == "slopes"]
            others = [n for n in attributions if self._value_kind(n) != "slopes"]
            if slopes and others:
                notes.append(
                    f"{', '.join(slopes)} return local slopes (change of the output per unit of "
                    f"each feature) while {', '.join(others)} return attributions (each "
                    "feature's share of the output's change from a baseline): their signs and "
                    "sizes are not comparable, and the per-row panels draw them apart."
                )
        return notes

    def _worst(self, display, metric):
        higher = display.direction(metric)
        values = self.results[(metric, "mean")].to_numpy(dtype=float)
        if higher is None or not np.isfinite(values).any() or len(values) < 3:
            return None
        score = np.where(np.isfinite(values), values if higher else -values, np.inf)
        return str(self.results.index[int(np.argmin(score))])

    # -- figures --------------------------------------------------------------------------------
    def _metric_bars(self, display, metrics):
        cols = min(len(metrics), 3)
        rows = int(np.ceil(len(metrics) / cols))
        fig = _figure(figsize=(4.4 * cols, 3.2 * rows))
        axes = fig.subplots(rows, cols, squeeze=False)
        display.plot(ax=axes, kind="bars", metrics=metrics)
        fig.tight_layout()
        return (
            "Metrics per explainer: mean over rows, error bars one standard error; the best "
            "explainer of each metric is hatched and outlined",
            fig,
        )

    def _front(self, display):
        try:
            x, y = display.front_metrics(None, None)
        except ValueError:
            return None
        fig = _figure(figsize=(7, 5))
        fig.subplots_adjust(left=0.14, right=0.96, bottom=0.12, top=0.86)
        display.plot(ax=fig.subplots(), kind="front", x=x, y=y)
        return (
            f"Faithfulness-robustness trade-off: {y} against {x}, each explainer in its colour. "
            "The dashed front joins the explainers that no other beats on both metrics: moving "
            "along it trades one property for the other; an explainer off the front is beaten "
            "on both by one on it.",
            fig,
        )

    def _importance(self, attributions, names):
        from .display import AttributionDisplay

        k = len(attributions)
        cols = min(k, 3)
        rows = int(np.ceil(k / cols))
        top = min(self.n_features, len(names))
        fig = _figure(figsize=(4.6 * cols, (0.32 * top + 1.3) * rows))
        axes = fig.subplots(rows, cols, squeeze=False).ravel()
        for ax, (name, W) in zip(axes, attributions.items(), strict=False):
            AttributionDisplay(
                W, feature_names=names, name=name, values_are=self._value_kind(name)
            ).plot(ax=ax, kind="bar", max_features=self.n_features)
        for ax in axes[k:]:
            ax.set_visible(False)
        fig.tight_layout()
        return (
            "Global importance per explainer: the mean absolute attribution (or slope) of each "
            f"feature over the {next(iter(attributions.values())).shape[0]} rows",
            fig,
        )

    def _row_panel(self, attributions, names, row):
        from .display import AttributionDisplay

        k = len(attributions)
        top = min(self.n_features, len(names))
        fig = _figure(figsize=(5.6 * min(k, 2), (0.34 * (top + 2) + 1.4) * int(np.ceil(k / 2))))
        axes = fig.subplots(int(np.ceil(k / 2)), min(k, 2), squeeze=False).ravel()
        X = self._numeric_X()
        for ax, (name, W) in zip(axes, attributions.items(), strict=False):
            outputs, base, _ = self._row_outputs(name, [row])
            AttributionDisplay(
                W[row : row + 1],
                None if X is None else X[row : row + 1],
                feature_names=names,
                base_values=base,
                outputs=outputs,
                name=name,
                values_are=self._value_kind(name),
            ).plot(ax=ax, kind="waterfall", row=0, max_features=self.n_features)
            ax.set_title(ax.get_title().replace("row 0", f"row {row}"), fontsize="medium")
        for ax in axes[k:]:
            ax.set_visible(False)
        fig.tight_layout()
        return fig

    def _heatmaps(self, attributions, rows):
        names = list(attributions)
        X = None if self.X is None else np.asarray(self.X, dtype=np.float64)
        cols = len(names) + (X is not None)
        fig = _figure(figsize=(2.2 * cols, 2.2 * len(rows)))
        axes = fig.subplots(len(rows), cols, squeeze=False)
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

    def _rows(self, attributions):
        n = next(iter(attributions.values())).shape[0]
        return list(range(min(self.n_rows, n)))

    def figures(self):
        """Draw every figure of the report.

        Returns
        -------
        list of (str, bytes)
            The caption and PNG bytes of each figure.
        """
        display = self._display()
        metrics = display.metric_names()
        attributions = self._attributions()
        self.displays_ = {}
        made = [self._metric_bars(display, metrics)]
        self.displays_["bars"] = display
        front_display = self._display()
        front = self._front(front_display)
        if front is not None:
            made.append(front)
            self.displays_["front"] = front_display
        if attributions:
            d = next(iter(attributions.values())).shape[1]
            if self.image_shape is not None:
                if int(np.prod(self.image_shape)) != d:
                    raise ValueError(
                        f"image_shape {tuple(self.image_shape)} does not hold {d} features"
                    )
                rows = self._rows(attributions)
                if rows:
                    made.append(self._heatmaps(attributions, rows))
            else:
                made.append(self._importance(attributions, self._names(d)))
        return [(caption, _figure_png(fig)) for caption, fig in made]

    # -- html -----------------------------------------------------------------------------------
    def _table_html(self, display, metrics):
        best = {m: display.best(m) for m in metrics}
        cells = []
        for name in self.results.index:
            row = [f"<th>{html.escape(str(name))}</th>"]
            for metric in metrics:
                mean = self.results.loc[name, (metric, "mean")]
                sem = self.results.loc[name, (metric, "sem")]
                spread = "" if not np.isfinite(sem) else f" &plusmn; {sem:.3g}"
                mark, css = "", ""
                if best[metric] == str(name):
                    mark = ' <span class="star" aria-label="best">&#9733;</span>'
                    css = ' class="best"'
                # the exact value in the title, for readers and tests
                row.append(f'<td{css} title="{float(mean)!r}">{mean:.4g}{spread}{mark}</td>')
            cells.append(f"<tr>{''.join(row)}</tr>")
        header = "".join(
            f'<th><a href="#metric-{html.escape(m)}">{html.escape(m)}</a><br>'
            f'<span class="direction">{_direction_words(display.direction(m))}</span></th>'
            for m in metrics
        )
        return (
            '<table class="metrics">\n'
            f"<thead><tr><th>explainer</th>{header}</tr></thead>\n"
            f"<tbody>\n{chr(10).join(cells)}\n</tbody>\n</table>\n"
            '<p class="legend">Mean over the explained rows &plusmn; its standard error; '
            "&#9733; marks the best explainer of each column.</p>"
        )

    def _definitions_html(self, display, metrics):
        from .display import registered_metric

        given = self.results.attrs.get("metric_kwargs", {})
        items = []
        for m in metrics:
            spec = registered_metric(m)
            direction = _direction_words(display.direction(m)) or "direction unknown"
            parts = [f'<dt id="metric-{html.escape(m)}">{html.escape(m)}</dt><dd>']
            if spec is not None and spec.definition:
                parts.append(f'<span class="definition">{html.escape(spec.definition)}</span> ')
            else:
                parts.append('<span class="definition">A metric given by the caller.</span> ')
            parts.append(f'<span class="direction">{direction}</span>.')
            if spec is not None and spec.range:
                parts.append(f" Range: {html.escape(spec.range)}.")
            if spec is not None and spec.perturbation:
                used = spec.describe_perturbation(given.get(m))
                parts.append(f" Perturbation/baseline: {html.escape(used)}.")
            if spec is not None and spec.guide:
                if self.docs_url:
                    url = self.docs_url.rstrip("/") + "/" + spec.guide
                    parts.append(f' <a href="{html.escape(url)}">User guide</a>.')
                else:
                    parts.append(f" User guide: <code>{html.escape(spec.guide)}</code>.")
            parts.append("</dd>")
            items.append("".join(parts))
        return '<dl class="definitions">' + "\n".join(items) + "</dl>"

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
        return ['<h2 id="settings">Run settings</h2>', f'<table class="settings">{body}</table>']

    def _row_html(self, attributions, row):
        names = self._names(next(iter(attributions.values())).shape[1])
        facts = []
        for name in attributions:
            outputs, base, target = self._row_outputs(name, [row])
            if outputs is not None:
                text = f"model output f(x) = {outputs[0]:.4g}"
                if target is not None:
                    text += f" (output {int(np.asarray(target)[0])}, the predicted class)"
                facts.append(text)
                break
        for name in attributions:
            _, base, _ = self._row_outputs(name, [row])
            if base is not None:
                facts.append(f"base value {base[0]:.4g} (the output at {name}'s baseline)")
        kinds = {n: self._value_kind(n) for n in attributions}
        slopes = [n for n, k in kinds.items() if k == "slopes"]
        if slopes:
            facts.append(f"{', '.join(slopes)}: local slopes, drawn apart from attributions")
        values = ""
        if self.X is not None:
            x = self._row_values(row)
            order = np.argsort(-np.mean([np.abs(W[row]) for W in attributions.values()], axis=0))
            shown = order[: self.n_features]
            cells = "".join(
                f"<tr><th>{html.escape(names[j])}</th><td>{html.escape(x[j])}</td></tr>"
                for j in shown
            )
            values = f'<table class="features"><caption>feature values</caption>{cells}</table>'
        png = _figure_png(self._row_panel(attributions, names, row))
        data = base64.b64encode(png).decode("ascii")
        caption = f"Row {row}: " + "; ".join(facts) if facts else f"Row {row}"
        self.figures_.append((caption, png))
        return (
            f'<section class="row" id="row-{row}"><h3>Row {row} of the explained rows</h3>'
            f'<p class="facts">{html.escape("; ".join(facts))}</p>'
            f'<div class="row-body">{values}<figure><img src="data:image/png;base64,{data}" '
            f'alt="{html.escape(caption)}"><figcaption>{html.escape(caption)}. Waterfalls run '
            "from the base value to the model output (red raises it, blue lowers it); slopes are "
            "bars from zero, per unit of each feature.</figcaption></figure></div></section>"
        )

    def render(self):
        """Render the report as one HTML document.

        Returns
        -------
        str
            The self-contained HTML page (figures embedded as PNG data).
        """
        from ._version import __version__

        display = self._display()
        metrics = display.metric_names()
        attributions = self._attributions()
        self.verdict_ = self.verdict()
        self.notes_ = self.notes()
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
        parts.append('<h2 id="verdict">Verdict</h2>')
        parts.append(
            '<p class="verdict">' + " ".join(html.escape(s) for s in self.verdict_) + "</p>"
        )
        if self.notes_:
            parts.append('<ul class="notes">')
            parts += [f"<li>{html.escape(note)}</li>" for note in self.notes_]
            parts.append("</ul>")
        parts += [
            '<h2 id="metrics">Metrics</h2>',
            self._table_html(display, metrics),
            '<h3 id="definitions">What the metrics measure</h3>',
            self._definitions_html(display, metrics),
        ]
        parts += self._settings_html()
        parts.append('<h2 id="figures">Figures</h2>')
        for caption, png in self.figures_:
            data = base64.b64encode(png).decode("ascii")
            parts.append(
                f'<figure><img src="data:image/png;base64,{data}" '
                f'alt="{html.escape(caption)}"><figcaption>{html.escape(caption)}'
                "</figcaption></figure>"
            )
        if attributions and self.image_shape is None:
            parts.append('<h2 id="rows">Explained rows</h2>')
            parts += [self._row_html(attributions, row) for row in self._rows(attributions)]
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


def _direction_words(greater_is_better):
    return {True: "\u2191 higher is better", False: "\u2193 lower is better"}.get(
        greater_is_better, ""
    )


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1150px; color: #222;
       padding: 0 1em; line-height: 1.45; }
table.metrics, table.settings, table.features { border-collapse: collapse; margin: 1em 0; }
table th, table td { border: 1px solid #ccc; padding: 4px 10px; vertical-align: top; }
table.metrics td { text-align: right; font-variant-numeric: tabular-nums; }
table.metrics thead th { background: #f2f2f2; }
table.metrics td.best { background: #e6f4ea; font-weight: bold; }
.star { color: #b8860b; }
.direction { font-weight: normal; color: #555; font-size: 0.9em; }
p.verdict { background: #f5f8ff; border-left: 4px solid #4a7bd0; padding: 0.6em 1em; }
ul.notes li { margin: 0.3em 0; }
dl.definitions dt { font-weight: bold; margin-top: 0.6em; }
dl.definitions dd { margin-left: 1.5em; }
table.settings th { text-align: left; background: #f7f7f7; }
table.features caption { font-size: 0.85em; color: #555; }
.row-body { display: flex; gap: 1.5em; align-items: flex-start; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; }
figcaption { color: #555; font-size: 0.9em; }
footer { margin-top: 2em; color: #888; font-size: 0.8em; }
"""
