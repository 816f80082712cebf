"""Restoring the missing frames of a whole input sequence with module ①,
and mapping them back to the input's coordinates.

The completion network works on clips of exactly ``clip_len`` frames in the
normalised coordinates of the test pipeline. A user's sequence has any
length and is in pixels (2D) or metres (3D), so

* :func:`restore_in_windows` covers it with windows of ``clip_len``
  consecutive frames (a shorter one is padded with missing frames) and
  takes each frame from the window that gives it the most context;
* :func:`fit_affine` measures the normalisation the pipeline applied
  (``PreNormalize2D`` scales and shifts each axis, ``PreNormalize3D``
  centres and rotates: both are affine per sample) from the observed
  joints before and after it, and :func:`undo_affine` maps the restored
  frames back.
"""
from typing import Tuple

import numpy as np
import torch

__all__ = ['window_starts', 'restore_in_windows', 'fit_affine', 'undo_affine',
           'observed_points']


def window_starts(num_frames: int, clip_len: int) -> np.ndarray:
    """First frames of the windows that cover ``num_frames``: every half
    window, the last one ending at the last frame."""
    if num_frames <= clip_len:
        return np.zeros(1, np.int64)
    starts = np.arange(0, num_frames - clip_len, max(clip_len // 2, 1))
    return np.unique(np.append(starts, num_frames - clip_len))


def restore_in_windows(completion: torch.nn.Module, x: torch.Tensor,
                       valid: torch.Tensor) -> Tuple[torch.Tensor,
                                                     torch.Tensor]:
    """Restore ``x`` ``(M, T, V, C)`` (missing frames zero, normalised like
    the model input) with ``completion`` (a ``ContextAwareCompletion``).

    Each person frame is taken from the window, among those that contain
    it *and* an observed frame of that person, in which it lies farthest
    from the window's ends; a person frame in no such window is not
    restored.

    Args:
        completion: Module ①, ``clip_len`` frames per call.
        x (torch.Tensor): ``(M, T, V, C)``.
        valid (torch.Tensor): ``(M, T)`` bool, observed frames.

    Returns:
        tuple: ``S_base`` ``(M, T, V, C)`` (observed frames are ``x``) and
        ``(M, T)`` bool, the frames it holds (observed or restored).
    """
    num_person, num_frames = valid.shape
    clip_len = int(completion.clip_len)
    device = x.device
    valid = valid.to(device=device, dtype=torch.bool)
    starts = torch.as_tensor(window_starts(num_frames, clip_len),
                             device=device)
    length = max(num_frames, clip_len)
    # pad a short sequence with missing frames (a suffix gap)
    pad = length - num_frames
    x_pad = torch.cat([x, x.new_zeros((num_person, pad) + x.shape[2:])], 1)
    v_pad = torch.cat([valid, valid.new_zeros(num_person, pad)], 1)
    index = starts[:, None] + torch.arange(clip_len, device=device)
    clips = x_pad[:, index].transpose(0, 1)  # (W, M, L, V, C)
    clip_valid = v_pad[:, index].transpose(0, 1)  # (W, M, L)
    with torch.no_grad():
        out = completion(clips, clip_valid)
    # rank the windows of each person frame: -1 where the window does not
    # hold the frame or does not see the person at all, else the frame's
    # distance to the window's nearer end
    frame = torch.arange(length, device=device)
    offset = frame - starts[:, None]  # (W, T): clip position of frame t
    margin = torch.minimum(offset, clip_len - 1 - offset)
    usable = (margin >= 0)[:, None] & clip_valid.any(-1)[..., None]
    score = torch.where(usable, margin[:, None], -1)  # (W, M, T)
    best = score.argmax(0)  # (M, T)
    covered = score.max(0).values[:, :num_frames] >= 0
    pos = offset[best, frame].clamp(0, clip_len - 1)
    person = torch.arange(num_person, device=device)[:, None].expand_as(best)
    restored = out[best, person, pos][:, :num_frames]
    restored = torch.where(valid[..., None, None], x, restored)
    return restored, covered | valid


def fit_affine(src: np.ndarray, dst: np.ndarray,
               what: str = 'the normalisation') -> Tuple[np.ndarray,
                                                         np.ndarray]:
    """Least-squares affine map ``dst = src @ W + b`` of ``(P, d)`` points.

    Raises:
        ValueError: Too few or degenerate points, or a map that is not
            affine (residual beyond float32 rounding).
    """
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    dims = src.shape[1]
    design = np.concatenate([src, np.ones((len(src), 1))], 1)
    solution, _, rank, _ = np.linalg.lstsq(design, dst, rcond=None)
    if rank < dims + 1:
        raise ValueError(f'Cannot measure {what}: the observed joints span '
                         f'fewer than {dims} dimensions.')
    residual = np.abs(design @ solution - dst).max()
    if residual > 1e-4 * (1 + np.abs(dst).max()):
        raise ValueError(f'Cannot undo {what}: it is not affine per sample '
                         f'(residual {residual:.3g}).')
    return solution[:dims], solution[dims]


def undo_affine(points: np.ndarray, weight: np.ndarray,
                bias: np.ndarray) -> np.ndarray:
    """``src`` of ``points = src @ weight + bias`` (``(..., d)``)."""
    return (np.asarray(points, np.float64) - bias) @ np.linalg.inv(weight)


def observed_points(raw: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``(M, T, V)`` bool: the joints to measure the normalisation on, those
    of observed frames that are not exactly zero (``PreNormalize3D``
    leaves zero joints at zero instead of moving them)."""
    return valid[..., None] & np.any(raw != 0, -1)
