"""Row-parallel chunks (joblib), progress bars, and dask collections explained block by block."""

import dask
import dask.array as da
import numpy as np
import pandas as pd
import pytest

from skexplain import CLIME, Gradient, IntegratedGradients, SmoothGrad
from skexplain._engine import map_row_chunks, parallel_rows
from skexplain.functions import SinExp


@pytest.fixture(scope="module")
def rows():
    return np.random.default_rng(0).normal(size=(600, 5))


def _explainers():
    model = SinExp()
    return [
        Gradient(model=model),
        SmoothGrad(model=model, n_samples=40, random_state=0),
        IntegratedGradients(model=model, n_steps=16),
        CLIME(model=model, n_samples=60, random_state=0),
    ]


def test_map_row_chunks_in_parallel_equals_in_series():
    seen = []

    def compute(rows):
        seen.append(rows)
        return np.arange(rows.start, rows.stop)[:, None] * [1.0, 2.0]

    serial = map_row_chunks(1000, compute, budget=64)
    with parallel_rows(n_jobs=2):
        parallel = map_row_chunks(1000, compute, budget=64)
    np.testing.assert_array_equal(parallel, serial)
    assert len(seen) == 16  # the parallel run computed in the workers, not here
    np.testing.assert_array_equal(serial[:, 1], 2.0 * np.arange(1000))


def test_only_the_outermost_loop_is_spread():
    inner_settings = []

    def inner(rows):
        from skexplain._engine import _PARALLEL

        inner_settings.append(_PARALLEL.get())
        return np.zeros(rows.stop - rows.start)

    def outer(rows):
        return map_row_chunks(rows.stop - rows.start, inner, budget=10)

    with parallel_rows(n_jobs=1, verbose=0):
        map_row_chunks(100, outer, budget=50)
    assert inner_settings and all(s == (1, 0) for s in inner_settings)


@pytest.mark.parametrize("explainer", _explainers(), ids=lambda e: type(e).__name__)
def test_explainers_in_parallel_equal_n_jobs_1(explainer, rows):
    serial = explainer.fit(rows).transform(rows)
    with parallel_rows(n_jobs=2):
        parallel = explainer.fit(rows).transform(rows)
    np.testing.assert_array_equal(parallel, serial)


def test_verbose_shows_a_progress_bar_and_quiet_prints_nothing(rows, capsys):
    explainer = SmoothGrad(model=SinExp(), n_samples=200, random_state=0).fit(rows)
    with parallel_rows(verbose=0):
        explainer.transform(rows)
    quiet = capsys.readouterr()
    assert quiet.out == "" and quiet.err == ""
    with parallel_rows(verbose=1):
        explainer.transform(rows)
    assert "skexplain" in capsys.readouterr().err


@pytest.mark.parametrize("explainer", _explainers(), ids=lambda e: type(e).__name__)
def test_dask_array_is_explained_lazily_and_equals_numpy(explainer, rows):
    expected = explainer.fit(rows).transform(rows)
    lazy = explainer.transform(da.from_array(rows, chunks=(137, 5)))
    assert isinstance(lazy, da.Array)
    assert lazy.shape == rows.shape and lazy.chunks[0] == (137, 137, 137, 137, 52)
    # Dask's blocks are not the engine's chunks: a matrix product over other row counts may
    # round differently in the last bit (C-LIME's shared regression), nothing more.
    np.testing.assert_allclose(lazy.compute(scheduler="sync"), expected, rtol=1e-12, atol=1e-14)


def test_the_fitted_explainer_enters_the_graph_once(rows):
    explainer = SmoothGrad(model=SinExp(), n_samples=10, random_state=0).fit(rows)
    lazy = explainer.transform(da.from_array(rows, chunks=(50, 5)))
    keys = [str(key) for key in dict(lazy.__dask_graph__())]
    assert sum(key.startswith("SmoothGrad-") for key in keys) == 1
    assert lazy.numblocks == (12, 1)


