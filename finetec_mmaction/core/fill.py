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
    # cumsum, scatter and gather instead of cummax / cummin, which ONNX
    # lacks; exact integer arithmetic, the same result
    valid = valid.bool()
    batch, num_frames = valid.shape
    idx = torch.arange(num_frames, device=valid.device).expand(
        batch, num_frames)
    rank = valid.long().cumsum(1)  # observed frames at or before t
    # slot k holds the k-th observed frame (slot 0: none before it, -1;
    # slots past the last one: none after it, T)
    pos = torch.zeros(batch, num_frames + 2, dtype=torch.long,
                      device=valid.device).scatter(
                          1, torch.where(valid, rank, 0),
                          torch.where(valid, idx, 0))
    slot = torch.arange(num_frames + 2, device=valid.device)
    pos = torch.where(slot == 0, -1,
                      torch.where(slot > rank[:, -1:], num_frames, pos))
    prev = pos.gather(1, rank)
    nxt = torch.where(valid, idx, pos.gather(1, rank + 1))
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


def _akima_slopes(secants: torch.Tensor, count: torch.Tensor) -> torch.Tensor:
    """Akima's slopes at the observed points from the secants between them.

    Args:
        secants (torch.Tensor): ``(B, T - 1, F)``; entry ``j < count - 1`` is
            the secant between observed points ``j`` and ``j + 1``.
        count (torch.Tensor): ``(B,)`` observed points per sequence (>= 3).

    Returns:
        torch.Tensor: ``(B, T, F)`` slopes, entry ``i < count`` belongs to
        observed point ``i``. The secant list is extended by two linear
        extrapolations at each end, as in Akima (1970) and SciPy's
        ``Akima1DInterpolator``.
    """
    batch, num_secants, feats = secants.shape
    first, second = secants[:, :1], secants[:, 1:2]
    last_idx = (count - 2).clamp(min=0).view(batch, 1, 1).expand(-1, 1, feats)
    last = secants.gather(1, last_idx)
    before = secants.gather(1, (last_idx - 1).clamp(min=0))
    # extended[k] = d_{k-2}: two secants before the first, two after the last
    pad = secants.new_zeros(batch, 2, feats)
    ext = torch.cat([3 * first - 2 * second, 2 * first - second, secants, pad],
                    dim=1)
    pos = torch.arange(ext.shape[1], device=secants.device).view(1, -1, 1)
    n = count.view(batch, 1, 1)
    ext = torch.where(pos == n + 1, 2 * last - before, ext)
    ext = torch.where(pos == n + 2, 3 * last - 2 * before, ext)
    ext = torch.where(pos > n + 2, torch.zeros_like(ext), ext)
    d_m2, d_m1 = ext[:, :-3], ext[:, 1:-2]
    d_0, d_p1 = ext[:, 2:-1], ext[:, 3:]
    w_next, w_prev = (d_p1 - d_0).abs(), (d_m1 - d_m2).abs()
    total = w_next + w_prev
    # equal weights (flat stretches on both sides): the mean of the secants
    return torch.where(total > 1e-12 * (d_m1.abs() + d_0.abs() + 1e-30),
                       (w_next * d_m1 + w_prev * d_0) / total.clamp(min=1e-30),
                       (d_m1 + d_0) / 2)


def akima_fill(x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Fill missing frames with Akima's piecewise-cubic interpolation.

    A cubic Hermite segment between the observed frames around each gap,
    with Akima's slopes at the observed frames: it follows curved motion
    that :func:`linear_fill` cuts short, with far less overshoot than a
    global cubic spline (which is worse than linear interpolation on sampled
    skeleton clips, whose repeated frames make flat steps). It can still
    leave the range of the observed values, so bounded channels such as
    confidence scores are better filled linearly. Each coordinate and
    channel is interpolated on its own; frames outside the observed range
    hold the end frame, as in :func:`linear_fill`, and sequences with fewer
    than three observed frames fall back to it.

    Shapes as :func:`linear_fill`: ``x`` ``(B, T, ...)``, ``valid``
    ``(B, T)`` bool; observed frames are returned unchanged.
    """
    valid = valid.bool()
    batch, num_frames = valid.shape
    linear = linear_fill(x, valid)
    count = valid.sum(1)
    # no shortcut on the values (all sequences < 3 observed frames): a
    # branch on data does not export; those sequences get `linear` below
    if num_frames < 3:
        return linear
    flat = x.reshape(batch, num_frames, -1)
    # observed frames first, in time order: compact index -> frame (each
    # frame scattered to its place, the stable sort that ONNX lacks)
    rank = valid.long().cumsum(1)
    frame = torch.arange(num_frames, device=x.device).expand(batch, -1)
    place = torch.where(valid, rank - 1, count[:, None] + frame - rank)
    order = torch.zeros_like(place).scatter(1, place, frame)
    times = order.to(flat.dtype)
    values = gather_time(flat, order)
    step = (times[:, 1:] - times[:, :-1]).clamp(min=1)[..., None]
    secants = (values[:, 1:] - values[:, :-1]) / step
    slopes = _akima_slopes(secants, count.clamp(min=3))
    # back to frames: the slope of each observed frame at its time
    slope_at = torch.zeros_like(flat).scatter(
        1, order[..., None].expand_as(slopes), slopes)
    prev, nxt = neighbour_frames(valid)
    inside = (prev >= 0) & (nxt < num_frames) & ~valid & (count >= 3)[:, None]
    prev_c, next_c = prev.clamp(0, num_frames - 1), nxt.clamp(0,
                                                              num_frames - 1)
    span = (next_c - prev_c).clamp(min=1).to(flat.dtype)[..., None]
    s = ((torch.arange(num_frames, device=x.device) - prev_c).to(flat.dtype)
         [..., None] / span)
    h00, h10 = (1 + 2 * s) * (1 - s)**2, s * (1 - s)**2
    h01, h11 = s * s * (3 - 2 * s), s * s * (s - 1)
    cubic = (h00 * gather_time(flat, prev_c) +
             h10 * span * gather_time(slope_at, prev_c) +
             h01 * gather_time(flat, next_c) +
             h11 * span * gather_time(slope_at, next_c)).view(x.shape)
    inside = inside.view(inside.shape + (1, ) * (x.dim() - 2))
    return torch.where(inside, cubic, linear)


FILLS = {'linear': linear_fill, 'nearest': nearest_fill, 'akima': akima_fill}


def bounded_fill(method: str) -> str:
    """The fill to use for bounded channels (confidence scores in [0, 1])
    next to coordinates filled by ``method``: the piecewise cubic can
    overshoot, so ``'akima'`` becomes ``'linear'``; the others stay."""
    return 'linear' if method == 'akima' else method


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
        method (str): ``'linear'``, ``'nearest'`` or ``'akima'``.
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
