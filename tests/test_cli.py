"""`python -m skexplain [report]`: the API's attributions from the CLI; bad files exit 2."""

import os
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

import skexplain
from skexplain import CLIME, Gradient, IntegratedGradients, SmoothGrad
from skexplain.__main__ import main

ROOT = Path(skexplain.__file__).parents[1]
COLUMNS = ["alpha", "beta", "gamma", "delta", "epsilon"]
PROG = "python -m skexplain report: error: "


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    X, y = make_classification(n_samples=60, n_features=5, n_informative=3, random_state=0)
    frame = pd.DataFrame(X * [1.0, 10.0, 0.1, 1.0, 5.0], columns=COLUMNS)
    pipeline = make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, y)
    model = folder / "model.joblib"
    joblib.dump(pipeline, model)
    data = folder / "rows.csv"
    frame.assign(label=y).to_csv(data, index=False)
    return folder, model, data, pipeline, frame


def _report(argv, capsys):
    """Run ``python -m skexplain report`` in this process: (exit status, stdout, stderr)."""
    try:
        status = main(["report", "--quiet", *map(str, argv)])
    except SystemExit as exit:
        status = exit.code
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_gives_the_python_api_attributions(files, capsys):
    folder, model, data, pipeline, frame = files
    html, table = folder / "r.html", folder / "attributions.csv"
    argv = ["--model", model, "--data", data, "--target", "label", "--rows", 7]
    argv += ["--noise-scale", 0.5, "--metrics", "infidelity", "complexity"]
    status, out, err = _report([*argv, "--out", html, "--attributions-out", table], capsys)
    assert (status, err) == (0, "")
    assert f"wrote {html}" in out and html.stat().st_size > 1000

    X = frame.to_numpy()[:7]
    api = {
        "Gradient": Gradient(model=pipeline),
        "SmoothGrad": SmoothGrad(model=pipeline, noise_scale=0.5, random_state=0),
        "IntegratedGradients": IntegratedGradients(model=pipeline),
        "C-LIME": CLIME(model=pipeline, noise_scale=0.5, random_state=0),
    }
    written = pd.read_csv(table)
    assert list(written.columns) == ["explainer", "row", *COLUMNS]
    assert list(written["explainer"].unique()) == list(api)
    for name, explainer in api.items():
        with pytest.warns(UserWarning, match="feature names"):  # the API is given an array
            expected = explainer.fit(X).transform(X)
        got = written[written["explainer"] == name][COLUMNS].to_numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)

    # the columns are matched by name, whatever their order in the CSV
    shuffled = folder / "shuffled.csv"
    pd.read_csv(data)[["label", *COLUMNS[::-1]]].to_csv(shuffled, index=False)
    again = folder / "again.csv"
    argv[3] = shuffled
    status, _, _ = _report([*argv, "--out", html, "--attributions-out", again], capsys)
    assert status == 0
    pd.testing.assert_frame_equal(pd.read_csv(again), written)


@pytest.fixture(scope="module")
def bad_files(files):
    folder, model, data, pipeline, frame = files
    renamed = folder / "renamed.csv"
    frame.rename(columns={"gamma": "GAMMA"}).to_csv(renamed, index=False)
    text = folder / "text.csv"
    frame.assign(alpha=["x"] * len(frame)).to_csv(text, index=False)
    # a model fitted on an array knows only its number of features
    unnamed = folder / "unnamed.joblib"
    joblib.dump(LogisticRegression().fit(frame.to_numpy(), np.arange(60) % 2), unnamed)
    few = folder / "few.csv"
    frame.iloc[:, :4].to_csv(few, index=False)
    no_predict = folder / "pca.joblib"
    joblib.dump(PCA(n_components=2).fit(frame), no_predict)
    tree = folder / "tree.joblib"
    joblib.dump(DecisionTreeClassifier().fit(frame, np.arange(60) % 2), tree)
    return {
        "missing model": (["--model", folder / "nope.joblib", "--data", data], "no such file"),
        "missing data": (["--model", model, "--data", folder / "nope.csv"], "no such file"),
        "other columns": (["--model", model, "--data", renamed], "missing ['gamma']"),
        "column count": (["--model", unnamed, "--data", few], "fitted on 5 features"),
        "missing target": (["--model", model, "--data", data, "--target", "y"], "'y'"),
        "non-numeric": (["--model", model, "--data", text], "'alpha' is not numeric"),
        "no method": (["--model", no_predict, "--data", data, "--target", "label"], "no predict"),
        "no chosen method": (
            ["--model", tree, "--data", data, "--target", "label"]
            + ["--output", "decision_function"],
            "decision_function",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing model",
        "missing data",
        "other columns",
        "column count",
        "missing target",
        "non-numeric",
        "no method",
        "no chosen method",
    ],
)
def test_bad_files_give_one_line_and_status_2(bad_files, case, capsys, tmp_path):
    argv, message = bad_files[case]
    status, out, err = _report([*argv, "--out", tmp_path / "r.html"], capsys)
    assert status == 2
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith(PROG) and message in err, err
    assert not (tmp_path / "r.html").exists()


def _run(argv, cwd):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, "-m", "skexplain", *map(str, argv)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_subprocess_report_on_bundled_data_and_error_status(tmp_path, files):
    done = _run(
        ["report", "--rows", 3, "--metrics", "complexity", "infidelity", "--quiet"], tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "skexplain-report.html").stat().st_size > 1000
    assert "breast_cancer" in done.stdout
    done = _run(["report", "--model", tmp_path / "nope.joblib", "--data", files[2]], tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"{PROG}--model {tmp_path / 'nope.joblib'}: no such file"
    ]


def test_main_job_still_prints_attributions(capsys):
    assert main(["--dataset", "wine", "--rows", "1", "--features", "2"]) == 0
    out = capsys.readouterr().out
    assert "row 0:" in out and "SmoothGrad" in out
    assert "python -m skexplain report" in out


def test_command_line_docstring_examples():
    # pytest's --doctest-modules skips __main__.py: run its examples here.
    import doctest

    import skexplain.__main__

    failed, attempted = doctest.testmod(skexplain.__main__, optionflags=doctest.ELLIPSIS)
    assert attempted >= 4 and failed == 0


def test_report_shows_a_progress_bar_unless_quiet(tmp_path, capsys):
    argv = ["report", "--dataset", "wine", "--rows", "3", "--explainers", "Gradient", "SmoothGrad"]
    argv += ["--metrics", "complexity", "--out", str(tmp_path / "r.html")]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "it/s" in err or "s/it" in err, err  # tqdm's rate column; --quiet: see above
