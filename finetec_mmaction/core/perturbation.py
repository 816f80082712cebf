"""The dynamic / static perturbations of FineTec's spatial decomposition
(SPEC §②) and :func:`decompose_regions`, which splits a sequence by region
motion (:mod:`.regions`) and perturbs each part.

Arrays and shapes as in :mod:`.regions`: numpy or torch, sequences
``(..., T, V, C)``, validity ``(..., T)``, joint masks ``(..., V)``.
"""
import math
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from .arrays import to_caller, to_torch
from .fill import gather_time, linear_fill
from .random_draws import RandomSource, draw
from .regions import (RegionSpec, flatten_batch, get_flip_index, get_regions,
                      region_motion, resolve_num_coords, split_dynamic_static)

#: Default perturbation strengths (coordinates in ``PreNormalize2D`` /
#: ``PreNormalize3D`` units, i.e. roughly [-1, 1]).
DEFAULT_PERTURB_CFG = dict(
    # S_dyna: strong spatio-temporal perturbation of the dynamic joints
    crop_ratio=(0.5, 1.0),  # fraction of the sequence kept, then resampled
    drop_prob=0.3,  # per-frame drop probability, dropped frames re-filled
    jitter_std=0.01,  # Gaussian jitter of the coordinates
    # S_stat: weak spatial perturbation of the static joints
    mirror_prob=0.5,  # mirror about the body centre line
    max_rotation=10.0,  # degrees, in the plane of the first two coords
    scale_range=(0.9, 1.1),  # scaling about the body centre
)


def _uniform(n, low, high, generator, device):
    return low + (high - low) * draw('rand', (n, ), generator, device)


def _prepare_perturbation(seq, joints, valid, num_coords):
    """Shared prologue of the perturbations: torch views ``(N, T, V, C)``,
    the ``(N, V)`` joint mask, the coordinate channel count, and what is
    needed to hand the result back in the caller's type."""
    dtype = seq.dtype if isinstance(seq, np.ndarray) else None
    seq, as_numpy = to_torch(seq)
    joints, _ = to_torch(joints)
    if valid is not None:
        valid, _ = to_torch(valid)
    x, valid, lead = flatten_batch(seq, valid)
    N, _, V, C = x.shape
    nc = C if num_coords is None else min(num_coords, C)
    mask = joints.to(x.device).bool().expand(lead + (V, )).reshape(N, V)
    return dtype, as_numpy, x, valid, mask, nc


def check_perturb_options(perturb_cfg: Optional[Dict],
                          test_perturb: str) -> Dict:
    """Validate the perturbation options shared by the transform and the
    model module; returns ``perturb_cfg`` as a dict."""
    perturb_cfg = dict(perturb_cfg or {})
    unknown = set(perturb_cfg) - set(DEFAULT_PERTURB_CFG)
    if unknown:
        raise ValueError(f'Unknown perturb_cfg keys {sorted(unknown)}; '
                         f'expected {sorted(DEFAULT_PERTURB_CFG)}.')
    if test_perturb not in ('off', 'seeded'):
        raise ValueError(f"test_perturb must be 'off' or 'seeded', got "
                         f'{test_perturb!r}.')
    return perturb_cfg


