"""Sphinx configuration of the skexplain documentation.

Build: ``sphinx-build -W --keep-going -b html doc doc/_build/html`` from the repository root.
The API reference is generated from the docstrings (autosummary + numpydoc); the examples form a
sphinx-gallery (``auto_examples/``): the fast ones (``_EXECUTED``) run during the build and show
their figures, the paper reproductions are shown as source (``.ci/run`` runs every example on its
own, so the build does not run them twice). Math is typeset by a MathJax copy bundled with the
site (``sphinx-mathjax-offline``): pages read offline show formulas, not LaTeX source.
"""

import os
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parent
ROOT = DOC.parent
# The package is normally installed (pip install -e ".[docs]"); the checkout comes first anyway so
# the documentation always describes the sources beside it.
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOC))  # _sphinxext, named in sphinx_gallery_conf

import skexplain  # noqa: E402

project = "skexplain"
author = "the skexplain developers"
copyright = "the skexplain developers"
version = release = skexplain.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # MathJax 3 copied into _static/mathjax: no CDN, math renders without network access.
    "sphinx-mathjax-offline",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
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
# A wide content column: code blocks and tables keep their width instead of being cut off.
html_theme = "pydata_sphinx_theme"
html_title = f"skexplain {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    # No version switcher, no external icons: the site is self-contained.
    "icon_links": [],
}

# -- Examples: a sphinx-gallery --------------------------------------------------------------
# Executed during the build (each takes seconds); the others are shown as source and run by
# .ci/run, one by one with a time limit.
_EXECUTED = ("plot_quickstart.py",)
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": "|".join("/" + name.replace(".", r"\.") + "$" for name in _EXECUTED),
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 10**9,  # no timings on the pages
    "write_computation_times": False,
    # The executed examples write their report to a temporary directory, not into examples/.
    "reset_argv": "_sphinxext.example_argv",
}


def _example_pages(app, docname, source):
    """Give each gallery page a title and the short label the user guide refers to.

    The examples' docstrings start with a one-line summary (they are also ``--help`` texts), not
    an underlined reST title: the line after sphinx-gallery's label is made the page's title.
    The label ``example_plot_NAME`` stands beside sphinx-gallery's own
    (``sphx_glr_auto_examples_plot_NAME.py``).
    """
    if not docname.startswith("auto_examples/plot_"):
        return
    name = docname.split("/", 1)[1]
    theirs = f".. _sphx_glr_auto_examples_{name}.py:"
    lines = source[0].split("\n")
    if theirs not in lines:
        return
    at = lines.index(theirs)
    lines[at:at] = [f".. _example_{name}:", ""]
    at += 3
    while at < len(lines) and not lines[at].strip():
        at += 1
    following = lines[at + 1].strip() if at + 1 < len(lines) else ""
    if at < len(lines) and not (following and set(following) <= set("=-~^*#")):
        lines.insert(at + 1, "=" * len(lines[at]))
        lines.insert(at + 2, "")
    source[0] = "\n".join(lines)


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
    app.connect("source-read", _example_pages)
    app.connect("autodoc-skip-member", _skip_foreign_member)
    return {"parallel_read_safe": True}


os.environ.setdefault("MPLBACKEND", "Agg")
