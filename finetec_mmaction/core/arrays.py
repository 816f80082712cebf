"""numpy <-> torch for the functions that accept either: the work is done
in torch, and numpy inputs get numpy outputs back, so the data pipeline
(numpy, one sample) and the models (torch, a batch) run the same code."""
import numpy as np
import torch


def to_torch(x):
    """Return ``(tensor, was_numpy)``; numpy floats are computed in float32
    (float16 pickles would lose precision in the differences)."""
    if isinstance(x, torch.Tensor):
        return x, False
    x = np.asarray(x)
    if x.dtype.kind == 'f' and x.dtype != np.float64:
        x = x.astype(np.float32)
    return torch.from_numpy(np.ascontiguousarray(x)), True


def to_caller(x: torch.Tensor, as_numpy: bool, dtype=None):
    """``x`` back in the caller's array type (and ``dtype`` for numpy)."""
    if not as_numpy:
        return x
    out = x.detach().cpu().numpy()
    return out.astype(dtype) if dtype is not None else out
