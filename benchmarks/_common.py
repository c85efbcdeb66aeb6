"""Helpers shared by the benchmark scripts: environment report, interleaved timing, tables.

Not part of the package. The scripts import skexplain from the checkout they live in when it is
not installed, so ``python benchmarks/NAME.py`` works from a plain clone.
"""

import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

try:
    import skexplain  # noqa: F401
except ModuleNotFoundError:  # a plain checkout: use the package beside this folder
    sys.path.insert(0, str(ROOT))


class AgreementError(AssertionError):
    """Raised when skexplain and the peer library do not give the same answer."""


def check(condition, message):
    """Fail loudly (also under ``python -O``) when an agreement check fails."""
    if not condition:
        raise AgreementError(message)
    print(f"agreement OK: {message}")


def set_threads(threads):
    """Use ``threads`` threads in torch and the native pools (BLAS, OpenMP); None: defaults.

    Returns the number of torch threads in use (torch may not be imported by a script that does
    not need it; then only the native pools are limited).
    """
    if threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(int(threads))  # applies now and stays for the process
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    if threads is not None:
        torch.set_num_threads(int(threads))
    return torch.get_num_threads()


def print_environment(title):
    """Versions, thread counts and machine load, so that a table can be read in context."""
    import numpy as np

    print(f"# {title}")
    parts = [f"python {platform.python_version()}", f"numpy {np.__version__}"]
    for name, dist in (("torch", "torch"), ("sklearn", "scikit-learn"), ("captum", "captum")):
        if name in sys.modules:
            parts.append(f"{name} {metadata.version(dist)}")
    if "lime" in sys.modules:
        parts.append(f"lime {metadata.version('lime')}")
    print("versions: " + ", ".join(parts))
    threads = [f"cpu cores {os.cpu_count()}"]
    torch = sys.modules.get("torch")
    if torch is not None:
        threads.append(f"torch threads {torch.get_num_threads()}")
        threads.append(f"torch interop threads {torch.get_num_interop_threads()}")
    try:
        from threadpoolctl import threadpool_info

        blas = sorted({f"{p['internal_api']}={p['num_threads']}" for p in threadpool_info()})
        threads.append("native pools " + " ".join(blas))
    except ImportError:  # threadpoolctl comes with scikit-learn; a report without it is fine
        pass
    print("threads: " + ", ".join(threads))
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


def measure(functions, repeats, clock="wall"):
    """Time each function ``repeats`` times, interleaved, and keep the best run of each.

    Interleaving (a, b, c, a, b, c, ...) spreads any load from other processes over all the
    contenders instead of penalizing whichever ran during a busy moment; the best run is the one
    least disturbed. ``clock="cpu"`` ranks runs by this process's CPU time instead of wall time,
    which is the steadier figure on a shared machine when torch runs one thread. Returns
    ``{name: (best_s, wall_s, cpu_s, result)}`` where ``best_s`` is on the chosen clock.
    """
    if clock not in ("wall", "cpu"):
        raise ValueError(f"clock must be 'wall' or 'cpu', got {clock!r}")
    best = {}
    for _ in range(repeats):
        for name, function in functions.items():
            wall0, cpu0 = time.perf_counter(), time.process_time()
            result = function()
            wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
            seconds = wall if clock == "wall" else cpu
            if name not in best or seconds < best[name][0]:
                best[name] = (seconds, wall, cpu, result)
    return best


def print_table(header, rows):
    """Print a plain-text table; ``rows`` are sequences of already formatted cells."""
    cells = [list(header)] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    print(line)
    for k, row in enumerate(cells):
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if k == 0:
            print(line)
    print(line)


# -- memory and subprocesses (each size measured in a fresh process) -----------------------------
MiB = 2.0**20


def _rss_bytes(field):
    """``VmRSS`` or ``VmHWM`` of this process from /proc, in bytes (None off Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            match = re.search(rf"^{field}:\s+(\d+) kB", status.read(), flags=re.MULTILINE)
    except OSError:
        return None
    return None if match is None else 1024 * int(match.group(1))


def max_rss_bytes():
    """The lifetime peak resident set of this process (``ru_maxrss``), in bytes."""
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, kilobytes on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def memory_baseline():
    """Reset the peak resident set where possible (Linux >= 4.0) and read the baseline.

    Returns ``(peak_reset, baseline_bytes)``; without a reset the baseline is the lifetime
    ``ru_maxrss``, and :func:`memory_peak` then reads that too.
    """
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
        reset = _rss_bytes("VmHWM") is not None
    except OSError:
        reset = False
    return reset, (_rss_bytes("VmRSS") if reset else max_rss_bytes())


def memory_peak(peak_reset):
    """The peak resident set since :func:`memory_baseline`, in bytes."""
    return _rss_bytes("VmHWM") if peak_reset else max_rss_bytes()


def run_child(script, options, *, timeout, extra_env=None, what="the child run"):
    """Run ``python script --child ...options`` in a fresh process; its last stdout line (JSON).

    The child imports the same skexplain as this process (its folder is put on PYTHONPATH).
    """
    import skexplain

    command = [sys.executable, os.path.abspath(script), *map(str, options)]
    env = dict(os.environ, **(extra_env or {}))
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(skexplain.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    completed = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])
