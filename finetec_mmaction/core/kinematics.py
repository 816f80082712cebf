"""Finite differences along time: velocity and acceleration (SPEC §③ data
branch).

Written in torch (differentiable); numpy inputs are computed through torch
and returned as numpy, so the pipeline and the models share one
implementation. Time steps are one frame (``Δt = 1``); sequence ends are
replicate-padded so outputs keep the input length.
"""
from typing import Optional

import numpy as np
import torch


def _prepare(seq, time_dim: int, valid):
    as_numpy = not isinstance(seq, torch.Tensor)
    if as_numpy:
        arr = np.asarray(seq)
        if arr.dtype.kind == 'f' and arr.dtype != np.float64:
            arr = arr.astype(np.float32)
        seq = torch.from_numpy(np.ascontiguousarray(arr))
    dim = time_dim % seq.dim()
    if valid is not None:
        valid = torch.as_tensor(
            np.asarray(valid) if not isinstance(valid, torch.Tensor) else
            valid, device=seq.device).bool()
        if valid.dim() != dim + 1 or valid.shape[-1] != seq.shape[dim]:
            raise ValueError(
                f'valid must have the shape of seq up to its time axis '
                f'({tuple(seq.shape[:dim + 1])}), got {tuple(valid.shape)}.')
        # (..., T) -> (..., T, 1, ..., 1) to broadcast over trailing dims
        valid = valid.reshape(valid.shape + (1, ) * (seq.dim() - dim - 1))
    return seq, as_numpy, dim, valid


def _replicate_pad(x: torch.Tensor, dim: int) -> torch.Tensor:
    first = x.narrow(dim, 0, 1)
    last = x.narrow(dim, x.shape[dim] - 1, 1)
    return torch.cat([first, x, last], dim)


def _finish(out: torch.Tensor, as_numpy: bool):
    return out.detach().cpu().numpy() if as_numpy else out


def finite_difference_velocity(seq,
                               time_dim: int = -3,
                               valid: Optional[torch.Tensor] = None):
    """Backward first difference ``v_t = S_t - S_{t-1}`` (``v_0 = 0``).

    Args:
        seq (torch.Tensor | np.ndarray): e.g. ``(..., T, V, C)``.
        time_dim (int): The time axis. Defaults to ``-3``.
        valid (optional): Bool mask with the shape of ``seq`` up to and
            including the time axis, e.g. ``(..., T)``; ``v_t`` is zero where
            frame ``t`` or ``t - 1`` is missing.

    Returns:
        Same type and shape as ``seq``.
    """
    seq, as_numpy, dim, valid = _prepare(seq, time_dim, valid)
    T = seq.shape[dim]
    prev = torch.cat([seq.narrow(dim, 0, 1), seq.narrow(dim, 0, T - 1)], dim)
    vel = seq - prev
    if valid is not None:
        v_prev = torch.cat(
            [valid.narrow(dim, 0, 1),
             valid.narrow(dim, 0, T - 1)], dim)
        vel = vel * (valid & v_prev).to(vel.dtype)
    return _finish(vel, as_numpy)


def finite_difference_acceleration(seq,
                                   time_dim: int = -3,
                                   valid: Optional[torch.Tensor] = None):
    """Second difference ``â_t = S_{t+1} - 2 S_t + S_{t-1}``.

    The ends are replicate-padded (``S_{-1} = S_0``, ``S_T = S_{T-1}``), so
    ``â_0 = S_1 - S_0`` and ``â_{T-1} = S_{T-2} - S_{T-1}``; a single frame
    has zero acceleration.

    Args:
        seq (torch.Tensor | np.ndarray): e.g. ``(..., T, V, C)``.
        time_dim (int): The time axis. Defaults to ``-3``.
        valid (optional): Bool mask with the shape of ``seq`` up to and
            including the time axis; ``â_t`` is zero where any frame of its
            stencil is missing (zero-filled frames would fake huge jumps).

    Returns:
        Same type and shape as ``seq``.
    """
    seq, as_numpy, dim, valid = _prepare(seq, time_dim, valid)
    T = seq.shape[dim]
    pad = _replicate_pad(seq, dim)
    acc = (pad.narrow(dim, 2, T) - 2 * seq + pad.narrow(dim, 0, T))
    if valid is not None:
        vpad = _replicate_pad(valid, dim)
        ok = vpad.narrow(dim, 0, T) & valid & vpad.narrow(dim, 2, T)
        acc = acc * ok.to(acc.dtype)
    return _finish(acc, as_numpy)
