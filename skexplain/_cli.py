"""Command line: ``python -m skexplain`` explains a model trained on a bundled dataset.

With no arguments it trains a small neural network on scikit-learn's breast-cancer data and
prints, for a few test rows, the attributions of several explainers side by side.

``python -m skexplain report`` compares the explainers on explanation metrics and writes a
self-contained HTML report (:mod:`skexplain.report`): on the same bundled dataset and model with
no arguments, or on a user's saved scikit-learn model and CSV rows with ``--model`` and ``--data``.
"""

import argparse
import math
import os
import sys
import tempfile
import warnings

import numpy as np

from .utils import import_optional

DATASETS = ("breast_cancer", "wine", "diabetes")


def _load(name):
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")()
    return bunch.data, bunch.target, list(bunch.feature_names)


def _model(name, X, y, random_state):
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name == "diabetes":
        net = MLPRegressor(hidden_layer_sizes=(32,), max_iter=2000, random_state=random_state)
    else:
        net = MLPClassifier(hidden_layer_sizes=(32,), max_iter=1000, random_state=random_state)
    return make_pipeline(StandardScaler(), net).fit(X, y)


# The main job's explainers (an MLP: gradients apply); the report chooses its own defaults for
# each model (skexplain.report.default_explainers) unless --explainers names them.
DEFAULT_EXPLAINERS = ("Gradient", "SmoothGrad", "IntegratedGradients", "C-LIME")


def _explainers(model, random_state, scale=0.1, names=DEFAULT_EXPLAINERS):
    # scale is in feature units: the main job explains standardized inputs (see explain_dataset).
    from .explainers.defaults import make_explainer

    return {
        name: make_explainer(name, model, noise_scale=scale, random_state=random_state)
        for name in names
    }


def _bundled(dataset, random_state, scores=False):
    """The main job's setup: model adapter, standardized test rows, names and a description.

    With ``scores=True`` also ``(description, value)`` of the pipeline's held-out score.
    """
    from sklearn.model_selection import train_test_split

    from .models import as_model

    X, y, names = _load(dataset)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, random_state=random_state
    )
    pipeline = _model(dataset, X_train, y_train, random_state)
    scaler, net = pipeline[0], pipeline[-1]
    # The package default output: a classifier's log-odds, which do not saturate (a saturated
    # probability has near-zero gradients everywhere), the same as for a user's model.
    model = as_model(net)
    kind = "regression output" if dataset == "diabetes" else "log-odds of the predicted class"
    about = f"{type(net).__name__} on {dataset}, explaining the {kind}"
    if not scores:
        return model, scaler.transform(X_test), names, about
    metric = "R\u00b2" if dataset == "diabetes" else "accuracy"
    score = (
        f"held-out {metric} of the model ({len(X_test)} test rows, 20% split)",
        float(pipeline.score(X_test, y_test)),
    )
    return model, scaler.transform(X_test), names, about, score


def explain_dataset(dataset="breast_cancer", n_rows=3, n_features=8, random_state=0, file=None):
    """Train a model on a bundled dataset and print the attributions of a few rows.

    The model is a scikit-learn MLP behind a StandardScaler; the rows are explained in
    standardized units (the scaler's output), so one noise scale fits every feature.

    Parameters
    ----------
    dataset : {"breast_cancer", "wine", "diabetes"}, default="breast_cancer"
    n_rows : int, default=3
        Held-out rows to explain.
    n_features : int, default=8
        Features shown per row: the largest by mean absolute attribution.
    random_state : int, default=0
    file : file-like or None, default=None
        Where to print (standard output by default).

    Returns
    -------
    dict
        Explainer name to attributions of shape ``(n_rows, n_features_total)``.

    Examples
    --------
    >>> import io
    >>> from skexplain._cli import explain_dataset
    >>> out = explain_dataset("wine", n_rows=1, n_features=3, file=io.StringIO())
    >>> sorted(out)
    ['C-LIME', 'Gradient', 'IntegratedGradients', 'SmoothGrad']
    """
    file = sys.stdout if file is None else file
    model, Z, names, about = _bundled(dataset, random_state)
    Z = Z[:n_rows]

    results = {}
    for name, explainer in _explainers(model, random_state).items():
        results[name] = explainer.fit(Z).transform(Z)

    print(f"skexplain: {about}", file=file)
    print("attributions in standardized feature units\n", file=file)
    for row in range(Z.shape[0]):
        scores = np.mean([np.abs(W[row]) for W in results.values()], axis=0)
        top = np.argsort(-scores)[:n_features]
        width = max(len(names[j]) for j in top)
        header = "".join(f"{name:>21}" for name in results)
        print(f"row {row}: {'feature':<{width}}{header}", file=file)
        for j in top:
            values = "".join(f"{W[row, j]:>21.4f}" for W in results.values())
            print(f"       {names[j]:<{width}}{values}", file=file)
        print(file=file)
    return results


