"""Skeleton regions and region motion: the dynamic / static split of
FineTec's spatial decomposition (SPEC §②); the perturbations applied to
each part are in :mod:`.perturbation`.

Every public function accepts ``np.ndarray`` *or* ``torch.Tensor`` (see
:mod:`.arrays`), so the :class:`RegionDecomposition` pipeline transform and
the in-model :class:`SpatialDecomposition` run the same code.

Shapes: sequences are ``(..., T, V, C)`` (any leading dims, e.g. ``(M, T, V,
C)`` in the pipeline or ``(B, M, T, V, C)`` in the model), frame validity is
``(..., T)`` bool, region motion ``(..., R)``, joint masks ``(..., V)`` bool.
Only the first ``num_coords`` channels are coordinates; any further channel
(a keypoint score) is carried along by the temporal operations but never
moved spatially.
"""
from typing import List, Optional, Sequence, Union

import torch

from .arrays import to_caller, to_torch
from .fill import frame_validity, gather_time, neighbour_frames

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

RegionSpec = Union[str, Sequence[Sequence[int]]]


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
def flatten_batch(seq: torch.Tensor, valid: Optional[torch.Tensor]):
    """``(..., T, V, C)`` -> ``(N, T, V, C)``, ``(N, T)`` validity (default:
    non-zero frames) and the leading dims to restore."""
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
    seq, as_numpy = to_torch(seq)
    if valid is not None:
        valid, _ = to_torch(valid)
    regions = get_regions(regions)
    x, valid, lead = flatten_batch(seq.float(), valid)
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
    return to_caller(motion.reshape(lead + (len(regions), )), as_numpy)


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
    motion, as_numpy = to_torch(motion)
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
    return to_caller(dynamic, as_numpy), to_caller(static, as_numpy)
