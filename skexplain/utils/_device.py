"""The torch device a module runs on (torch is imported only when this is called)."""

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
