"""`python -m skexplain [report]`: the API's attributions from the CLI; bad files exit 2."""

import os
import subprocess
import sys
import warnings
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
from skexplain._cli import _MAX_SEED

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

    every_row = frame.to_numpy()
    X = every_row[:7]
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
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the model fitted on a frame is queried with one
            expected = explainer.fit(every_row).transform(X)  # learned from every row
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


def test_report_shows_a_progress_bar_unless_quiet(tmp_path, capsys):
    argv = ["report", "--dataset", "wine", "--rows", "3", "--explainers", "Gradient", "SmoothGrad"]
    argv += ["--metrics", "complexity", "--out", str(tmp_path / "r.html")]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "it/s" in err or "s/it" in err, err  # tqdm's rate column; --quiet: see above


# -- failures found before any work: one line, status 2, no traceback, inputs untouched ---------
def _snapshot(folder):
    return {p.name: p.read_bytes() for p in Path(folder).iterdir() if p.is_file()}


@pytest.fixture(scope="module")
def more_files(files):
    folder, model, data, pipeline, frame = files
    headerless = folder / "headerless.csv"
    frame.to_csv(headerless, index=False, header=False)
    unnamed = folder / "unnamed5.joblib"
    joblib.dump(LogisticRegression().fit(frame.to_numpy(), np.arange(60) % 2), unnamed)
    infinite = folder / "inf.csv"
    frame.assign(beta=[np.inf] + [1.0] * 59).to_csv(infinite, index=False)
    semicolons = folder / "semicolons.csv"
    frame.assign(label=0, note=1).to_csv(semicolons, index=False, sep=";")
    return {"headerless": headerless, "unnamed": unnamed, "inf": infinite, "semi": semicolons}


def _failures(files, more, tmp_path):
    folder, model, data, _, _ = files
    base = ["--model", model, "--data", data, "--target", "label"]
    locked = Path("/proc") if os.geteuid() == 0 else tmp_path / "locked"
    return {
        "headerless csv": (
            ["--model", more["unnamed"], "--data", more["headerless"]],
            "holds numbers, not column names",
        ),
        "inf in a cell": (["--model", model, "--data", more["inf"]], "'beta' has an infinite"),
        "noise-scale inf": ([*base, "--noise-scale", "inf"], "--noise-scale must be a finite"),
        "noise-scale nan": ([*base, "--noise-scale", "nan"], "--noise-scale must be a finite"),
        "random-state -1": ([*base, "--random-state", "-1"], "--random-state must be an integer"),
        "random-state 2**32": (
            [*base, "--random-state", _MAX_SEED + 1],
            "--random-state must be an integer",
        ),
        "n-jobs 0": ([*base, "--n-jobs", "0"], "--n-jobs must be"),
        "rows not a number": ([*base, "--rows", "many"], "invalid int value: 'many'"),
        "missing out dir": (
            [*base, "--out", tmp_path / "nowhere" / "r.html"],
            "does not exist",
        ),
        "unwritable out dir": ([*base, "--out", locked / "r.html"], "cannot write in"),
        "out is a directory": ([*base, "--out", tmp_path], "is a directory"),
        "out is the data": ([*base, "--out", data], "is the --data file"),
        "attributions-out is the model": (
            [*base, "--attributions-out", model],
            "is the --model file",
        ),
        "out is attributions-out": (
            [*base, "--attributions-out", tmp_path / "r.html"],
            "name the same file",
        ),
        "wrong separator": (
            ["--model", model, "--data", more["semi"], "--drop", "label"],
            "pass --sep ';'",
        ),
        "drop a missing column": ([*base, "--drop", "nope"], "'nope' is not a column"),
        "model without data": (["--model", model], "go together"),
    }


FAILURES = [
    "headerless csv",
    "inf in a cell",
    "noise-scale inf",
    "noise-scale nan",
    "random-state -1",
    "random-state 2**32",
    "n-jobs 0",
    "rows not a number",
    "missing out dir",
    "unwritable out dir",
    "out is a directory",
    "out is the data",
    "attributions-out is the model",
    "out is attributions-out",
    "wrong separator",
    "drop a missing column",
    "model without data",
]