class _UsageError(Exception):
    """A problem with the user's arguments or files, reported on one line with exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but every error is one line on standard error (no usage block), status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {_one_line(message)}\n")


_OUTPUT_METHODS = {
    "logit": "predict_proba",
    "probability": "predict_proba",
    "log_probability": "predict_log_proba",
    "decision_function": "decision_function",
    "predict": "predict",
}

# numpy's legacy seeding accepts these; joblib's n_jobs=0 means nothing.
_MAX_SEED = 2**32 - 1


def _one_line(error):
    return " ".join(str(error).split())


def _version():
    from ._version import __version__

    return f"skexplain {__version__}"


# -- checks made before any work ------------------------------------------------------------------
def _check_numbers(args):
    if args.rows < 1:
        raise _UsageError(f"--rows must be a positive integer, got {args.rows}")
    if args.noise_scale is not None and not (
        math.isfinite(args.noise_scale) and args.noise_scale > 0
    ):
        raise _UsageError(f"--noise-scale must be a finite positive number, got {args.noise_scale}")
    if not 0 <= args.random_state <= _MAX_SEED:
        raise _UsageError(
            f"--random-state must be an integer in [0, {_MAX_SEED}], got {args.random_state}"
        )
    if args.n_jobs == 0:
        raise _UsageError(
            "--n-jobs must be a positive number of processes or negative (-1: all cores), got 0"
        )
    if not args.sep:
        raise _UsageError("--sep must be a non-empty separator")


def _same_file(a, b):
    if os.path.exists(a) and os.path.exists(b):
        return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def _check_output(option, path, inputs):
    """Refuse an output path that would overwrite an input or cannot be written, up front."""
    for input_option, input_path in inputs:
        if input_path is not None and _same_file(path, input_path):
            raise _UsageError(
                f"{option} {path} is the {input_option} file; inputs are never overwritten, "
                "choose another name"
            )
    if os.path.isdir(path):
        raise _UsageError(f"{option} {path} is a directory; give a file name")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise _UsageError(f"{option} {path}: the directory {folder} does not exist")
    try:  # the only reliable test (os.access says yes to root on read-only mounts)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise _UsageError(
            f"{option} {path}: cannot write in {folder} ({error.strerror or error})"
        ) from error
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise _UsageError(f"{option} {path}: the file exists and is not writable")


def _check_outputs(args):
    inputs = [("--data", args.data), ("--model", args.model)]
    outputs = [("--out", args.out)]
    if args.attributions_out:
        outputs.append(("--attributions-out", args.attributions_out))
    for option, path in outputs:
        _check_output(option, path, inputs)
    if len(outputs) == 2 and _same_file(args.out, args.attributions_out):
        raise _UsageError("--out and --attributions-out name the same file")


def _load_model(path, output, file):
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if not os.path.isfile(path):
        raise _UsageError(f"--model {path}: no such file")
    if path.endswith(".skops"):
        model = _load_skops(path)
    else:
        import joblib

        # Unpickling runs whatever code the file carries: say so before doing it.
        print(
            f"skexplain: loading --model {path} with joblib unpickles it, which runs code stored "
            "in the file; load only files you trust (a .skops file is loaded without pickle)",
            file=file,
            flush=True,
        )
        try:
            model = joblib.load(path)
        except Exception as error:  # any unpickling failure: say which file and why, on one line
            raise _UsageError(
                f"--model {path}: cannot load a model ({type(error).__name__}: {_one_line(error)})"
            ) from error
    name = type(model).__name__
    if output == "auto":
        if not any(hasattr(model, m) for m in ("predict_proba", "decision_function", "predict")):
            raise _UsageError(
                f"--model {path}: the {name} has no predict_proba, decision_function or predict "
                "method to explain"
            )
    elif not hasattr(model, _OUTPUT_METHODS[output]):
        raise _UsageError(
            f"--model {path}: --output {output} needs the model's {_OUTPUT_METHODS[output]} "
            f"method, which the {name} does not have"
        )
    try:
        check_is_fitted(model)
    except NotFittedError as error:
        raise _UsageError(f"--model {path}: the {name} is not fitted") from error
    except TypeError:
        pass  # not a scikit-learn estimator: as_model decides
    return model


def _load_skops(path):
    """A model saved by ``skops.io.dump``: loaded without pickle, only if every type is trusted."""
    try:
        sio = import_optional("skops.io", purpose="a .skops --model")
    except ImportError as error:
        raise _UsageError(f"--model {path}: {error}") from error
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as error:
        raise _UsageError(
            f"--model {path}: cannot read a skops file ({type(error).__name__}: {_one_line(error)})"
        ) from error
    if untrusted:
        raise _UsageError(
            f"--model {path}: the file holds types skops does not trust by default ({untrusted}); "
            "check them and load the model in Python with skops.io.load(..., trusted=[...])"
        )
    return sio.load(path)


def _looks_numeric(name):
    try:
        float(str(name))
    except ValueError:
        # pandas renames a repeated column "1.0" to "1.0.1"
        head, _, tail = str(name).rpartition(".")
        if not (head and tail.isdigit()):
            return False
        return _looks_numeric(head)
    return True


def _load_rows(path, model, drop, sep, header):
    pd = import_optional("pandas", purpose="--data (reading a CSV)")

    if not os.path.isfile(path):
        raise _UsageError(f"--data {path}: no such file")
    try:
        frame = pd.read_csv(path, sep=sep, header=0 if header else None)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise _UsageError(f"--data {path}: cannot read a CSV ({_one_line(error)})") from error
    expected = getattr(model, "feature_names_in_", None)
    expected = None if expected is None else [str(c) for c in expected]
    if header:
        if len(frame.columns) and all(_looks_numeric(c) for c in frame.columns):
            raise _UsageError(
                f"--data {path}: its first row ({', '.join(map(str, frame.columns[:4]))}"
                f"{', ...' if len(frame.columns) > 4 else ''}) holds numbers, not column names: "
                "add a header row, or pass --no-header for a file without one"
            )
        if len(frame.columns) == 1 and sep == "," and ";" in str(frame.columns[0]):
            raise _UsageError(
                f"--data {path}: one column named {frame.columns[0]!r}; is the separator ';'? "
                "(pass --sep ';')"
            )
    else:
        if drop:
            raise _UsageError("--drop and --target name columns; a --no-header file has none")
        names = expected if expected and len(expected) == frame.shape[1] else None
        frame.columns = names or [f"x{j}" for j in range(frame.shape[1])]
    missing = [c for c in drop if c not in frame.columns]
    if missing:
        raise _UsageError(
            f"--drop/--target {missing[0]!r} is not a column of {path} (its columns: "
            f"{', '.join(map(str, frame.columns[:8]))}{', ...' if frame.shape[1] > 8 else ''})"
        )
    dropped = frame[list(dict.fromkeys(drop))]
    frame = frame.drop(columns=list(dict.fromkeys(drop)))
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    if expected is not None:
        missing = [c for c in expected if c not in columns]
        extra = [c for c in columns if c not in expected]
        if missing or extra:
            raise _UsageError(
                f"--data {path}: its columns are not those the model was fitted on "
                f"(missing {missing}, unexpected {extra})"
            )
        frame = frame[expected]  # the model's order
    else:
        n_features = getattr(model, "n_features_in_", None)
        if n_features is not None and frame.shape[1] != n_features:
            raise _UsageError(
                f"--data {path}: {frame.shape[1]} columns, but the model was fitted on "
                f"{n_features} features"
            )
    if frame.shape[0] == 0:
        raise _UsageError(f"--data {path}: no rows")
    text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if text:
        _check_text_columns(frame, text, model, path)
    for column in frame.columns:
        if column in text:
            continue
        values = frame[column].to_numpy(dtype=np.float64)
        if np.isnan(values).any():
            raise _UsageError(f"--data {path}: column {column!r} has missing values")
        if np.isinf(values).any():
            row = int(np.flatnonzero(np.isinf(values))[0])
            raise _UsageError(
                f"--data {path}: column {column!r} has an infinite value (data row {row + 1})"
            )
    rows = frame if text else frame.to_numpy(dtype=np.float64)
    return rows, list(frame.columns), dropped


def _check_text_columns(frame, text, model, path):
    """Text columns go to a model fitted on a frame that takes them (a pipeline that encodes
    them); any other model, or missing values, are refused up front."""
    column = text[0]
    refusal = (
        f"--data {path}: column {column!r} is not numeric (dtype {frame[column].dtype}); "
        "encode it as numbers or drop it with --drop"
    )
    if getattr(model, "feature_names_in_", None) is None:
        raise _UsageError(refusal)
    method = next(m for m in ("predict_proba", "decision_function", "predict") if hasattr(model, m))
    try:
        getattr(model, method)(frame.head(5))
    except Exception as error:  # the model's own refusal, on one line
        raise _UsageError(
            f"{refusal} (the model cannot take it: {type(error).__name__}: {_one_line(error)})"
        ) from error
    for name in text:
        if frame[name].isna().any():
            raise _UsageError(f"--data {path}: column {name!r} has missing values")


def _report_parser():
    from .explainers.defaults import EXPLAINER_NAMES
    from .metrics import get_metric_names
    from .report import DEFAULT_METRICS

    parser = _Parser(
        prog="python -m skexplain report",
        description=(
            "Compare explainers on explanation metrics and write a self-contained HTML report. "
            "Without --model and --data: the main job's model and bundled dataset. Loading a "
            "--model saved with joblib or pickle runs code from the file: load only files you "
            "trust (a .skops file is loaded without pickle when skops is installed)."
        ),
    )
    parser.add_argument("--version", action="version", version=_version())
    parser.add_argument(
        "--model",
        help="a fitted scikit-learn model saved with joblib.dump (unpickled: trusted files only) "
        "or skops.io.dump (.skops)",
    )
    parser.add_argument("--data", help="CSV file with a header row: the rows to explain")
    parser.add_argument("--sep", default=",", help="the CSV's column separator (default ',')")
    parser.add_argument(
        "--no-header",
        dest="header",
        action="store_false",
        help="the CSV has no header row (columns in the model's order)",
    )
    parser.add_argument(
        "--drop",
        action="append",
        default=[],
        metavar="COLUMN",
        help="a column of --data not given to the model (repeat for several)",
    )
    parser.add_argument(
        "--target",
        help="the label column of --data: dropped, and used for the model's score on the rows",
    )
    parser.add_argument(
        "--output",
        choices=("auto", *_OUTPUT_METHODS),
        default="auto",
        help="the model output explained (auto, the package default: a classifier's log-odds "
        "(logit), else decision_function, else predict)",
    )
    parser.add_argument(
        "--explainers",
        nargs="+",
        choices=EXPLAINER_NAMES,
        default=None,
        help="the explainers compared (default: chosen for the model: Gradient, SmoothGrad, "
        "IntegratedGradients and C-LIME where gradients apply; for trees, forests, boosting and "
        "neighbours, Shapley values (TreeSHAP, or Shapley for any model) and C-LIME)",
    )
    parser.add_argument(
        "--metrics", nargs="+", choices=sorted(get_metric_names()), default=list(DEFAULT_METRICS)
    )
    parser.add_argument(
        "--rows",
        type=int,
        default=50,
        help="the first rows of --data explained (default 50); the explainers learn from all",
    )
    parser.add_argument(
        "--noise-scale",
        type=float,
        default=None,
        help="noise of SmoothGrad, VarGrad and C-LIME, in standard deviations of each column "
        "(default 0.1, or 0.5 for a piecewise-constant model), as the library's default units",
    )
    parser.add_argument("--out", default="skexplain-report.html", help="the HTML file written")
    parser.add_argument(
        "--attributions-out", help="also write the attributions to this CSV (long format)"
    )
    parser.add_argument("--dataset", choices=DATASETS, default="breast_cancer")
    parser.add_argument("--random-state", type=int, default=0, help="seed, in [0, 2**32 - 1]")
    parser.add_argument(
        "--n-jobs", type=int, default=None, help="parallel processes (joblib: -1 for all cores)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _as_fitted(estimator, X, names):
    """X as the estimator was fitted: a DataFrame with its column names when it has them."""
    if getattr(estimator, "feature_names_in_", None) is None or hasattr(X, "columns"):
        return X
    pd = import_optional("pandas", purpose="a model fitted on a DataFrame")
    return pd.DataFrame(X, columns=names)


def _user_setup(args, file):
    """Model adapter, rows, names, description and held-out score of a user's model and CSV."""
    from .models import as_model

    estimator = _load_model(args.model, args.output, file)
    drop = list(args.drop) + ([args.target] if args.target else [])
    X, names, dropped = _load_rows(args.data, estimator, drop, args.sep, args.header)
    try:
        model = as_model(estimator, output=None if args.output == "auto" else args.output)
    except (TypeError, ValueError) as error:
        raise _UsageError(f"--model {args.model}: {_one_line(error)}") from error
    score = None
    if args.target and hasattr(estimator, "score"):
        try:
            value = estimator.score(_as_fitted(estimator, X, names), dropped[args.target])
            score = (
                f"{type(estimator).__name__}.score on the {len(X)} rows of {args.data} "
                f"(labels: {args.target})",
                float(value),
            )
        except Exception as error:  # a score is extra information, never a reason to stop
            warnings.warn(f"cannot score the model on --target: {error}", stacklevel=2)
    about = (
        f"{type(estimator).__name__} from {args.model} on {args.data}, explaining its "
        f"{model.output} output"
    )
    return model, X, names, about, score