def test_dask_dataframe_gives_a_frame_with_the_column_names(rows):
    dd = pytest.importorskip("dask.dataframe")
    frame = pd.DataFrame(rows, columns=[f"x{i}" for i in range(5)])
    explainer = Gradient(model=SinExp()).fit(frame)
    lazy = explainer.transform(dd.from_pandas(frame, npartitions=4))
    result = lazy.compute(scheduler="sync")
    assert list(result.columns) == list(frame.columns)
    pd.testing.assert_index_equal(result.index, frame.index)
    np.testing.assert_array_equal(result.to_numpy(), explainer.transform(frame))


def test_a_lazily_generated_array_never_materializes(rows):
    explainer = Gradient(model=SinExp()).fit(rows)
    X = da.random.default_rng(0).normal(size=(2000, 5), chunks=(500, 5))
    lazy = explainer.transform(X)
    with dask.config.set(scheduler="sync"):
        total = lazy.sum().compute()
    assert np.isfinite(total)


# -- metrics: every row metric of the registry ---------------------------------------------------
def _row_metrics():
    import inspect

    from skexplain.metrics import get_metric, get_metric_names

    specs = [get_metric(name) for name in get_metric_names()]
    return [
        spec
        for spec in specs
        if spec.kind in ("model", "explainer")
        and "n_jobs" in inspect.signature(spec.function).parameters
    ]


def _score(spec, explainer, X, A, **kwargs):
    params = _params(spec)
    kwargs = {**spec.defaults, **kwargs}
    if "n_features" in params:
        kwargs.setdefault("n_features", 2)
    for name, value in (("random_state", 0), ("n_samples", 20 if spec.kind == "model" else 5)):
        if name in params:
            kwargs.setdefault(name, value)
    if spec.kind == "model":
        return spec.function(explainer.model_, X, A, **kwargs)
    return spec.function(explainer, X, **kwargs)


def _params(spec):
    import inspect

    return inspect.signature(spec.function).parameters


def test_every_model_and_explainer_metric_takes_n_jobs_and_verbose():
    names = {spec.name for spec in _row_metrics()}
    assert names >= {
        "infidelity",
        "faithfulness_correlation",
        "insertion_auc",
        "deletion_auc",
        "sensitivity_n",
        "gradient_matching_loss",
        "function_matching_loss",
        "max_sensitivity",
        "avg_sensitivity",
        "local_lipschitz",
        "relative_input_stability",
    }


@pytest.mark.parametrize("spec", _row_metrics(), ids=lambda spec: spec.name)
def test_metrics_with_n_jobs_2_equal_n_jobs_1(spec):
    X = np.random.default_rng(1).normal(size=(400, 5))
    explainer = SmoothGrad(model=SinExp(), n_samples=8, random_state=0).fit(X)
    A = explainer.transform(X)
    serial = _score(spec, explainer, X, A, n_jobs=1)
    parallel = _score(spec, explainer, X, A, n_jobs=2)
    np.testing.assert_array_equal(parallel, serial)


@pytest.mark.parametrize("spec", _row_metrics(), ids=lambda spec: spec.name)
def test_metrics_on_dask_arrays_are_lazy_and_equal_numpy(spec):
    X = np.random.default_rng(2).normal(size=(300, 5))
    explainer = SmoothGrad(model=SinExp(), n_samples=8, random_state=0).fit(X)
    A = explainer.transform(X)
    expected = _score(spec, explainer, X, A)
    lazy = _score(spec, explainer, da.from_array(X, chunks=(70, 5)), da.from_array(A, chunks=70))
    assert isinstance(lazy, da.Array) and lazy.shape == (300,)
    np.testing.assert_allclose(lazy.compute(scheduler="sync"), expected, rtol=1e-12, atol=1e-14)


