"""Torch helpers: the device a module runs on, and modules pickled as CPU bytes.

torch is imported only when one of these is called.
"""

import copy
import io

from ._optional import import_optional


def resolve_device(device, module=None):
    """``"auto"``: the module's device if it is on an accelerator, else CUDA when present."""
    # Reached from torch models, PropertyOptimizedExplainer(setting="inductive") and training.
    torch = import_optional("torch", purpose="running on a torch device")

    if device is None or device == "auto":
        params = [] if module is None else list(module.parameters()) + list(module.buffers())
        if params and params[0].device.type != "cpu":
            return params[0].device
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be 'auto' or a torch device, got {device!r}") from exc


def pack_module(module, device, dtype):
    """``(bytes, device name, dtype name)``: a module saved from a CPU copy, picklable anywhere.

    The caller's module stays where it is; pickles of equal modules are equal bytes, so they
    hash alike, and a module fitted on a GPU loads on a machine without one.
    """
    import torch

    buffer = io.BytesIO()
    torch.save(copy.deepcopy(module).to("cpu"), buffer)
    return buffer.getvalue(), str(device), str(dtype).replace("torch.", "")


def unpack_module(data, device, dtype):
    """``(module, device, dtype)`` back from :func:`pack_module`; CUDA falls back to the CPU."""
    import torch

    module = torch.load(io.BytesIO(data), map_location="cpu", weights_only=False)
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        device = torch.device("cpu")
    return module.to(device), device, getattr(torch, dtype)