def report(argv=None, file=None):
    """``python -m skexplain report``: explainers compared on metrics, as an HTML report.

    Every problem with the arguments or files is found before any work starts and reported on
    one line of standard error, with exit status 2: output paths first (an output never
    overwrites an input), then the numbers, the CSV and the model.

    Parameters
    ----------
    argv : list of str or None, default=None
        Command-line arguments after ``report`` (``python -m skexplain report --help``).
    file : file-like or None, default=None
        Where the summary is printed (standard output by default).

    Returns
    -------
    int
        0; bad arguments or files exit with status 2 and a one-line message on standard error.

    Examples
    --------
    >>> import io, os, tempfile
    >>> from skexplain._cli import report
    >>> out = os.path.join(tempfile.mkdtemp(), "report.html")
    >>> report(["--dataset", "wine", "--rows", "4", "--explainers", "Gradient",
    ...         "--metrics", "complexity", "--out", out, "--quiet"], file=io.StringIO())
    0
    >>> os.path.getsize(out) > 1000
    True
    """
    pd = import_optional("pandas", purpose="`python -m skexplain report`")

    from .report import ExplanationReport, default_explainers, evaluate_explainers

    file = sys.stdout if file is None else file
    parser = _report_parser()
    args = parser.parse_args(argv)
    try:
        if (args.model is None) != (args.data is None):
            raise _UsageError("--model and --data go together (or neither, for the bundled data)")
        _check_numbers(args)
        _check_outputs(args)
        if args.model is None:
            model, X, names, about, score = _bundled(args.dataset, args.random_state, scores=True)
            about += "; attributions in standardized feature units"
        else:
            model, X, names, about, score = _user_setup(args, file)
    except _UsageError as error:
        print(f"{parser.prog}: error: {_one_line(error)}", file=sys.stderr)
        sys.exit(2)
    # The explainers learn from every row (column scales, the Shapley background, drawn from
    # all of them) and explain the first --rows: a file sorted by label would otherwise give a
    # background of one class.
    every_row, X = X, X[: args.rows]

    if args.explainers is None:
        chosen = default_explainers(
            model, noise_scale=args.noise_scale, random_state=args.random_state
        )
    else:
        scale = 0.1 if args.noise_scale is None else args.noise_scale
        chosen = _explainers(model, args.random_state, scale, args.explainers)
    # Fitted here, so the report can ask their model for each row's output and base value.
    explainers = {name: explainer.fit(every_row) for name, explainer in chosen.items()}
    scales = {e.noise_scale for e in explainers.values() if hasattr(e, "noise_scale")}
    # A model fitted on a DataFrame is queried with a frame of its columns: no warning to hide.
    results, attributions = evaluate_explainers(
        explainers,
        X,
        args.metrics,
        n_jobs=args.n_jobs,
        random_state=args.random_state,
        verbose=0 if args.quiet else 1,
        return_attributions=True,
    )
    settings = {"rows explained": X.shape[0], "rows the explainers learned from": len(every_row)}
    if scales:
        settings["noise scale (SmoothGrad, VarGrad, C-LIME)"] = (
            f"{scales.pop():.4g} standard deviations"
        )
    settings.update({"random state": args.random_state, "n_jobs": args.n_jobs})
    if score is not None:
        settings[score[0]] = f"{score[1]:.4g}"
    ExplanationReport(
        results,
        attributions,
        X,
        feature_names=names,
        title="skexplain: explanation report",
        description=f"{about}; {X.shape[0]} rows explained.",
        explainers=explainers,
        settings=settings,
    ).to_html(args.out)
    if args.attributions_out:
        long = pd.concat(
            [
                pd.DataFrame(W, columns=names).assign(explainer=name, row=np.arange(len(W)))
                for name, W in attributions.items()
            ]
        )
        long[["explainer", "row", *names]].to_csv(args.attributions_out, index=False)
    from .report import format_table

    print(f"skexplain: {about}\n", file=file)
    print(format_table(results), file=file)
    print(f"\nwrote {args.out}", file=file)
    return 0


def main(argv=None):
    """Entry point of ``python -m skexplain`` (and of ``python -m skexplain report``)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["report"]:
        return report(argv[1:])
    parser = _Parser(
        prog="python -m skexplain",
        description="Train a model on a bundled dataset and print feature attributions.",
        epilog="python -m skexplain report writes an HTML report comparing the explainers on "
        "explanation metrics, for this model or yours (python -m skexplain report --help).",
    )
    parser.add_argument("--version", action="version", version=_version())
    parser.add_argument("--dataset", choices=DATASETS, default="breast_cancer")
    parser.add_argument("--rows", type=int, default=3, help="rows to explain (default 3)")
    parser.add_argument("--features", type=int, default=8, help="features shown per row")
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)
    if args.rows < 1 or args.features < 1:
        parser.error("--rows and --features must be positive")
    if not 0 <= args.random_state <= _MAX_SEED:
        parser.error(f"--random-state must be an integer in [0, {_MAX_SEED}]")
    explain_dataset(args.dataset, args.rows, args.features, args.random_state)
    print(
        "Compare these explainers on explanation metrics in an HTML report: "
        "python -m skexplain report"
    )
    return 0
