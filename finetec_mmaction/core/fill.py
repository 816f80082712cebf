"""Classical restoration of missing frames: linear interpolation and
nearest-frame duplication (the paper's "Interpolation" and "Duplication"
rows), plus the frame-validity test shared by transforms and models.

Works on numpy arrays whose time axis is given; missing frames are described
by a boolean validity mask over that axis.
"""
from typing import Tuple

import numpy as np


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


def _neighbour_indices(valid: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """For each frame, the index of the last observed frame at or before it
    and of the first observed frame at or after it (-1 / T where none)."""
    num_frames = len(valid)
    idx = np.arange(num_frames)
    prev = np.where(valid, idx, -1)
    prev = np.maximum.accumulate(prev)
    nxt = np.where(valid, idx, num_frames)
    nxt = np.minimum.accumulate(nxt[::-1])[::-1]
    return prev, nxt


def fill_missing_frames(data: np.ndarray,
                        valid: np.ndarray,
                        method: str = 'linear',
                        axis: int = 1) -> np.ndarray:
    """Fill missing frames from the observed ones.

    Args:
        data (np.ndarray): Array whose ``axis`` is time, e.g. keypoints
            ``(M, T, V, C)`` or scores ``(M, T, V)``.
        valid (np.ndarray): ``(T,)`` bool, ``True`` where observed.
        method (str): ``'linear'`` interpolates between the observed
            neighbours; ``'nearest'`` duplicates the nearest observed frame
            (the earlier one on a tie). Both hold the first/last observed
            frame constant beyond the observed range.
        axis (int): The time axis of ``data``.

    Returns:
        np.ndarray: A filled copy; observed frames are unchanged bit for bit.
        With no observed frame at all the data is returned unchanged.
    """
    if method not in ('linear', 'nearest'):
        raise ValueError(f'Unknown fill method {method!r}; expected "linear" '
                         'or "nearest".')
    valid = np.asarray(valid, dtype=bool)
    data = np.asarray(data)
    if data.shape[axis] != len(valid):
        raise ValueError(f'The validity mask has {len(valid)} frames but the '
                         f'data has {data.shape[axis]} on axis {axis}.')
    if valid.all() or not valid.any():
        return data.copy()
    num_frames = len(valid)
    prev, nxt = _neighbour_indices(valid)
    has_prev, has_next = prev >= 0, nxt < num_frames
    prev_c = np.where(has_prev, prev, nxt)
    next_c = np.where(has_next, nxt, prev)
    moved = np.moveaxis(data, axis, 0)
    if method == 'nearest':
        use_next = (next_c - np.arange(num_frames)) < (np.arange(num_frames) -
                                                       prev_c)
        src = np.where(use_next, next_c, prev_c)
        out = moved[src]
    else:
        span = (next_c - prev_c).astype(np.float64)
        weight = np.divide(np.arange(num_frames) - prev_c, span,
                           out=np.zeros(num_frames), where=span > 0)
        weight = weight.reshape((-1, ) + (1, ) * (moved.ndim - 1))
        out = (moved[prev_c] * (1 - weight) +
               moved[next_c] * weight).astype(data.dtype)
    out[valid] = moved[valid]
    return np.moveaxis(out, 0, axis).copy()