@pytest.mark.parametrize("case", FAILURES)
def test_each_failure_is_one_line_with_status_2(files, more_files, case, capsys, tmp_path):
    if case == "unwritable out dir" and os.geteuid() != 0:
        (tmp_path / "locked").mkdir(mode=0o500)
    argv, message = _failures(files, more_files, tmp_path)[case]
    folder = files[0]
    before = _snapshot(folder)
    out_default = [] if "--out" in map(str, argv) else ["--out", tmp_path / "r.html"]
    status, out, err = _report([*argv, *out_default], capsys)
    assert status == 2, (out, err)
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith(PROG) and message in err, err
    assert "Traceback" not in err + out
    assert _snapshot(folder) == before  # inputs untouched, nothing written beside them
    assert not (tmp_path / "r.html").exists()


def test_failures_in_a_subprocess_have_no_traceback(files, more_files, tmp_path):
    folder, model, data, _, _ = files
    done = _run(["report", "--model", model, "--data", data, "--out", data, "--quiet"], tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"{PROG}--out {data} is the --data file; inputs are never overwritten, choose another name"
    ]


def test_version(capsys):
    for argv in (["--version"], ["report", "--version"]):
        with pytest.raises(SystemExit) as exit:
            main(argv)
        assert exit.value.code == 0
        assert capsys.readouterr().out.strip() == f"skexplain {skexplain.__version__}"


def test_headerless_csv_with_no_header_and_separators_and_drops(
    files, more_files, capsys, tmp_path
):
    folder, model, data, pipeline, frame = files
    table = tmp_path / "a.csv"
    small = ["--explainers", "Gradient", "--metrics", "complexity", "--rows", 4]
    status, out, err = _report(
        [
            "--model",
            more_files["unnamed"],
            "--data",
            more_files["headerless"],
            "--no-header",
            "--out",
            tmp_path / "r.html",
            "--attributions-out",
            table,
            *small,
        ],
        capsys,
    )
    assert status == 0, err
    assert list(pd.read_csv(table).columns) == ["explainer", "row", "x0", "x1", "x2", "x3", "x4"]
    # --sep and several --drop: the same attributions as the comma file with its label dropped
    status, _, err = _report(
        [
            "--model",
            model,
            "--data",
            more_files["semi"],
            "--sep",
            ";",
            "--drop",
            "label",
            "--drop",
            "note",
            "--out",
            tmp_path / "r.html",
            "--attributions-out",
            table,
            *small,
        ],
        capsys,
    )
    assert status == 0, err
    again = tmp_path / "b.csv"
    status, _, err = _report(
        [
            "--model",
            model,
            "--data",
            data,
            "--target",
            "label",
            "--out",
            tmp_path / "r.html",
            "--attributions-out",
            again,
            *small,
        ],
        capsys,
    )
    assert status == 0, err
    pd.testing.assert_frame_equal(pd.read_csv(table), pd.read_csv(again))


def test_notice_is_printed_before_unpickling(files, capsys, tmp_path, monkeypatch):
    folder, model, data, pipeline, frame = files
    seen = {}
    real = joblib.load

    def load(path, *args, **kwargs):
        seen["before"] = capsys.readouterr().out  # what was printed when unpickling starts
        return real(path, *args, **kwargs)

    monkeypatch.setattr(joblib, "load", load)
    argv = ["--model", model, "--data", data, "--target", "label", "--rows", 2]
    argv += ["--explainers", "Gradient", "--metrics", "complexity", "--out", tmp_path / "r.html"]
    status, out, err = _report(argv, capsys)
    assert status == 0, err
    assert "unpickles it, which runs code stored in the file" in seen["before"]
    assert "load only files you trust" in seen["before"]
    # the held-out score of the user's model on the rows (labels from --target)
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    expected = pipeline.score(frame, pd.read_csv(data)["label"])
    assert f"{expected:.4g}" in html


def test_skops_model_loads_without_pickle_or_is_refused(files, capsys, tmp_path, monkeypatch):
    sio = pytest.importorskip("skops.io")  # the skops extra; CI installs it with the test extra
    import pickle

    folder, model, data, pipeline, frame = files
    path = tmp_path / "model.skops"
    sio.dump(pipeline, path)

    def refuse(*args, **kwargs):
        raise AssertionError("pickle was used")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    argv = ["--model", path, "--data", data, "--target", "label", "--rows", 2]
    argv += ["--explainers", "Gradient", "--metrics", "complexity", "--out", tmp_path / "r.html"]
    status, out, err = _report(argv, capsys)
    assert status == 0, err
    assert "unpickles" not in out

    class Untrusted(LogisticRegression):
        pass

    odd = tmp_path / "odd.skops"
    monkeypatch.undo()
    sio.dump(Untrusted().fit(frame, np.arange(60) % 2), odd)
    status, out, err = _report([*argv[:1], odd, *argv[2:]], capsys)
    assert status == 2 and err.count("\n") == 1 and "does not trust" in err, err