def perturb_dynamic(seq,
                    dynamic,
                    valid=None,
                    num_coords: Optional[int] = None,
                    crop_ratio: Tuple[float, float] = (0.5, 1.0),
                    drop_prob: float = 0.3,
                    jitter_std: float = 0.01,
                    generator: RandomSource = None):
    """``S_dyna``: strong spatio-temporal perturbation of dynamic joints only.

    Per sequence: (1) temporal crop of a random window of
    ``U(*crop_ratio)`` of the length, resampled to ``T`` frames by linear
    interpolation; (2) each frame dropped with ``drop_prob`` (first and last
    kept) and re-filled by interpolation; (3) Gaussian jitter of the
    coordinates. Missing frames (``valid`` False) are interpolated first so
    they do not leak zeros into the warp, and are returned unchanged (zero).

    Args:
        seq: ``(..., T, V, C)`` numpy or torch.
        dynamic: ``(..., V)`` bool joint mask (see
            :func:`split_dynamic_static`); other joints are copied.
        valid: ``(..., T)`` bool, default: non-zero frames.
        num_coords (int, optional): Coordinate channels (jittered); the rest
            (score) only follows the temporal warp. Default: all.
        crop_ratio, drop_prob, jitter_std: Perturbation strengths.
        generator (torch.Generator | ReplayedDraws, optional): Source of
            randomness.

    Returns:
        Same type and shape as ``seq``.
    """
    dtype, as_numpy, x, valid, dyn, nc = _prepare_perturbation(
        seq, dynamic, valid, num_coords)
    N, T, V, C = x.shape
    dev = x.device

    base = linear_fill(x, valid)
    out = base
    if T > 1:
        # (1) temporal crop and resample: output frame t reads the window
        # [start, start + length] at t / (T - 1) of its span
        ratio = _uniform(N, crop_ratio[0], crop_ratio[1], generator, dev)
        length = ratio.clamp(0, 1) * (T - 1)
        start = draw('rand', (N, ), generator, dev) * (T - 1 - length)
        tau = start[:, None] + torch.linspace(
            0, 1, T, device=dev)[None] * length[:, None]
        i0 = tau.floor().long().clamp(0, T - 1)
        i1 = (i0 + 1).clamp(max=T - 1)
        w = (tau - i0.to(tau.dtype)).clamp(0, 1).to(x.dtype)[..., None, None]
        out = gather_time(out, i0) * (1 - w) + gather_time(out, i1) * w
        # (2) random frame drop, re-filled by interpolation
        keep = draw('rand', (N, T), generator, dev) >= drop_prob
        keep[:, 0] = True
        keep[:, -1] = True
        out = linear_fill(out, keep)
    # (3) jitter of the coordinates
    if jitter_std > 0:
        noise = draw('randn', (N, T, V, nc), generator, dev)
        noise = torch.cat(
            [noise.to(x.dtype) * jitter_std,
             x.new_zeros(N, T, V, C - nc)], -1)
        out = out + noise
    out = torch.where(dyn[:, None, :, None], out, x)
    # missing frames are left as they came (zero): never invented here
    out = torch.where(valid[..., None, None], out, x)
    return to_caller(out.reshape(seq.shape), as_numpy, dtype)


def perturb_static(seq,
                   static,
                   valid=None,
                   num_coords: Optional[int] = None,
                   mirror_prob: float = 0.5,
                   max_rotation: float = 10.0,
                   scale_range: Tuple[float, float] = (0.9, 1.1),
                   flip_index: Optional[Sequence[int]] = None,
                   generator: RandomSource = None):
    """``S_stat``: weak spatial perturbation of static joints only.

    Per sequence: with ``mirror_prob`` mirror about the body centre line
    (``x -> 2 c_x - x``, ``c_x`` the per-frame mean of all joints; a static
    joint takes its mirrored left/right partner from ``flip_index`` when that
    partner is static too, so a mirrored pair of limbs stays anatomically
    placed); then rotate by ``U(-max_rotation, max_rotation)`` degrees in the
    plane of the first two coordinates and scale by ``U(*scale_range)``, both
    about the per-frame body centre.

    Args:
        seq: ``(..., T, V, C)`` numpy or torch.
        static: ``(..., V)`` bool joint mask; other joints are copied.
        valid: ``(..., T)`` bool, default: non-zero frames (missing frames
            are returned unchanged).
        num_coords (int, optional): Coordinate channels; default: all.
        mirror_prob, max_rotation, scale_range: Perturbation strengths.
        flip_index (Sequence[int], optional): Left/right partner per joint.
        generator (torch.Generator | ReplayedDraws, optional): Source of
            randomness.

    Returns:
        Same type and shape as ``seq``.
    """
    dtype, as_numpy, x, valid, stat, nc = _prepare_perturbation(
        seq, static, valid, num_coords)
    N, T, V, C = x.shape
    dev = x.device

    coords = x[..., :nc]
    centre = coords.mean(2, keepdim=True)  # (N, T, 1, nc)
    # mirror (with the partner's data where the partner is static too)
    src = x
    if flip_index is not None:
        flip = torch.as_tensor(list(flip_index), device=dev).long()
        if len(flip) != V:
            raise ValueError(f'flip_index has {len(flip)} joints, the data '
                             f'{V}.')
        joint = torch.arange(V, device=dev)
        src_idx = torch.where(stat[:, flip], flip, joint)  # (N, V)
        src = torch.gather(
            x, 2, src_idx[:, None, :, None].expand(N, T, V, C))
    mirrored = torch.cat(
        [2 * centre[..., :1] - src[..., :1], src[..., 1:]], -1)
    do_mirror = draw('rand', (N, ), generator, dev) < mirror_prob
    y = torch.where(do_mirror[:, None, None, None], mirrored, x)
    # rotation and scale about the body centre
    rel = y[..., :nc] - centre
    scale = _uniform(N, scale_range[0], scale_range[1], generator,
                     dev).to(x.dtype)[:, None, None, None]
    if nc >= 2 and max_rotation > 0:
        theta = _uniform(N, -max_rotation, max_rotation, generator,
                         dev).to(x.dtype) * (math.pi / 180)
        cos, sin = theta.cos()[:, None, None], theta.sin()[:, None, None]
        u, v = rel[..., 0], rel[..., 1]
        rel = torch.cat([
            (cos * u - sin * v)[..., None], (sin * u + cos * v)[..., None],
            rel[..., 2:]
        ], -1)
    y = torch.cat([centre + rel * scale, y[..., nc:]], -1)
    out = torch.where(stat[:, None, :, None], y, x)
    out = torch.where(valid[..., None, None], out, x)
    return to_caller(out.reshape(seq.shape), as_numpy, dtype)


