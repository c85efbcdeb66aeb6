"""Find skexplain's public explainers by walking the package, so no list is kept by hand.

In the manner of :func:`sklearn.utils.discovery.all_estimators`: every module whose dotted path
has no component starting with an underscore is imported, and the public classes it holds that
are concrete :class:`~skexplain.base.BaseExplainer` subclasses are collected. The estimator
checks, the validation tests and the API reference check iterate over this, so a new explainer
exported from a public module is checked without editing any list.
"""

import importlib
import inspect
import pkgutil

__all__ = ["all_explainers"]


def _public_modules():
    """Every public module of skexplain, imported; modules whose optional dependency is missing
    (``skexplain.training`` without torch) are left out, as their classes cannot be used."""
    from ._optional import MissingOptionalDependency

    package = importlib.import_module("skexplain")
    modules = [package]
    for info in pkgutil.walk_packages(package.__path__, "skexplain."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        try:
            modules.append(importlib.import_module(info.name))
        except MissingOptionalDependency:
            continue
    return modules


def all_explainers():
    """List the public explainers of skexplain: concrete subclasses of ``BaseExplainer``.

    Abstract bases (``BaseExplainer`` itself, the shared base of the noise explainers) are left
    out, as are classes whose name starts with an underscore or that only a private module holds.

    Returns
    -------
    explainers : list of (str, type)
        ``(name, class)`` pairs sorted by name, each class once.

    Examples
    --------
    >>> from skexplain.utils.discovery import all_explainers
    >>> names = [name for name, _ in all_explainers()]
    >>> "SmoothGrad" in names and "BaseExplainer" not in names
    True
    """
    from ..base import BaseExplainer

    found = {}
    for module in _public_modules():
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if name.startswith("_") or inspect.isabstract(cls):
                continue
            if not issubclass(cls, BaseExplainer):
                continue
            if found.setdefault(name, cls) is not cls:
                raise RuntimeError(f"two public explainers are named {name!r}")
    return sorted(found.items())
