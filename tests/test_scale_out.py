"""Scale-out: row-parallel work through joblib runs unchanged on a dask.distributed cluster."""

import joblib
import numpy as np
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
