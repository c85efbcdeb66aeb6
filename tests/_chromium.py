"""Headless Chromium for the render tests (the HTML report, the built documentation).

Chromium is a system package of the test environment (Debian: ``apt-get install chromium``;
``.ci/run`` installs it). Without it these tests fail, they do not skip: a page that no browser
opened is not checked. ``SKEXPLAIN_CHROMIUM`` may name the executable.
"""

import html
import json
import os
import re
import shutil
import subprocess

import pytest

# Headless, sandbox-free (CI runs as root) and offline: no background connections to refuse.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)

# No network at all: every host resolves nowhere and every request goes to a dead proxy.
OFFLINE_FLAGS = (
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
)


def chromium():
    found = os.environ.get("SKEXPLAIN_CHROMIUM") or next(
        filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None
    )
    if found is None:
        pytest.fail(
            "the render tests need headless Chromium: apt-get install chromium, or set "
            "SKEXPLAIN_CHROMIUM to the browser's executable"
        )
    return found


def run_chromium(tmp_path, *args, budget_ms=10000):
    """Run headless Chromium, offline, and return its standard output."""
    command = [
        chromium(),
        *CHROMIUM_FLAGS,
        *OFFLINE_FLAGS,
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--virtual-time-budget={budget_ms}",
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def probe(tmp_path, page, script, probe_id, budget_ms=10000):
    """Open ``page`` with ``script`` appended to its body; return the JSON it writes into
    ``<pre id=probe_id>`` (the browser's view of the page)."""
    text = page.read_text(encoding="utf-8")
    probed = page.with_name(f"_probe_{page.name}")
    probed.write_text(text.replace("</body>", script + "</body>"), encoding="utf-8")
    dom = run_chromium(tmp_path, "--dump-dom", probed.as_uri(), budget_ms=budget_ms)
    found = re.search(rf'<pre id="{probe_id}">(.*?)</pre>', dom, flags=re.S)
    assert found, "the page's load event never ran"
    return json.loads(html.unescape(found.group(1)))
