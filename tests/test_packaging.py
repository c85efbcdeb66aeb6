"""Checks that the packaging files agree with each other and with what CI runs."""

import configparser
import re
import shlex
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"
CI_RUN = ROOT / ".ci" / "run"
PYPROJECT = ROOT / "pyproject.toml"
SETUP_CFG = ROOT / "setup.cfg"

SHELL_OPERATORS = {"&&", "||", ";", "|", "&"}


def _readme_commands():
    """The lines of the first code block of the README, which must come before any section."""
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^```[^\n]*\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
    assert match is not None, "README.md has no code block"
    first_section = re.search(r"^## ", text, flags=re.MULTILINE)
    assert first_section is None or match.start() < first_section.start(), (
        "README.md must open with its set-up commands, before the first section"
    )
    return [line for line in match.group(1).splitlines() if line.strip()]


def _ci_lines():
    """The commands of .ci/run, one per line (continuations joined), without comments."""
    text = re.sub(r"\\\n\s*", " ", CI_RUN.read_text(encoding="utf-8"))
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            lines.append(stripped)
    return lines


def _pip_install_targets(line):
    """What `pip install` installs on this shell line (empty when it does not run pip install)."""
    tokens = shlex.split(line, comments=True)
    targets = []
    for i, token in enumerate(tokens[:-1]):
        if token in ("pip", "pip3") or token.endswith("/pip"):
            if tokens[i + 1] != "install":
                continue
            for arg in tokens[i + 2 :]:
                if arg in SHELL_OPERATORS:
                    break
                if not arg.startswith("-"):
                    targets.append(arg)
    return targets


def _is_this_package(target):
    return target == "." or target.startswith(".[")


def _pyproject():
    with PYPROJECT.open("rb") as f:
        return tomllib.load(f)


def _setup_cfg():
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(SETUP_CFG, encoding="utf-8")
    return parser


def _pinned_torch_version():
    for line in _ci_lines():
        for target in _pip_install_targets(line):
            requirement = Requirement(target) if not _is_this_package(target) else None
            if requirement is not None and requirement.name == "torch":
                (specifier,) = requirement.specifier
                assert specifier.operator == "==", f"torch is not pinned in .ci/run: {line!r}"
                return Version(specifier.version)
    pytest.fail(".ci/run does not pip install torch")


def test_readme_opens_with_the_two_setup_commands():
    assert _readme_commands() == [
        'pip install ".[all]" && python -m skexplain report',
        'pip install ".[test]" && python -m pytest',
    ]


def test_ci_runs_the_readme_test_command_verbatim():
    test_command = _readme_commands()[1]
    # Only a failure handler may follow it (`|| exit $?`): no extra arguments, no other command.
    assert any(
        line == test_command or line.startswith(f"{test_command} || ") for line in _ci_lines()
    ), f".ci/run does not run the README's test command {test_command!r}"


def test_ci_installs_torch_before_the_package():
    torch_at = package_at = None
    for i, line in enumerate(_ci_lines()):
        targets = _pip_install_targets(line)
        if torch_at is None and "torch==2.13.0" in targets:
            torch_at = i
        if package_at is None and any(_is_this_package(t) for t in targets):
            package_at = i
    assert torch_at is not None, ".ci/run does not `pip install torch==2.13.0`"
    assert package_at is not None, ".ci/run does not pip install the package"
    assert torch_at < package_at, ".ci/run must install torch before the package"


def test_ci_checks_the_core_install_in_a_venv_without_extras():
    lines = _ci_lines()
    (made,) = [i for i, line in enumerate(lines) if line == "python3 -m venv .venv-core"]
    core = [line for line in lines[made + 1 :] if line.startswith(".venv-core/bin/")]
    installs = [_pip_install_targets(line) for line in core]
    # Into that venv goes the package alone, no extra and no torch (pip itself may be upgraded).
    assert [t for t in installs if t and t != ["pip"]] == [["."]], core
    check = ".venv-core/bin/python .ci/core_install_check.py"
    assert check in core and core.index(check) > installs.index(["."])
    assert (ROOT / ".ci" / "core_install_check.py").is_file()


def test_ci_script_is_strict_and_executable():
    text = CI_RUN.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in _ci_lines()
    assert CI_RUN.stat().st_mode & 0o111, ".ci/run is not executable"


def test_torch_requirement_admits_the_ci_wheel():
    pinned = _pinned_torch_version()
    assert pinned == Version("2.13.0")
    requirements = [Requirement(r) for r in _extras()["torch"]]
    (torch,) = [r for r in requirements if r.name == "torch"]
    # The wheel on the CI machine carries a local label (2.13.0+cpu); both forms must be allowed.
    for version in (pinned, Version(f"{pinned}+cpu")):
        assert torch.specifier.contains(version), f"{torch} rejects torch {version}"


def test_core_dependencies_are_ranges_and_sklearn_is_capped():
    requirements = [Requirement(r) for r in _pyproject()["project"]["dependencies"]]
    for requirement in requirements:
        operators = {s.operator for s in requirement.specifier}
        assert operators, f"{requirement.name} has no version range"
        assert not operators & {"==", "==="}, f"{requirement} is pinned, not a range"
    (sklearn,) = [r for r in requirements if r.name == "scikit-learn"]
    # We import sklearn.utils._param_validation, a private module: the range must be bounded.
    assert any(s.operator in ("<", "<=") for s in sklearn.specifier), sklearn


def test_test_extra_holds_what_the_tests_import():
    names = {Requirement(r).name for r in _extras()["test"]}
    assert {"pytest", "hypothesis", "captum", "ruff", "pytest-timeout", "packaging"} <= names


def _extras():
    return _pyproject()["project"]["optional-dependencies"]


def _expand(extra, extras):
    """The distributions an extra installs, its `skexplain[...]` references followed."""
    names = set()
    for line in extras[extra]:
        requirement = Requirement(line)
        if requirement.name == "skexplain":
            for inner in requirement.extras:
                names |= _expand(inner, extras)
        else:
            names.add(requirement.name)
    return names


RUNTIME_EXTRAS = ("torch", "solvers", "shap", "trees", "lime", "report", "scale", "skops")
# Import name -> distribution name, where they differ.
DISTRIBUTIONS = {"faiss": "faiss-cpu"}


def test_core_install_is_lean():
    core = {Requirement(r).name for r in _pyproject()["project"]["dependencies"]}
    assert core == {"numpy", "scipy", "scikit-learn", "joblib", "tqdm"}


def test_every_optional_package_has_its_extra():
    from skexplain.utils._optional import OPTIONAL_DEPENDENCIES

    extras = _extras()
    assert set(OPTIONAL_DEPENDENCIES.values()) == set(RUNTIME_EXTRAS)
    for package, extra in OPTIONAL_DEPENDENCIES.items():
        distribution = DISTRIBUTIONS.get(package, package)
        assert distribution in _expand(extra, extras), f"{extra!r} does not install {package}"
    # Every package of a runtime extra is imported through import_optional, under its extra.
    modules = {DISTRIBUTIONS.get(m, m): extra for m, extra in OPTIONAL_DEPENDENCIES.items()}
    for extra in RUNTIME_EXTRAS:
        for name in _expand(extra, extras):
            assert modules.get(name) == extra, (name, extra)


def test_all_test_and_docs_extras_hold_every_runtime_extra():
    extras = _extras()
    runtime = set().union(*(_expand(extra, extras) for extra in RUNTIME_EXTRAS))
    assert _expand("all", extras) == runtime
    for extra in ("test", "docs"):
        assert runtime <= _expand(extra, extras), extra


def _pyproject_tables(section):
    """The pyproject.toml tables that would hold the settings of a setup.cfg section."""
    if section in ("tool:pytest", "pytest"):
        return [("tool", "pytest", "ini_options"), ("tool", "pytest")]
    if section == "metadata":
        return [("project",)]
    if section == "options":
        return [("project",), ("tool", "setuptools")]
    if section.startswith("options."):
        return [("tool", "setuptools", *section.split(".")[1:]), ("project",)]
    name = section.removeprefix("tool:")
    return [("tool", *name.split(":"))]


def _equivalent_keys(key):
    """A setup.cfg key and the names it takes in pyproject.toml."""
    aliases = {
        "install_requires": "dependencies",
        "extras_require": "optional-dependencies",
        "python_requires": "requires-python",
        "long_description": "readme",
        "author_email": "authors",
        "home_page": "urls",
        "url": "urls",
    }
    key = key.lower()
    return {key, key.replace("_", "-"), key.replace("-", "_"), aliases.get(key, key)}


def test_no_setting_lives_in_both_setup_cfg_and_pyproject():
    pyproject = _pyproject()
    cfg = _setup_cfg()
    duplicated = []
    for section in cfg.sections():
        for path in _pyproject_tables(section):
            table = pyproject
            for part in path:
                table = table.get(part, {}) if isinstance(table, dict) else {}
            if not isinstance(table, dict):
                continue
            for key in cfg[section]:
                if _equivalent_keys(key) & set(table):
                    duplicated.append(f"[{section}] {key} ~ [{'.'.join(path)}]")
    assert not duplicated, f"settings in both setup.cfg and pyproject.toml: {duplicated}"


def test_pytest_is_configured_in_setup_cfg_only(pytestconfig):
    # pytest reads pyproject.toml's [tool.pytest...] before setup.cfg and would then ignore it.
    assert "pytest" not in _pyproject().get("tool", {})
    cfg = _setup_cfg()
    assert cfg.sections() == ["tool:pytest"], "setup.cfg holds pytest settings only"
    markers = cfg["tool:pytest"]["markers"]
    for marker in ("slow", "gpu"):
        assert re.search(rf"^\s*{marker}:", markers, flags=re.MULTILINE), marker
    assert pytestconfig.inipath is not None and pytestconfig.inipath.name == "setup.cfg"
