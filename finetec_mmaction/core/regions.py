"""Skeleton regions, region motion and the dynamic / static perturbations of
FineTec's spatial decomposition (SPEC §②).

This is the single implementation behind the :class:`RegionDecomposition`
pipeline transform (numpy, one sample) and the in-model
:class:`SpatialDecomposition` (torch, a batch). Every public function accepts
``np.ndarray`` *or* ``torch.Tensor``: the work is done in torch and numpy
inputs get numpy outputs back, so both callers run the same code.

Shapes: sequences are ``(..., T, V, C)`` (any leading dims, e.g. ``(M, T, V,
C)`` in the pipeline or ``(B, M, T, V, C)`` in the model), frame validity is
``(..., T)`` bool, region motion ``(..., R)``, joint masks ``(..., V)`` bool.
Only the first ``num_coords`` channels are coordinates; any further channel
(a keypoint score) is carried along by the temporal operations but never
moved spatially.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from .fill import frame_validity, gather_time, linear_fill, neighbour_frames

#: Five body regions per layout (SPEC §②), as lists of joint indices.
REGIONS = {
    # head, left arm, right arm, left leg, right leg
    'coco': [[0, 1, 2, 3, 4], [5, 7, 9], [6, 8, 10], [11, 13, 15],
             [12, 14, 16]],
    # torso/head, left arm, right arm, left leg, right leg
    'nturgb+d': [[0, 1, 2, 3, 20], [4, 5, 6, 7, 21, 22],
                 [8, 9, 10, 11, 23, 24], [12, 13, 14, 15],
                 [16, 17, 18, 19]],
}

#: Region names, in the order of :data:`REGIONS`.
REGION_NAMES = {
    'coco': ('head', 'left_arm', 'right_arm', 'left_leg', 'right_leg'),
    'nturgb+d': ('torso_head', 'left_arm', 'right_arm', 'left_leg',
                 'right_leg'),
}

#: Number of joints of each known layout.
NUM_JOINTS = {'coco': 17, 'nturgb+d': 25}

#: Coordinate channels of each layout in MMAction2's skeleton data (COCO-17
#: keypoints are 2D HRNet detections; NTU skeletons are 3D Kinect joints).
COORD_DIMS = {'coco': 2, 'nturgb+d': 3}

#: Left/right partner of every joint (itself on the centre line), used to
#: keep a mirrored body anatomically consistent.
FLIP_INDEX = {
    'coco': [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15],
    'nturgb+d': [0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 16, 17, 18, 19, 12,
                 13, 14, 15, 20, 23, 24, 21, 22],
}

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

RegionSpec = Union[str, Sequence[Sequence[int]]]


# ----------------------------------------------------------------------------
# numpy <-> torch: one implementation for both
# ----------------------------------------------------------------------------
def _to_torch(x):
    """Return ``(tensor, was_numpy)``; numpy floats are computed in float32
    (float16 pickles would lose precision in the differences)."""
    if isinstance(x, torch.Tensor):
        return x, False
    x = np.asarray(x)
    if x.dtype.kind == 'f' and x.dtype != np.float64:
        x = x.astype(np.float32)
    return torch.from_numpy(np.ascontiguousarray(x)), True


def _back(x: torch.Tensor, as_numpy: bool, dtype=None):
    if not as_numpy:
        return x
    out = x.detach().cpu().numpy()
    return out.astype(dtype) if dtype is not None else out


# ----------------------------------------------------------------------------
# Region tables
# ----------------------------------------------------------------------------
def get_regions(layout_or_regions: RegionSpec,
                num_joints: Optional[int] = None) -> List[List[int]]:
    """Resolve a layout name or a custom region list into joint lists.

    Args:
        layout_or_regions (str | list[list[int]]): ``'coco'``,
            ``'nturgb+d'`` or a list of joint-index lists (one per region).
        num_joints (int, optional): Number of joints of the data; when given,
            every index must lie in ``[0, num_joints)``. Known layouts check
            against their own joint count.

    Returns:
        list[list[int]]: The regions. Joints need not cover the skeleton
        (uncovered joints are neither dynamic nor static), but no joint may
        belong to two regions.
    """
    if isinstance(layout_or_regions, str):
        layout = layout_or_regions
        if layout not in REGIONS:
            raise ValueError(
                f"layout '{layout}' has no region table; pass "
                'regions=[[...], ...] in the config (known layouts: '
                f'{sorted(REGIONS)}).')
        if num_joints is not None and num_joints != NUM_JOINTS[layout]:
            raise ValueError(
                f"layout '{layout}' has {NUM_JOINTS[layout]} joints but the "
                f'data has {num_joints}.')
        return [list(r) for r in REGIONS[layout]]

    regions = [[int(j) for j in region] for region in layout_or_regions]
    if len(regions) < 2:
        raise ValueError(f'Need at least two regions, got {regions}.')
    seen = {}
    for i, region in enumerate(regions):
        if not region:
            raise ValueError(f'Region {i} is empty: {regions}.')
        for j in region:
            if j < 0 or (num_joints is not None and j >= num_joints):
                raise ValueError(
                    f'Region {i} references joint {j}, out of range for '
                    f'{num_joints} joints: {regions}.')
            if j in seen:
                raise ValueError(
                    f'Joint {j} belongs to regions {seen[j]} and {i}; '
                    'regions must not overlap.')
            seen[j] = i
    return regions


def get_flip_index(layout: RegionSpec) -> Optional[List[int]]:
    """Left/right partner of each joint for a known layout, else ``None``
    (mirroring then keeps every joint on its own index)."""
    if isinstance(layout, str):
        return list(FLIP_INDEX[layout]) if layout in FLIP_INDEX else None
    return None


def resolve_num_coords(layout: RegionSpec, channels: int,
                       num_coords: Optional[int] = None) -> int:
    """Number of coordinate channels: explicit, else the layout's
    (:data:`COORD_DIMS`, e.g. 2 for COCO so an appended score is not
    moved), else every channel."""
    if num_coords is None:
        num_coords = COORD_DIMS.get(layout, channels) if isinstance(
            layout, str) else channels
    return int(min(num_coords, channels))


def _membership(regions: Sequence[Sequence[int]], num_joints: int,
                device=None) -> torch.Tensor:
    """``(V, R)`` 0/1 matrix: joint ``v`` belongs to region ``r``."""
    member = torch.zeros(num_joints, len(regions), device=device)
    for r, region in enumerate(regions):
        if max(region) >= num_joints:
            raise ValueError(f'Region {r} references joint {max(region)} '
                             f'but the data has {num_joints} joints.')
        member[list(region), r] = 1
    return member


# ----------------------------------------------------------------------------
# Region motion and the dynamic / static split
# ----------------------------------------------------------------------------
def _flat(seq: torch.Tensor, valid: Optional[torch.Tensor]):
    """``(..., T, V, C)`` -> ``(N, T, V, C)`` and ``(N, T)`` validity."""
    lead = seq.shape[:-3]
    T, V, C = seq.shape[-3:]
    if valid is None:
        valid = frame_validity(seq)
    valid = torch.as_tensor(valid, device=seq.device).bool()
    valid = valid.expand(lead + (T, )).reshape(-1, T)
    return seq.reshape(-1, T, V, C), valid, lead


def region_motion(seq, valid=None, regions: RegionSpec = 'coco'):
    """Mean frame-to-frame joint displacement of every region.

    For each joint, the displacement between consecutive *observed* frames
    ``t < t'`` is ``||S_t' - S_t|| / (t' - t)`` (a per-frame speed, so a gap
    left by missing frames neither inflates nor discards the motion across
    it; without gaps this is the plain ``||S_{t+1} - S_t||``). It is averaged
    over the observed pairs, then over the region's joints.

    Args:
        seq (np.ndarray | torch.Tensor): ``(..., T, V, C)`` coordinates only
            (slice off a score channel first).
        valid (np.ndarray | torch.Tensor, optional): ``(..., T)`` (or
            broadcastable, e.g. ``(T,)``) bool; default: non-zero frames.
        regions (str | list[list[int]]): Layout name or custom regions.

    Returns:
        Same type as ``seq``: ``(..., R)`` float motion per region.
    """
    seq, as_numpy = _to_torch(seq)
    if valid is not None:
        valid, _ = _to_torch(valid)
    regions = get_regions(regions)
    x, valid, lead = _flat(seq.float(), valid)
    N, T, V, _ = x.shape
    idx = torch.arange(T, device=x.device)
    # first observed frame strictly after t (T where none)
    nxt_incl = neighbour_frames(valid)[1]
    nxt = torch.cat([nxt_incl[:, 1:], nxt_incl.new_full((N, 1), T)], 1)
    pair = valid & (nxt < T)
    nxt_c = nxt.clamp(max=T - 1)
    gap = (nxt_c - idx).clamp(min=1).to(x.dtype)
    step = (gather_time(x, nxt_c) - x).norm(dim=-1) / gap[..., None]
    pair_f = pair.to(x.dtype)[..., None]  # (N, T, 1)
    joint = (step * pair_f).sum(1) / pair_f.sum(1).clamp(min=1)  # (N, V)
    member = _membership(regions, V, x.device)
    motion = joint @ (member / member.sum(0, keepdim=True))
    return _back(motion.reshape(lead + (len(regions), )), as_numpy)


def split_dynamic_static(motion,
                         regions: RegionSpec = 'coco',
                         num_joints: Optional[int] = None,
                         num_dynamic: int = 2):
    """Top-``num_dynamic`` regions by motion are dynamic, the rest static.

    Ties (e.g. a motionless padded person) resolve to the earlier region.

    Args:
        motion (np.ndarray | torch.Tensor): ``(..., R)`` region motion.
        regions (str | list[list[int]]): The regions ``motion`` refers to.
        num_joints (int, optional): ``V`` of the masks; default: the
            layout's joint count, or one past the largest region index.
        num_dynamic (int): Number of dynamic regions (SPEC: 2).

    Returns:
        tuple: ``(dynamic, static)`` joint masks ``(..., V)`` bool, same type
        as ``motion``. Joints in no region are in neither mask.
    """
    motion, as_numpy = _to_torch(motion)
    if isinstance(regions, str) and num_joints is None:
        num_joints = NUM_JOINTS.get(regions)
    regions = get_regions(regions, num_joints)
    if num_joints is None:
        num_joints = max(max(r) for r in regions) + 1
    if motion.shape[-1] != len(regions):
        raise ValueError(f'motion has {motion.shape[-1]} regions, the '
                         f'table {len(regions)}.')
    if not 0 < num_dynamic < len(regions):
        raise ValueError(f'num_dynamic must lie in [1, {len(regions) - 1}] '
                         f'for {len(regions)} regions, got {num_dynamic}.')
    # place of each region in a stable descending sort (ties: the earlier
    # region first), by pairwise comparison: ONNX has no stable sort
    num_regions = motion.shape[-1]
    earlier = torch.ones(num_regions, num_regions, dtype=torch.bool,
                         device=motion.device).tril(-1)  # [r, s]: s < r
    other, this = motion[..., None, :], motion[..., :, None]
    place = ((other > this) | ((other == this) & earlier)).sum(-1)
    dyn_region = place < num_dynamic
    member = _membership(regions, num_joints, motion.device)  # (V, R)
    dynamic = (dyn_region.float() @ member.T) > 0
    static = ((~dyn_region).float() @ member.T) > 0
    return _back(dynamic, as_numpy), _back(static, as_numpy)


# ----------------------------------------------------------------------------
# Perturbations
# ----------------------------------------------------------------------------
class ReplayedDraws:
    """The random draws of one seeded generator, made once and replayed.

    Pass it as the ``generator`` of :func:`perturb_dynamic`,
    :func:`perturb_static` or :func:`decompose_regions` to give every sample
    of a batch the draws of ``torch.Generator().manual_seed(seed)``: the
    numbers are drawn on first use, per sample (``group`` sequences, e.g.
    the ``M`` persons), and then replayed, the same for each sample and each
    call. Call :meth:`rewind` before each use. No Python loop over the
    samples and no random op is left in the computation, so a model whose
    test-time variants are seeded exports to ONNX with the same numbers.

    Args:
        seed (int): Seed of the generator.
        group (int): Sequences per sample; a draw for ``N = B * group``
            sequences is the draw for ``group`` sequences tiled ``B`` times.
    """

    def __init__(self, seed: int, group: int = 1) -> None:
        self.seed = int(seed)
        self.group = int(group)
        self._draws: List[Tuple[str, Tuple[int, ...], torch.Tensor]] = []
        self._next = 0
        self._generator: Optional[torch.Generator] = None

    def rewind(self) -> 'ReplayedDraws':
        """Replay from the first draw."""
        self._next = 0
        return self

    def draw(self, kind: str, shape: Sequence[int]) -> torch.Tensor:
        """The next draw, ``'rand'`` or ``'randn'``, of ``shape`` (its first
        dim a multiple of ``group``)."""
        shape = tuple(int(d) for d in shape)
        if shape[0] % self.group:
            raise ValueError(f'A draw for {shape[0]} sequences is not made '
                             f'of samples of {self.group}.')
        size = (self.group, ) + shape[1:]
        if self._next == len(self._draws):
            if self._generator is None:
                self._generator = torch.Generator().manual_seed(self.seed)
            sample = torch.rand if kind == 'rand' else torch.randn
            self._draws.append(
                (kind, size, sample(size, generator=self._generator)))
        recorded_kind, recorded_size, value = self._draws[self._next]
        if (recorded_kind, recorded_size) != (kind, size):
            raise RuntimeError(
                f'Draw {self._next} asks for {kind}{size}, but {recorded_kind}'
                f'{recorded_size} was recorded: call rewind() before each '
                'use and keep one ReplayedDraws per input shape.')
        self._next += 1
        return value.repeat((shape[0] // self.group, ) +
                            (1, ) * (value.dim() - 1))


RandomSource = Union[torch.Generator, ReplayedDraws, None]


def _draw(kind: str, shape: Sequence[int], generator: RandomSource, device):
    """``torch.rand`` / ``torch.randn`` of ``shape`` from ``generator``
    (drawn on the CPU, as the seeded draws are), moved to ``device``."""
    if isinstance(generator, ReplayedDraws):
        return generator.draw(kind, shape).to(device)
    sample = torch.rand if kind == 'rand' else torch.randn
    return sample(tuple(shape), generator=generator).to(device)


def _uniform(n, low, high, generator, device):
    return low + (high - low) * _draw('rand', (n, ), generator, device)


def _prepare_perturbation(seq, joints, valid, num_coords):
    """Shared prologue of the perturbations: torch views ``(N, T, V, C)``,
    the ``(N, V)`` joint mask, the coordinate channel count, and what is
    needed to hand the result back in the caller's type."""
    dtype = seq.dtype if isinstance(seq, np.ndarray) else None
    seq, as_numpy = _to_torch(seq)
    joints, _ = _to_torch(joints)
    if valid is not None:
        valid, _ = _to_torch(valid)
    x, valid, lead = _flat(seq, valid)
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
        start = _draw('rand', (N, ), generator, dev) * (T - 1 - length)
        tau = start[:, None] + torch.linspace(
            0, 1, T, device=dev)[None] * length[:, None]
        i0 = tau.floor().long().clamp(0, T - 1)
        i1 = (i0 + 1).clamp(max=T - 1)
        w = (tau - i0.to(tau.dtype)).clamp(0, 1).to(x.dtype)[..., None, None]
        out = gather_time(out, i0) * (1 - w) + gather_time(out, i1) * w
        # (2) random frame drop, re-filled by interpolation
        keep = _draw('rand', (N, T), generator, dev) >= drop_prob
        keep[:, 0] = True
        keep[:, -1] = True
        out = linear_fill(out, keep)
    # (3) jitter of the coordinates
    if jitter_std > 0:
        noise = _draw('randn', (N, T, V, nc), generator, dev)
        noise = torch.cat(
            [noise.to(x.dtype) * jitter_std,
             x.new_zeros(N, T, V, C - nc)], -1)
        out = out + noise
    out = torch.where(dyn[:, None, :, None], out, x)
    # missing frames are left as they came (zero): never invented here
    out = torch.where(valid[..., None, None], out, x)
    return _back(out.reshape(seq.shape), as_numpy, dtype)


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
    do_mirror = _draw('rand', (N, ), generator, dev) < mirror_prob
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
    return _back(out.reshape(seq.shape), as_numpy, dtype)


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
