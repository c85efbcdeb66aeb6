"""Discovery finds every public explainer, so a new one is checked without editing a list.

The last test adds an explainer as a contributor would (one new module in the package, see
doc/contributing.rst) and shows that discovery finds it and the estimator checks pass on the
instance the shared builder makes for it.
"""

import importlib
import inspect
import sys

import numpy as np
import pytest
from _explainers import build
from sklearn.utils.estimator_checks import check_estimator

import skexplain
from skexplain.base import BaseExplainer
from skexplain.utils.discovery import all_explainers


def test_all_explainers_are_the_concrete_public_explainers():
    found = all_explainers()
    names = [name for name, _ in found]
    assert names == sorted(names) and len(set(names)) == len(names)
    for name, cls in found:
        assert issubclass(cls, BaseExplainer) and not inspect.isabstract(cls)
        assert getattr(skexplain, name) is cls  # each is exported at the top level
    # Every concrete explainer the top-level package exports is found.
    exported = {
        name
        for name in skexplain.__all__
        if inspect.isclass(obj := getattr(skexplain, name))
        and issubclass(obj, BaseExplainer)
        and not inspect.isabstract(obj)
    }
    assert exported == set(names)
    assert "BaseExplainer" not in names and "NoiseExplainer" not in names  # abstract bases


TOY_MODULE = '''
"""A toy explainer added the way a contributor adds one: a module with a public class."""

import numpy as np

from skexplain.base import BaseExplainer

__all__ = ["ToyGradient"]


class ToyGradient(BaseExplainer):
    """The gradient, halved."""

    def _explain(self, X, target):
        return 0.5 * self.model_.gradient(X, target)


class ToyBase(BaseExplainer):
    """Abstract (no ``_explain``): discovery leaves it out."""


class _ToyPrivate(ToyGradient):
    """Private: discovery leaves it out."""
'''


@pytest.fixture
def toy_module(tmp_path, monkeypatch):
    """``skexplain.toy_explainer``, a module dropped into the package's search path."""
    (tmp_path / "toy_explainer.py").write_text(TOY_MODULE, encoding="utf-8")
    monkeypatch.setattr(skexplain, "__path__", [*skexplain.__path__, str(tmp_path)])
    yield "skexplain.toy_explainer"
    sys.modules.pop("skexplain.toy_explainer", None)
    importlib.invalidate_caches()


def test_a_new_explainer_is_found_and_passes_the_checks(toy_module):
    found = dict(all_explainers())
    assert "ToyGradient" in found and found["ToyGradient"].__module__ == toy_module
    assert "ToyBase" not in found and "_ToyPrivate" not in found
    toy = build(found["ToyGradient"])
    X = np.random.default_rng(0).normal(size=(4, 3))
    np.testing.assert_allclose(toy.fit(X).transform(X), 0.5 * toy.model.gradient(X))
    check_estimator(toy)


def test_the_toy_is_gone_after_the_test():
    assert "ToyGradient" not in dict(all_explainers())
