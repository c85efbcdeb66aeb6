"""Sphinx configuration of the skexplain documentation.

Build: ``sphinx-build -W --keep-going -b html doc doc/_build/html`` from the repository root.
The API reference is generated from the docstrings (autosummary + numpydoc); the examples are
shown as source (one generated page per ``examples/*.py``), never executed by the build.
"""

import os
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parent
ROOT = DOC.parent
# The package is normally installed (pip install -e ".[docs]"); the checkout comes first anyway so
# the documentation always describes the sources beside it.
sys.path.insert(0, str(ROOT))

import skexplain  # noqa: E402

project = "skexplain"
author = "the skexplain developers"
copyright = "the skexplain developers"
version = release = skexplain.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "README.md"]
root_doc = "index"
default_role = "literal"

# -- API reference -----------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "member-order": "groupwise"}
autodoc_typehints = "none"
# Class pages list their members through the autosummary template; numpydoc's own member tables
# would describe every method twice.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# The docstrings' Attributes sections use plain "name : type" entries.
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- HTML --------------------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"skexplain {release}"
html_static_path = []
html_theme_options = {"description": "Feature attributions as scikit-learn estimators"}


# -- Examples: one page per script, its source shown as it is ----------------------------------
def _write_example_pages(app):
    examples = sorted((ROOT / "examples").glob("*.py"))
    out = DOC / "examples" / "generated"
    out.mkdir(exist_ok=True)
    wanted = set()
    for script in examples:
        title = _first_docstring_line(script) or script.stem
        page = out / f"{script.stem}.rst"
        wanted.add(page.name)
        text = (
            f".. _example_{script.stem}:\n\n"
            f"{title}\n{'=' * len(title)}\n\n"
            f"Run it from the repository root with ``python examples/{script.name}``.\n\n"
            f".. literalinclude:: ../../../examples/{script.name}\n"
            "   :language: python\n"
            "   :linenos:\n"
        )
        if not page.exists() or page.read_text(encoding="utf-8") != text:
            page.write_text(text, encoding="utf-8")
    for stale in out.glob("*.rst"):
        if stale.name not in wanted:
            stale.unlink()


def _first_docstring_line(script):
    import ast

    doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")))
    return doc.strip().splitlines()[0].strip() if doc else None


# -- Members: document what skexplain defines, not what it inherits from scikit-learn -----------
# Class pages include inherited members (``fit`` of BaseExplainer on SmoothGrad's page), but
# scikit-learn's own mixin methods (set_output, get_metadata_routing, set_*_request) are
# documented by scikit-learn, with cross-references that only resolve in its documentation.
def _skip_foreign_member(app, what, name, obj, skip, options):
    if what != "class":
        return None
    target = obj.fget if isinstance(obj, property) else obj
    module = getattr(target, "__module__", None) or ""
    if callable(target) and not module.startswith("skexplain"):
        return True
    return None


def _remove_stale_api_pages(app):
    # autosummary rewrites the pages of listed names but never deletes those of removed ones,
    # which Sphinx would then report as documents outside every toctree.
    import shutil

    shutil.rmtree(DOC / "generated", ignore_errors=True)


def setup(app):
    # Priority 400 runs before autosummary's own builder-inited handler (500) regenerates them.
    app.connect("builder-inited", _remove_stale_api_pages, priority=400)
    app.connect("builder-inited", _write_example_pages)
    app.connect("autodoc-skip-member", _skip_foreign_member)
    return {"parallel_read_safe": True}


os.environ.setdefault("MPLBACKEND", "Agg")
