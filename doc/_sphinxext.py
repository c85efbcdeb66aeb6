"""Helpers of the documentation build, importable by name from ``conf.py`` settings."""

import os
import tempfile


def example_argv(gallery_conf, script_vars):
    """Command-line arguments of an example run by sphinx-gallery: its files go to a temporary
    directory, not beside the sources."""
    out = os.path.join(tempfile.mkdtemp(prefix="skexplain-gallery-"), "report.html")
    return ["--out", out]