@pytest.mark.slow  # ~30 s: two worker processes start and import torch (tests/test_report.py
# checks evaluate_explainers(n_jobs=2) in the default run)
def test_report_n_jobs_2_equals_n_jobs_1(files, capsys, tmp_path):
    folder, model, data, pipeline, frame = files
    # The default metrics (max_sensitivity re-explains rows in the worker processes), where an
    # identity test between the rows and X used to fail once joblib had copied them.
    argv = ["--model", model, "--data", data, "--target", "label", "--rows", 4]
    argv += ["--explainers", "Gradient", "SmoothGrad"]
    tables = []
    for n_jobs in (1, 2):
        table = tmp_path / f"a{n_jobs}.csv"
        status, out, err = _report(
            [
                *argv,
                "--n-jobs",
                n_jobs,
                "--out",
                tmp_path / f"r{n_jobs}.html",
                "--attributions-out",
                table,
            ],
            capsys,
        )
        assert status == 0, err
        tables.append((pd.read_csv(table), out.split("\n\n", 1)[1].rsplit("wrote", 1)[0]))
    pd.testing.assert_frame_equal(tables[0][0], tables[1][0], check_exact=True)
    assert tables[0][1] == tables[1][1]  # the printed metrics table, to its last digit


def _forest_on_penguins():
    """A forest behind a one-hot encoder, fitted on the penguins frame (2 string columns)."""
    from _tabular import encoder, penguins
    from sklearn.ensemble import RandomForestClassifier

    frame, y = penguins()
    model = make_pipeline(encoder(), RandomForestClassifier(n_estimators=10, random_state=0))
    return model.fit(frame, y), frame, y


def _boosting_on_iris():
    from sklearn.datasets import load_iris
    from sklearn.ensemble import HistGradientBoostingClassifier

    data = load_iris(as_frame=True)
    model = HistGradientBoostingClassifier(max_iter=5, random_state=0)
    return model.fit(data.data, data.target), data.data, data.target.to_numpy()


@pytest.mark.parametrize(
    ("case", "name"),
    [(_forest_on_penguins, "TreeSHAP"), (_boosting_on_iris, "Shapley")],
)
def test_report_offers_shapley_values_for_tree_models(case, name, tmp_path, capsys):
    """Issue 13, must hold 6: without --explainers the report picks explainers for the model;
    the gradient explainers refuse trees, so a forest gets TreeSHAP and a histogram boosting
    ShapleyExplainer, each beside C-LIME with noise that crosses the trees' steps. A pipeline
    fitted on a frame with string columns takes the CSV's strings as they are."""
    from skexplain import ShapleyExplainer, TreeShapExplainer

    model, frame, y = case()
    joblib.dump(model, tmp_path / "model.joblib")
    frame.assign(label=y).to_csv(tmp_path / "rows.csv", index=False)
    html, table = tmp_path / "report.html", tmp_path / "attributions.csv"
    argv = ["--model", tmp_path / "model.joblib", "--data", tmp_path / "rows.csv"]
    # max_sensitivity re-explains the rows (once through the engine, as frames: no warning);
    # ShapleyExplainer's re-explanations of the boosting against 100 background rows are slow
    metrics = ["infidelity", "max_sensitivity" if name == "TreeSHAP" else "complexity"]
    argv += ["--target", "label", "--rows", 4, "--metrics", *metrics]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no feature-name warning: frames stay frames
        status, out, err = _report([*argv, "--out", html, "--attributions-out", table], capsys)
    assert (status, err) == (0, "")
    written = pd.read_csv(table)
    assert list(written["explainer"].unique()) == [name, "C-LIME"]
    assert name in out and "C-LIME" in out  # the console table
    text = html.read_text()
    assert name in text and "0.5 standard deviations" in text
    rows = frame.iloc[:4]
    reference = {"TreeSHAP": TreeShapExplainer, "Shapley": ShapleyExplainer}[name]
    # the background is drawn from every row of the file, not from the 4 explained
    expected = reference(model=model, random_state=0).fit(frame).transform(rows)
    got = written[written["explainer"] == name][list(frame.columns)].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    if name == "TreeSHAP":  # the forest's probability of the predicted class, not its log-odds
        assert "explaining its probability output" in out
        assert np.abs(got).max() <= 1.0
        assert "Torgersen" in text  # the rows' own values in the per-row panels