def decompose_regions(seq,
                      regions: RegionSpec = 'coco',
                      valid=None,
                      num_dynamic: int = 2,
                      num_coords: Optional[int] = None,
                      flip_index: Union[str, Sequence[int], None] = 'auto',
                      perturb: bool = True,
                      generator: RandomSource = None,
                      **perturb_cfg) -> Dict:
    """Region motion, dynamic/static split and the two perturbed variants.

    Args:
        seq: ``(..., T, V, C)`` numpy or torch (``S_base``).
        regions (str | list[list[int]]): Layout name or custom regions.
        valid: ``(..., T)`` bool (broadcastable), default: non-zero frames.
        num_dynamic (int): Dynamic regions per sequence (SPEC: 2).
        num_coords (int, optional): See :func:`resolve_num_coords`.
        flip_index: ``'auto'`` (the layout's table), ``None`` or a list.
        perturb (bool): ``False`` returns unperturbed copies (test mode).
        generator (torch.Generator | ReplayedDraws, optional): Source of
            randomness.
        **perturb_cfg: Overrides of :data:`DEFAULT_PERTURB_CFG`.

    Returns:
        dict: ``dyna`` and ``stat`` ``(..., T, V, C)``, ``dynamic`` and
        ``static`` joint masks ``(..., V)``, ``motion`` ``(..., R)``; same
        array type as ``seq``.
    """
    unknown = set(perturb_cfg) - set(DEFAULT_PERTURB_CFG)
    if unknown:
        raise TypeError(f'Unknown perturbation options {sorted(unknown)}; '
                        f'expected {sorted(DEFAULT_PERTURB_CFG)}.')
    cfg = dict(DEFAULT_PERTURB_CFG, **perturb_cfg)
    V, C = seq.shape[-2:]
    table = get_regions(regions, V)
    nc = resolve_num_coords(regions, C, num_coords)
    if isinstance(flip_index, str):
        if flip_index != 'auto':
            raise ValueError(f"flip_index must be 'auto', None or a list, "
                             f'got {flip_index!r}.')
        flip_index = get_flip_index(regions)
    motion = region_motion(seq[..., :nc], valid, table)
    dynamic, static = split_dynamic_static(motion, table, V, num_dynamic)
    if perturb:
        dyna = perturb_dynamic(
            seq,
            dynamic,
            valid,
            nc,
            crop_ratio=cfg['crop_ratio'],
            drop_prob=cfg['drop_prob'],
            jitter_std=cfg['jitter_std'],
            generator=generator)
        stat = perturb_static(
            seq,
            static,
            valid,
            nc,
            mirror_prob=cfg['mirror_prob'],
            max_rotation=cfg['max_rotation'],
            scale_range=cfg['scale_range'],
            flip_index=flip_index,
            generator=generator)
    else:
        dyna = seq.copy() if isinstance(seq, np.ndarray) else seq.clone()
        stat = seq.copy() if isinstance(seq, np.ndarray) else seq.clone()
    return dict(
        dyna=dyna, stat=stat, dynamic=dynamic, static=static, motion=motion)
