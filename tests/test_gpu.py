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
