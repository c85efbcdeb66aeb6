"""CUDA paths: run where a GPU is present, skipped elsewhere (marker `gpu`)."""

import numpy as np
import pytest
import torch

from skexplain import CLIME, Gradient, IntegratedGradients, SmoothGrad, VarGrad
from skexplain.models import as_model

pytestmark = pytest.mark.gpu


def _mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3)
    ).double()


def test_auto_device_is_cuda_and_leaves_the_callers_module_on_cpu():
    module = _mlp()
    model = as_model(module)
    assert model.device.type == "cuda"
    assert next(module.parameters()).device.type == "cpu"


@pytest.mark.parametrize(
    "explainer",
    [
        Gradient(),
        IntegratedGradients(n_steps=16),
        SmoothGrad(n_samples=16, random_state=0),
        VarGrad(n_samples=16, random_state=0),
        CLIME(n_samples=64, random_state=0),
    ],
)
def test_cuda_and_cpu_give_the_same_attributions(explainer):
    module = _mlp()
    X = np.random.default_rng(0).normal(size=(50, 6))
    on_cpu = explainer.set_params(model=as_model(module, device="cpu")).fit(X).transform(X)
    on_gpu = explainer.set_params(model=as_model(module, device="cuda")).fit(X).transform(X)
    np.testing.assert_allclose(on_gpu, on_cpu, rtol=1e-8, atol=1e-10)


def test_inductive_gp_on_cuda_equals_cpu():
    from skexplain import PropertyOptimizedExplainer
    from skexplain.functions import SinExp

    X = np.random.default_rng(0).uniform(-2, 2, size=(300, 3))
    params = dict(model=SinExp(), lambda_robust=0.5, setting="inductive", n_inducing=100)
    cpu = PropertyOptimizedExplainer(**params, device="cpu", random_state=0).fit(X)
    gpu = PropertyOptimizedExplainer(**params, device="auto", random_state=0).fit(X)
    assert gpu.device_.type == "cuda"
    np.testing.assert_allclose(gpu.transform(X), cpu.transform(X), rtol=1e-8, atol=1e-10)
    assert gpu.objective_ == pytest.approx(cpu.objective_, rel=1e-8)
