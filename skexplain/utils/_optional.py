"""Optional dependencies: imported where they are used, with an error that names the extra.

The core install (numpy, scipy, scikit-learn, joblib, tqdm) runs the numpy and scikit-learn
explainers and the metrics. Everything heavier is an extra of ``pyproject.toml``, and every
module of skexplain that needs one imports it through :func:`import_optional`, so a missing
package raises an ImportError that says which extra installs it.
"""

import importlib

#: Top-level package -> the extra of ``pyproject.toml`` that installs it (tests/test_packaging.py
#: checks that each extra exists and requires its package).
OPTIONAL_DEPENDENCIES = {
    "torch": "torch",
    "cvxpy": "solvers",
    "osqp": "solvers",
    "shap": "shap",
    "lime": "lime",
    "xgboost": "trees",
    "lightgbm": "trees",
    "pandas": "report",
    "matplotlib": "report",
    "faiss": "scale",  # the distribution is faiss-cpu (or faiss-gpu)
    "dask": "scale",
    "skops": "skops",
}


class MissingOptionalDependency(ImportError):
    """An optional package is not installed; ``extra`` is the extra that installs it."""

    def __init__(self, message, *, name, extra):
        super().__init__(message, name=name)
        self.extra = extra


def import_optional(module, *, purpose=None):
    """Import ``module`` (e.g. ``"torch"`` or ``"lime.lime_tabular"``) from an optional package.

    Parameters
    ----------
    module : str
        Dotted module name; its top-level package must be a key of ``OPTIONAL_DEPENDENCIES``.
    purpose : str or None, default=None
        What needs it, for the message ("LimeExplainer", "the HTML report").

    Returns
    -------
    module
        The imported module.

    Raises
    ------
    MissingOptionalDependency
        (an ImportError) naming the package and the ``pip install "skexplain[extra]"`` command.
    """
    package = module.partition(".")[0]
    extra = OPTIONAL_DEPENDENCIES[package]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        what = purpose or "this part of skexplain"
        raise MissingOptionalDependency(
            f"{what} needs the optional package {package!r}, which could not be imported "
            f'({exc}). Install it with the {extra!r} extra: pip install "skexplain[{extra}]" '
            f'(or every extra: pip install "skexplain[all]").',
            name=package,
            extra=extra,
        ) from exc
