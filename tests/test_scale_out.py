"""Scale-out: row-parallel work through joblib runs unchanged on a dask.distributed cluster."""

import joblib
import numpy as np
import pandas as pd
import pytest
from dask import distributed
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skexplain import KernelShapExplainer, LimeExplainer


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def ray_backend():
    """A local Ray (2 CPUs) with its joblib backend registered; its workers import this folder."""
    ray = pytest.importorskip("ray")
    import os
    from pathlib import Path

    from ray.util.joblib import register_ray

    here = Path(__file__).resolve().parent
    path = os.pathsep.join([str(here), str(here.parent), os.environ.get("PYTHONPATH", "")])
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        runtime_env={"env_vars": {"PYTHONPATH": path}},
    )
    register_ray()
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def pipeline_and_rows():
    X, y = load_breast_cancer(return_X_y=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    return model, X[:8]


@pytest.mark.parametrize(
    "explainer",
    [
        LimeExplainer(n_samples=300, random_state=0),
        KernelShapExplainer(n_samples=100, n_background=10, random_state=0),
    ],
    ids=["lime", "kernel_shap"],
)
def test_transform_on_a_dask_cluster_equals_n_jobs_1(client, pipeline_and_rows, explainer):
    model, rows = pipeline_and_rows
    serial = explainer.set_params(model=model, n_jobs=1).fit(rows).transform(rows)
    with distributed.get_task_stream(client) as tasks:
        with joblib.parallel_config(backend="dask"):
            parallel = explainer.set_params(n_jobs=-1).fit(rows).transform(rows)
    assert len(tasks.data) > 0, "no task ran on the cluster"
    np.testing.assert_array_equal(parallel, serial)


class _RecordingModel:
    """sum(x^2) with its gradient, writing each process id that evaluates it to a folder."""

    def __init__(self, folder):
        self.folder = str(folder)

    def _record(self):
        import os

        open(os.path.join(self.folder, str(os.getpid())), "a").close()

    def __call__(self, X):
        self._record()
        return (X**2).sum(axis=1)

    def gradient(self, X):
        self._record()
        return 2.0 * X


def _other_processes(folder):
    import os

    return {int(name) for name in os.listdir(folder)} - {os.getpid()}


def test_a_metric_with_n_jobs_runs_on_the_dask_cluster_and_equals_n_jobs_1(client, tmp_path):
    from skexplain.metrics import infidelity

    X = np.random.default_rng(0).normal(size=(5000, 4))
    model = _RecordingModel(tmp_path)
    A = 2.0 * X
    serial = infidelity(model, X, A, n_samples=20, random_state=0)
    assert not _other_processes(tmp_path)
    with joblib.parallel_config(backend="dask"):
        parallel = infidelity(model, X, A, n_samples=20, random_state=0, n_jobs=-1)
    np.testing.assert_array_equal(parallel, serial)
    assert _other_processes(tmp_path), "no chunk ran on the cluster's workers"


@pytest.mark.slow
def test_rays_joblib_backend_runs_the_chunks_in_its_workers(ray_backend, tmp_path):
    from skexplain.metrics import infidelity

    X = np.random.default_rng(1).normal(size=(5000, 4))
    model = _RecordingModel(tmp_path)
    serial = infidelity(model, X, 2.0 * X, n_samples=20, random_state=0)
    with joblib.parallel_config(backend="ray"):
        parallel = infidelity(model, X, 2.0 * X, n_samples=20, random_state=0, n_jobs=2)
    np.testing.assert_array_equal(parallel, serial)
    assert _other_processes(tmp_path), "no chunk ran in Ray's workers"


def test_evaluate_explainers_with_the_default_metrics_on_the_dask_cluster(client):
    # The validation report's table: explainers and explainer-metric pairs sent to the
    # cluster's worker processes give the numbers of n_jobs=1 (max_sensitivity re-explains
    # rows on the workers).
    from skexplain import Gradient, SmoothGrad
    from skexplain.functions import SumOfSines
    from skexplain.report import evaluate_explainers

    X = np.random.default_rng(0).uniform(-2, 2, size=(6, 4))
    explainers = {
        "grad": Gradient(model=SumOfSines()),
        "sg": SmoothGrad(model=SumOfSines(), noise_scale=0.3, n_samples=8, random_state=0),
    }
    serial = evaluate_explainers(explainers, X, random_state=0)
    with joblib.parallel_config(backend="dask"):
        parallel = evaluate_explainers(explainers, X, random_state=0, n_jobs=-1)
    pd.testing.assert_frame_equal(parallel, serial, check_exact=True)


@pytest.mark.slow
def test_the_spark_recipe_of_the_guide_gives_the_same_attributions():
    """doc/user_guide/scale_out.rst's mapInPandas recipe, on a local Spark (where pyspark is
    installed; it is not a test dependency: a JVM and a 400 MB wheel)."""
    pyspark = pytest.importorskip("pyspark")
    import pandas as pd
    from pyspark.sql import SparkSession

    from skexplain import SmoothGrad
    from skexplain.functions import SumOfSines

    features = [f"x{i}" for i in range(4)]
    frame = pd.DataFrame(np.random.default_rng(2).normal(size=(300, 4)), columns=features)
    explainer = SmoothGrad(model=SumOfSines(), n_samples=16, random_state=0).fit(frame)
    expected = explainer.transform(frame)
    names = list(explainer.get_feature_names_out())

    def explain(batches):
        for batch in batches:
            W = explainer.transform(batch[features])
            out = pd.DataFrame(W, columns=[f"attr_{c}" for c in names], index=batch.index)
            yield out.assign(row_id=batch["row_id"].to_numpy())

    spark = SparkSession.builder.master("local[2]").appName("skexplain-test").getOrCreate()
    try:
        spark_df = spark.createDataFrame(frame.assign(row_id=np.arange(300))).repartition(3)
        schema = ", ".join(f"attr_{c} double" for c in names) + ", row_id long"
        result = spark_df.mapInPandas(explain, schema=schema).toPandas()
    finally:
        spark.stop()
    result = result.sort_values("row_id")
    assert result["row_id"].tolist() == list(range(300))
    np.testing.assert_array_equal(result.drop(columns="row_id").to_numpy(), expected)
    assert pyspark.__version__


# -- every explainer and row metric on the cluster backends (slow: many cluster round trips) -----
def _every_explainer():
    from skexplain.utils.discovery import all_explainers

    return [cls for _, cls in all_explainers()]


def _explain_everything(n_jobs):
    """Attributions of every discovered explainer and the scores of every row metric."""
    import inspect

    from _explainers import instance, is_model_specific

    from skexplain.metrics import get_metric, get_metric_names

    out = {}
    for cls in _every_explainer():
        width = 3 if is_model_specific(cls) else 4
        n = 60 if cls.__name__ in ("LimeExplainer", "KernelShapExplainer") else 1500
        X = np.random.default_rng(7).uniform(-1, 1, size=(n, width))
        explainer = instance(cls).set_params(n_jobs=n_jobs).fit(X)
        out[cls.__name__] = explainer.transform(X)
    X = np.random.default_rng(8).uniform(-1, 1, size=(1500, 4))
    from skexplain import SmoothGrad
    from skexplain.functions import SumOfSines

    explainer = SmoothGrad(model=SumOfSines(), n_samples=8, random_state=0).fit(X)
    A = explainer.transform(X)
    for name in get_metric_names():
        spec = get_metric(name)
        params = inspect.signature(spec.function).parameters
        if "n_jobs" not in params:
            continue
        kwargs = {"n_jobs": n_jobs, **({"random_state": 0} if "random_state" in params else {})}
        if "n_samples" in params:
            kwargs["n_samples"] = 5
        if "n_features" in params:
            kwargs["n_features"] = 2
        head = (explainer.model_, X, A) if spec.kind == "model" else (explainer, X)
        out[name] = spec.function(*head, **kwargs)
    return out


@pytest.mark.slow
def test_every_explainer_and_metric_on_a_dask_cluster_equals_n_jobs_1(client):
    serial = _explain_everything(1)
    with distributed.get_task_stream(client) as tasks:
        with joblib.parallel_config(backend="dask"):
            parallel = _explain_everything(-1)
    assert len(tasks.data) > 0
    assert parallel.keys() == serial.keys()
    for name in serial:
        np.testing.assert_array_equal(parallel[name], serial[name], err_msg=name)


@pytest.mark.slow
def test_every_explainer_and_metric_on_ray_equals_n_jobs_1(ray_backend):
    serial = _explain_everything(1)
    with joblib.parallel_config(backend="ray"):
        parallel = _explain_everything(2)
    assert parallel.keys() == serial.keys()
    for name in serial:
        np.testing.assert_array_equal(parallel[name], serial[name], err_msg=name)
