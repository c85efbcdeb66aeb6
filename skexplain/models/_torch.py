"""The adapter for torch modules, imported with torch only when a torch model is used."""

import copy

import numpy as np

from .._engine import ACCELERATOR_BATCH_SIZE, DEFAULT_BATCH_SIZE
from ..utils import import_optional, pack_module, resolve_device, unpack_module
from ._base import ModelAdapter, _check_values, _select

torch = import_optional("torch", purpose="a torch model (skexplain.models.TorchModel)")

_TORCH_OUTPUTS = ("raw", "probability", "log_probability")


class TorchModel(ModelAdapter):
    """Adapter for a ``torch.nn.Module``: exact gradients by autograd, one backward per chunk.

    The module is evaluated in eval mode (dropout off, batch norm on its running statistics),
    each submodule's mode restored afterwards, on a copy of its input; it is moved to ``device``
    on a copy when it lives elsewhere, so the caller's module is never changed. Inputs are cast
    to the module's floating dtype; answers come back as float64 numpy.

    Parameters
    ----------
    module : torch.nn.Module
        The network, mapping ``(n, d)`` inputs to ``(n,)`` or ``(n, k)`` outputs.
    output : {"raw", "probability", "log_probability"} or None, default=None
        The explained output: the module's output (None means ``"raw"``), its softmax (sigmoid
        for one output) or its log-softmax.
    device : str or torch.device, default="auto"
        Where the module runs; ``"auto"`` keeps a module already on an accelerator there and
        otherwise uses CUDA when available.
    batch_size : int or None, default=None
        Model evaluations per query chunk; None uses 8192 on the CPU and 32768 on an
        accelerator.

    See Also
    --------
    skexplain.models.as_model : Picks this adapter for torch modules.

    Examples
    --------
    >>> import torch
    >>> from skexplain.models import TorchModel
    >>> module = torch.nn.Linear(2, 1, bias=False).double()
    >>> with torch.no_grad():
    ...     _ = module.weight.copy_(torch.tensor([[1.0, -3.0]]))
    >>> TorchModel(module, device="cpu").gradient([[0.5, 0.5]])
    array([[ 1., -3.]])
    """

    def __init__(self, module, *, output=None, device="auto", batch_size=None):
        output = "raw" if output is None else output
        if output not in _TORCH_OUTPUTS:
            raise ValueError(
                f"output must be one of {_TORCH_OUTPUTS} for a torch module, got {output!r}"
            )
        self.output = output
        self.device = resolve_device(device, module)
        on_cpu = self.device.type == "cpu"
        super().__init__(
            batch_size, default_batch_size=DEFAULT_BATCH_SIZE if on_cpu else ACCELERATOR_BATCH_SIZE
        )
        self.module = self._place(module)

    def _place(self, module):
        tensors = list(module.parameters()) + list(module.buffers())
        if tensors and any(t.device != self.device for t in tensors):
            module = copy.deepcopy(module).to(self.device)
        floating = [t for t in tensors if t.is_floating_point()]
        self.dtype = floating[0].dtype if floating else torch.get_default_dtype()
        return module

    def to_native(self, array):
        """Convert an array to a tensor of the module's dtype on its device.

        Parameters
        ----------
        array : array-like or torch.Tensor
            The values to convert.

        Returns
        -------
        torch.Tensor
            The values on ``device``, in the module's floating dtype.
        """
        if torch.is_tensor(array):
            return array.to(device=self.device, dtype=self.dtype)
        # a copy where numpy strides are negative or odd (torch takes only positive ones), or
        # where the array is read-only (a DataFrame's values, a memory-mapped explainer):
        # torch warns that it cannot share those
        array = np.ascontiguousarray(array)
        if not array.flags.writeable:
            array = array.copy()
        return torch.as_tensor(array, dtype=self.dtype, device=self.device)

    def to_numpy(self, array):
        """Convert a tensor (or array) to a float64 numpy array on the CPU.

        Parameters
        ----------
        array : torch.Tensor or array-like
            The values to convert.

        Returns
        -------
        ndarray
            The values as float64 numpy.
        """
        if torch.is_tensor(array):
            return array.detach().to("cpu", torch.float64).numpy()
        return np.asarray(array, dtype=np.float64)

    def _forward(self, X):
        # The one place where the module receives its input: a copy (a module that writes into
        # its input cannot change the caller's X, whose memory as_tensor shares), and in eval
        # mode (dropout and batch statistics would make every answer different despite
        # random_state); each submodule's mode is restored afterwards.
        modes = [(m, m.training) for m in self.module.modules() if m.training]
        for m, _ in modes:
            m.train(False)
        try:
            out = self.module(X.clone())
        finally:
            for m, training in modes:
                m.training = training
        if not torch.is_tensor(out):
            raise ValueError(f"the torch module must return a tensor, got {type(out).__name__}")
        _check_values(out.detach(), X.shape[0], "output")
        if out.ndim == 1:
            out = out[:, None]
        if self.output == "probability":
            out = torch.sigmoid(out) if out.shape[1] == 1 else torch.softmax(out, dim=1)
        elif self.output == "log_probability":
            if out.shape[1] == 1:
                out = torch.nn.functional.logsigmoid(out)
            else:
                out = torch.log_softmax(out, dim=1)
        return out

    def _outputs_native(self, X):
        with torch.no_grad():
            return self._forward(X)

    def _predict_native(self, X, target):
        with torch.no_grad():
            return _select(self._forward(X), target)

    def _gradient_native(self, X, target):
        with torch.enable_grad():
            X = X.detach().requires_grad_(True)
            selected = _select(self._forward(X), target)
            grad = None
            if selected.requires_grad:
                (grad,) = torch.autograd.grad(selected.sum(), X, allow_unused=True)
        if grad is None:  # the output does not reach the input through autograd
            raise TypeError(
                f"the torch module {type(self.module).__name__} is not differentiable: its "
                "output does not depend on its input through autograd (it detaches, rounds, "
                "takes an argmax or leaves torch); explain it with a model-agnostic explainer "
                "(ShapleyExplainer, KernelShapExplainer, LimeExplainer, CLIME), or pass a "
                "differentiable module"
            )
        _check_values(grad, X.shape[0], "gradient")
        return grad

    # Pickle the module as CPU bytes, so a pickled explainer loads on a machine without the
    # device it was fitted on, and pickles of equal models hash alike.
    def __getstate__(self):
        state = self.__dict__.copy()
        state["module"], state["device"], state["dtype"] = pack_module(
            self.module, self.device, self.dtype
        )
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.module, self.device, self.dtype = unpack_module(
            state["module"], state["device"], state["dtype"]
        )
