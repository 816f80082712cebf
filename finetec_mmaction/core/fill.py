"""Restoring missing frames from the observed ones, and telling them apart.

One implementation of the classical fills -- linear interpolation and
nearest-frame duplication (the paper's "Interpolation" and "Duplication"
rows) -- in torch, batched with a mask per sequence and differentiable, so
that the pipeline transforms (numpy, through :func:`fill_missing_frames`),
the completion network (a residual over :func:`linear_fill`) and the region
perturbations all share it.
"""
from typing import Tuple

import numpy as np
import torch


def frame_validity(data, time_axis: int = -3):
    """Frames that carry data: not exactly zero over joints and channels.

    A missing frame is zero-filled in place (coordinates *and* score), so the
    mask can be recovered from the tensor itself anywhere after the
    corruption transform, e.g. from the model input ``(N, M, T, V, C)``.

    Args:
        data (np.ndarray | torch.Tensor): ``(..., T, V, C)`` with the time
            axis at ``time_axis`` followed by joints and channels.
        time_axis (int): Must be ``-3`` (kept explicit for readability).

    Returns:
        Same type as ``data``: ``(..., T)`` bool.
    """
    if time_axis != -3:
        raise ValueError('frame_validity expects (..., T, V, C) data.')
    return (data != 0).any(-1).any(-1)


def gather_time(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``out[b, t] = x[b, index[b, t]]`` for ``x`` ``(B, T, ...)`` and
    ``index`` ``(B, T')``."""
    shape = index.shape + (1, ) * (x.dim() - 2)
    return x.gather(1, index.long().view(shape).expand(index.shape +
                                                        x.shape[2:]))


def neighbour_frames(
        valid: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """For each frame, the last observed frame at or before it and the first
    observed frame at or after it.

    Args:
        valid (torch.Tensor): ``(B, T)`` bool.

    Returns:
        tuple: ``prev``, ``next`` ``(B, T)`` long; ``-1`` / ``T`` where
        there is none on that side.
    """
    batch, num_frames = valid.shape
    idx = torch.arange(num_frames, device=valid.device).expand(
        batch, num_frames)
    prev = torch.where(valid, idx, torch.full_like(idx, -1)).cummax(1).values
    nxt = torch.where(valid, idx, torch.full_like(idx, num_frames))
    nxt = nxt.flip(1).cummin(1).values.flip(1)
    return prev, nxt


def _clamped_neighbours(valid: torch.Tensor):
    # beyond the observed range, both neighbours are the end frame, which is
    # thereby held constant
    num_frames = valid.shape[1]
    prev, nxt = neighbour_frames(valid)
    prev_c = torch.where(prev >= 0, prev, nxt).clamp(0, num_frames - 1)
    next_c = torch.where(nxt < num_frames, nxt, prev).clamp(0, num_frames - 1)
    return prev_c, next_c


def linear_fill(x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Fill missing frames by linear interpolation between observed ones.

    Args:
        x (torch.Tensor): ``(B, T, ...)`` sequences, any values at missing
            frames.
        valid (torch.Tensor): ``(B, T)`` bool, ``True`` where observed.

    Returns:
        torch.Tensor: ``(B, T, ...)``. Observed frames are ``x`` unchanged;
        frames before the first / after the last observed frame repeat it;
        a sequence without any observed frame is returned unchanged.
    """
    valid = valid.bool()
    prev_c, next_c = _clamped_neighbours(valid)
    idx = torch.arange(valid.shape[1], device=x.device).expand_as(prev_c)
    span = (next_c - prev_c).to(x.dtype)
    weight = torch.where(span > 0, (idx - prev_c).to(x.dtype) /
                         span.clamp(min=1), torch.zeros_like(span))
    weight = weight.view(weight.shape + (1, ) * (x.dim() - 2))
    out = gather_time(x, prev_c) * (1 - weight) + \
        gather_time(x, next_c) * weight
    keep = (valid | ~valid.any(1, keepdim=True))
    return torch.where(keep.view(weight.shape), x, out)


def nearest_fill(x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Fill each missing frame with a copy of the nearest observed frame
    (the earlier one on a tie). Shapes as :func:`linear_fill`."""
    valid = valid.bool()
    prev_c, next_c = _clamped_neighbours(valid)
    idx = torch.arange(valid.shape[1], device=x.device).expand_as(prev_c)
    source = torch.where((next_c - idx) < (idx - prev_c), next_c, prev_c)
    out = gather_time(x, source)
    keep = (valid | ~valid.any(1, keepdim=True))
    return torch.where(keep.view(keep.shape + (1, ) * (x.dim() - 2)), x, out)


def gap_distances(valid: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Distances in frames from each frame to the observed frames around it.

    Args:
        valid (torch.Tensor): ``(B, T)`` bool.

    Returns:
        tuple[torch.Tensor]: ``(d_prev, d_next)``, ``(B, T)`` float: the
        distance to the last observed frame at or before ``t`` and to the
        first at or after it; both 0 on observed frames. Where one side has
        no observed frame (a prefix / suffix gap) it takes the other side's
        distance; a sequence without any observed frame gets ``T``.
    """
    num_frames = valid.shape[1]
    prev, nxt = neighbour_frames(valid.bool())
    idx = torch.arange(num_frames, device=valid.device).expand_as(prev)
    d_prev = torch.where(prev >= 0, idx - prev, torch.full_like(idx, -1))
    d_next = torch.where(nxt < num_frames, nxt - idx,
                         torch.full_like(idx, -1))
    d_prev, d_next = (torch.where(d_prev >= 0, d_prev, d_next),
                      torch.where(d_next >= 0, d_next, d_prev))
    none = ~valid.bool().any(1, keepdim=True)
    d_prev = torch.where(none, num_frames, d_prev)
    d_next = torch.where(none, num_frames, d_next)
    return d_prev.float(), d_next.float()


FILLS = {'linear': linear_fill, 'nearest': nearest_fill}


def fill_missing_frames(data: np.ndarray,
                        valid: np.ndarray,
                        method: str = 'linear',
                        axis: int = 1) -> np.ndarray:
    """numpy front end of :func:`linear_fill` / :func:`nearest_fill` for one
    sequence, used by the pipeline transforms.

    Args:
        data (np.ndarray): Array whose ``axis`` is time, e.g. keypoints
            ``(M, T, V, C)`` or scores ``(M, T, V)``.
        valid (np.ndarray): ``(T,)`` bool, ``True`` where observed.
        method (str): ``'linear'`` or ``'nearest'``.
        axis (int): The time axis of ``data``.

    Returns:
        np.ndarray: A filled copy of the same dtype; observed frames are
        unchanged bit for bit. With no observed frame the data is returned
        unchanged.
    """
    if method not in FILLS:
        raise ValueError(f'Unknown fill method {method!r}; expected one of '
                         f'{sorted(FILLS)}.')
    valid = np.asarray(valid, dtype=bool)
    data = np.asarray(data)
    if data.shape[axis] != len(valid):
        raise ValueError(f'The validity mask has {len(valid)} frames but the '
                         f'data has {data.shape[axis]} on axis {axis}.')
    if valid.all() or not valid.any():
        return data.copy()
    # float64 so that interpolated float16/float32 values round only once
    moved = torch.from_numpy(
        np.moveaxis(data, axis, 0).astype(np.float64))[None]
    filled = FILLS[method](moved, torch.from_numpy(valid)[None])[0].numpy()
    out = np.moveaxis(filled, 0, axis).astype(data.dtype)
    np.copyto(out, data, where=np.expand_dims(
        valid, tuple(i for i in range(data.ndim) if i != axis % data.ndim)))
    return out
