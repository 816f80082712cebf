"""How a skeleton bank is cut and normalised like the model's inputs, and
when a cached bank is stale (used by :class:`.bank.SkeletonBank`)."""
import json
import os
import os.path as osp
from typing import Dict, Tuple

import numpy as np

from mmaction.datasets.transforms import UniformSampleFrames

#: ``frame_sampling`` choices, see :meth:`SkeletonBank.from_annotations`;
#: the first is the default.
FRAME_SAMPLINGS = ('uniform', 'resample')


def resample_sequence(seq: np.ndarray, clip_len: int) -> np.ndarray:
    """Linearly resample a sequence to ``clip_len`` frames.

    Args:
        seq (np.ndarray): ``(L, ...)`` with time first.
        clip_len (int): Target length ``T``.

    Returns:
        np.ndarray: ``(T, ...)``; frame ``i`` sits at ``i * (L - 1) / (T - 1)``
        of the source, so the first and last frames are kept exactly.
    """
    seq = np.asarray(seq)
    length = len(seq)
    if length == clip_len:
        return seq.copy()
    if length == 1 or clip_len == 1:
        return np.repeat(seq[:1], clip_len, axis=0)
    pos = np.linspace(0, length - 1, clip_len)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, length - 1)
    w = (pos - lo).reshape((-1, ) + (1, ) * (seq.ndim - 1))
    return (seq[lo] * (1 - w) + seq[hi] * w).astype(seq.dtype)


def sample_clip_frames(length: int, clip_len: int,
                       seed: int = 255) -> np.ndarray:
    """Frame indices ``(clip_len, )`` of the clip that MMAction2's
    ``UniformSampleFrames(clip_len, num_clips=1, test_mode=True, seed=seed)``
    takes from a sequence of ``length`` frames: a shorter sequence *loops*
    from its first frame, a longer one gives one frame per segment.

    Its own code is called, so bank sequences and input clips cannot drift
    apart; numpy's global random state, which it reseeds, is restored.
    """
    state = np.random.get_state()
    try:
        inds = UniformSampleFrames(
            clip_len, num_clips=1, test_mode=True,
            seed=seed)._get_test_clips(length, clip_len)
    finally:
        np.random.set_state(state)
    return np.mod(inds, length)


def normalize_2d(kp: np.ndarray, img_shape: Tuple[int, int]) -> np.ndarray:
    # identical to mmaction's PreNormalize2D
    h, w = img_shape
    kp = kp.copy()
    kp[..., 0] = (kp[..., 0] - (w / 2)) / (w / 2)
    kp[..., 1] = (kp[..., 1] - (h / 2)) / (h / 2)
    return kp


def normalize_3d(kp: np.ndarray) -> np.ndarray:
    # run the stock transform itself: centring and rotation are per sample
    from mmaction.datasets.transforms import PreNormalize3D
    results = PreNormalize3D().transform(
        dict(keypoint=kp.copy(), total_frames=kp.shape[1]))
    return results['keypoint']


def bank_recipe(cfg: Dict) -> Dict:
    """What a bank built from ``cfg`` (``ann_file``, ``split`` and the
    :meth:`SkeletonBank.from_annotations` options) depends on, to tell a
    stale cache: the options, and the annotation file's size and
    modification time."""
    recipe = {k: v for k, v in cfg.items() if k != 'meta'}
    recipe.setdefault('frame_sampling', FRAME_SAMPLINGS[0])
    path = cfg.get('ann_file')
    if path and osp.isfile(path):
        stat = os.stat(path)
        recipe['ann_file_stat'] = [stat.st_size, stat.st_mtime_ns]
    return json.loads(json.dumps(recipe, default=str))


def stale_keys(meta: Dict, recipe: Dict) -> list:
    """The keys of ``recipe`` a cached bank's ``meta`` disagrees with
    (``['recipe']`` for a bank cached before recipes were recorded)."""
    cached = meta.get('recipe')
    if cached is None:
        return ['recipe']
    return sorted(k for k in set(cached) | set(recipe)
                  if cached.get(k) != recipe.get(k))