def test_a_per_row_target_travels_with_its_block():
    from skexplain.metrics import infidelity
    from skexplain.models import as_model

    X = np.random.default_rng(3).normal(size=(200, 4))
    model = as_model(lambda Z: np.stack([np.sin(Z).sum(axis=1), np.cos(Z).sum(axis=1)], axis=1))
    A = np.ones_like(X)
    target = np.arange(200) % 2
    expected = infidelity(model, X, A, target=target, units="raw", random_state=0)
    lazy = infidelity(
        model, da.from_array(X, chunks=(60, 4)), A, target=target, units="raw", random_state=0
    )
    np.testing.assert_allclose(lazy.compute(scheduler="sync"), expected, rtol=1e-12)


@pytest.mark.parametrize("output", [None, "probability"])
def test_std_units_of_a_bare_model_come_from_all_rows_not_each_block(output):
    from sklearn.linear_model import LogisticRegression

    from skexplain.metrics import infidelity

    rng = np.random.default_rng(4)
    X = rng.normal(size=(400, 3)) * [1.0, 10.0, 100.0]  # very different column spreads
    model = LogisticRegression().fit(X, X[:, 0] + X[:, 1] / 10 > 0)
    A = rng.normal(size=X.shape)
    kwargs = {"random_state": 0} | ({} if output is None else {"output": output})
    expected = infidelity(model, X, A, **kwargs)  # noise in std units of all 400 rows
    blocks = da.from_array(X[np.argsort(X[:, 2])], chunks=(100, 3))  # blocks of unlike spread
    lazy = infidelity(model, blocks, A[np.argsort(X[:, 2])], **kwargs).compute(scheduler="sync")
    np.testing.assert_allclose(lazy, expected[np.argsort(X[:, 2])], rtol=1e-9)


def test_a_metric_refuses_a_dask_dataframe_with_a_clear_message():
    dd = pytest.importorskip("dask.dataframe")
    from skexplain.metrics import infidelity

    X = np.random.default_rng(4).normal(size=(50, 3))
    frame = dd.from_pandas(pd.DataFrame(X, columns=list("abc")), npartitions=2)
    with pytest.raises(TypeError, match="to_dask_array"):
        infidelity(SinExp(), frame, np.ones_like(X))


# -- every explainer, found by discovery -----------------------------------------------------------
def _explainer_classes():
    from skexplain.utils.discovery import all_explainers

    return [cls for _, cls in all_explainers()]


def _rows_for(cls):
    # Enough rows for several chunks of the engine (8,192 evaluations; 8 copies a row at most
    # with the FAST settings); the reference wrappers (lime, shap) loop over rows: fewer.
    from _explainers import is_model_specific

    n = 120 if cls.__name__ in ("LimeExplainer", "KernelShapExplainer") else 2500
    width = 3 if is_model_specific(cls) else 4
    return np.random.default_rng(5).uniform(-1, 1, size=(n, width))


@pytest.mark.parametrize("cls", _explainer_classes(), ids=lambda cls: cls.__name__)
def test_every_explainer_takes_n_jobs_and_verbose_and_n_jobs_2_equals_1(cls):
    from _explainers import instance

    explainer = instance(cls)
    params = explainer.get_params(deep=False)
    assert params["n_jobs"] is None and params["verbose"] == 0
    X = _rows_for(cls)
    serial = explainer.set_params(n_jobs=1).fit(X).transform(X)
    parallel = explainer.set_params(n_jobs=2).fit(X).transform(X)
    np.testing.assert_array_equal(parallel, serial)


def test_verbose_parameter_shows_the_progress_bar(rows, capsys):
    explainer = SmoothGrad(model=SinExp(), n_samples=200, random_state=0, verbose=0).fit(rows)
    explainer.transform(rows)
    assert capsys.readouterr().err == ""
    explainer.set_params(verbose=1).transform(rows)
    assert "skexplain" in capsys.readouterr().err
