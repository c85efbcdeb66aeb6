"""The documentation contract: every public name is documented, has a runnable example and is
listed in the API reference, so docstrings, doctests and ``doc/api.rst`` cannot drift apart.

Public names are the ``__all__`` entries of every module of the package whose dotted path has no
component starting with an underscore. An object exported under several paths (``SmoothGrad`` in
``skexplain`` and ``skexplain.explainers``) is one public name, checked once.

The numpydoc validation checks use ``numpydoc``, a test dependency.
"""

import doctest
import importlib
import inspect
import re
from pathlib import Path

import pytest

from skexplain.utils.discovery import _public_modules, all_explainers

API_RST = Path(__file__).resolve().parents[1] / "doc" / "api.rst"

# numpydoc checks that are NOT enforced (every other check of numpydoc.validate is), and why:
EXCLUDED_CHECKS = {
    # "Extended summary": a one-line summary is the whole story for many small functions.
    "ES01",
    # "See Also section not found": cross-references are added where they help, not everywhere.
    "SA01",
    # "Returns: the first line should contain only the type": scikit-learn's own convention for
    # `fit` is `self : object` (a name and a type), which this check rejects.
    "RT02",
}
# Methods get their examples through the example of their class (one per public class/function).
EXCLUDED_METHOD_CHECKS = EXCLUDED_CHECKS | {"EX01"}


def _public_objects():
    """``{id: (path, object)}``: each public object once, under its first (shortest) path."""
    found = {}
    for module in _public_modules():  # the walk of discovery, so both see the same modules
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            found.setdefault(id(obj), (f"{module.__name__}.{name}", obj))
    return found


PUBLIC = sorted(_public_objects().values(), key=lambda item: item[0])
# Functions and classes carry docstrings; constants (tuples, dicts) are documented by a `#:`
# comment in their module and only need to be in the API reference.
DOCUMENTED = [(path, obj) for path, obj in PUBLIC if inspect.isclass(obj) or callable(obj)]
CLASSES = [(path, obj) for path, obj in DOCUMENTED if inspect.isclass(obj)]


def _documented_in_base(klass, name):
    members = (vars(base)[name] for base in klass.__mro__[1:] if name in vars(base))
    return any(member.__doc__ for member in members)


def _public_methods():
    """Public methods and properties defined by skexplain's classes, each once, named through
    the public class that defines them (or, for a private base, the first public subclass)."""
    class_paths = {id(cls): path for path, cls in CLASSES}
    seen, methods = set(), []
    for path, cls in CLASSES:
        for klass in cls.__mro__:
            if not klass.__module__.startswith("skexplain"):
                continue
            owner = class_paths.get(id(klass), path)
            for name, member in vars(klass).items():
                if name.startswith("_") or id(member) in seen:
                    continue
                if not (inspect.isfunction(member) or isinstance(member, property)):
                    continue
                seen.add(id(member))
                if member.__doc__ is None and _documented_in_base(klass, name):
                    continue  # inherits the base's docstring, as inspect.getdoc and Sphinx do
                methods.append(f"{owner}.{name}")
    return sorted(methods)


METHODS = _public_methods()


def _ids(items):
    return [path for path, _ in items]


def test_public_names_found():
    # Guards the enumeration itself: a broken walk would make every test below vacuous.
    paths = {path for path, _ in PUBLIC}
    for expected in ("skexplain.SmoothGrad", "skexplain.metrics.infidelity", "skexplain.as_model"):
        assert expected in paths
    assert len(DOCUMENTED) > 50
    assert "skexplain.BaseExplainer.fit" in METHODS


@pytest.mark.parametrize(("path", "obj"), DOCUMENTED, ids=_ids(DOCUMENTED))
def test_public_name_has_example(path, obj):
    doc = inspect.getdoc(obj)
    assert doc, f"{path} has no docstring"
    match = re.search(r"^Examples\n-{8,}\n(.*?)(?=^\S[^\n]*\n-{3,}\n|\Z)", doc, re.M | re.S)
    assert match, f"{path}: no numpydoc 'Examples' section"
    assert ">>>" in match.group(1), f"{path}: the 'Examples' section has no '>>>' line"
    # The example is a doctest that `pytest --doctest-modules skexplain` collects: the object is
    # defined in skexplain (not re-exported from elsewhere), so its module's doctests include it.
    assert obj.__module__.startswith("skexplain.")
    tests = doctest.DocTestFinder(recurse=False).find(obj, path)
    assert any(test.examples for test in tests), f"{path}: doctest finds no example"


def _validate(path, excluded):
    from numpydoc import validate

    result = validate.validate(path)
    return [f"{code}: {message}" for code, message in result["errors"] if code not in excluded]


@pytest.mark.parametrize(("path", "obj"), DOCUMENTED, ids=_ids(DOCUMENTED))
def test_numpydoc_validation(path, obj):
    errors = _validate(path, EXCLUDED_CHECKS)
    assert not errors, f"{path}:\n" + "\n".join(errors)


@pytest.mark.parametrize("path", METHODS)
def test_numpydoc_validation_methods(path):
    errors = _validate(path, EXCLUDED_METHOD_CHECKS)
    assert not errors, f"{path}:\n" + "\n".join(errors)


def _api_reference_entries():
    """Full dotted names listed by the autosummary directives of ``doc/api.rst``."""
    entries, module, in_autosummary = [], None, False
    for line in API_RST.read_text(encoding="utf-8").splitlines():
        directive = re.match(r"\.\. (currentmodule|module|autosummary)::\s*(\S*)", line)
        if directive:
            kind, argument = directive.groups()
            if kind == "autosummary":
                in_autosummary = True
            else:
                module, in_autosummary = argument, False
            continue
        if not in_autosummary:
            continue
        if line and not line[0].isspace():
            in_autosummary = False
            continue
        entry = line.strip()
        if entry and not entry.startswith(":"):
            entries.append(f"{module}.{entry.lstrip('~')}")
    return entries


def _resolve(dotted):
    module_name, _, attribute = dotted.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def test_every_public_name_in_api_reference():
    listed = {id(_resolve(entry)) for entry in _api_reference_entries()}
    missing = [path for path, obj in PUBLIC if id(obj) not in listed]
    assert not missing, f"public names missing from {API_RST.name}: {missing}"


def test_api_reference_lists_only_public_names():
    public = _public_objects()
    entries = _api_reference_entries()
    assert len(entries) == len(set(entries)), "an entry is listed twice"
    unknown = [entry for entry in entries if id(_resolve(entry)) not in public]
    assert not unknown, f"{API_RST.name} lists names that are not public: {unknown}"
    # Each object once, so Sphinx never sees two descriptions of the same object.
    assert len({id(_resolve(entry)) for entry in entries}) == len(entries)


def test_every_discovered_explainer_is_a_documented_public_name():
    # The checks over every explainer come from discovery: each one it finds must also be
    # exported in an `__all__` (hence documented, with an example, and listed in api.rst).
    public = _public_objects()
    undocumented = [name for name, cls in all_explainers() if id(cls) not in public]
    assert not undocumented, f"explainers not exported in any __all__: {undocumented}"
