"""The example scripts, loaded by path (``examples/`` is not a package) once per test session."""

import functools
import importlib.util
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@functools.cache
def load_example(name):
    """The module of ``examples/<name>.py``, executed once (its ``__main__`` block is not run)."""
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
