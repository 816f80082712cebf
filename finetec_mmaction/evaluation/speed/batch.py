"""The speed benchmark's input: one packed batch of smooth random skeleton
motion with frames dropped as :class:`TemporalCorruption` drops them."""
from typing import Dict, Sequence

import numpy as np
import torch

from ...core.masking import (PAPER_STRATEGIES, choose_strategy,
                             sample_valid_mask)


def synthetic_batch(batch_size: int = 16,
                    clip_len: int = 100,
                    num_joints: int = 17,
                    num_channels: int = 3,
                    num_person: int = 1,
                    num_clips: int = 1,
                    missing_ratio: float = 0.5,
                    strategies: Sequence[str] = PAPER_STRATEGIES,
                    num_classes: int = 288,
                    seed: int = 0) -> Dict:
    """A packed batch (``inputs``: list of ``(num_clips, M, T, V, C)``,
    ``data_samples``) of smooth random skeleton motion in normalised
    coordinates, scores in ``(0.5, 1)``, with ``missing_ratio`` of the
    frames of every clip dropped (all channels zero) by a strategy drawn
    per sample from ``strategies``."""
    from mmaction.structures import ActionDataSample
    rng = np.random.default_rng(seed)
    shape = (batch_size, num_clips, num_person, clip_len, num_joints)
    pose = rng.uniform(-0.5, 0.5, (batch_size, 1, num_person, 1, num_joints,
                                   2))
    motion = np.cumsum(rng.normal(0, 0.01, shape + (2, )), axis=3)
    coords = pose + motion
    score = rng.uniform(0.5, 1.0, shape + (1, ))
    x = np.concatenate([coords, score], -1)[..., :num_channels]
    if num_channels > 3:
        x = np.concatenate(
            [x, rng.normal(0, 0.1, shape + (num_channels - 3, ))], -1)
    for i in range(batch_size):
        for c in range(num_clips):
            strategy = choose_strategy('mixed', rng, strategies)
            valid = sample_valid_mask(clip_len, missing_ratio, strategy, rng)
            x[i, c, :, ~valid] = 0
    x = torch.from_numpy(x.astype(np.float32))
    samples = [
        ActionDataSample().set_gt_label(int(i % num_classes))
        for i in range(batch_size)
    ]
    return dict(inputs=list(x), data_samples=samples)
