"""Prompt pairs of module ①: bank sequences and the masks that corrupt them,
drawn with the same masking as the data (:mod:`finetec_mmaction.core.masking`)."""
from typing import Sequence, Tuple, Union

import numpy as np
import torch

from ...core.masking import (choose_strategy, frame_speed, resolve_ratio,
                             sample_valid_mask)


def sample_prompt_pairs(sequences: torch.Tensor, num: int, seed: int,
                        ratio: Union[float, Tuple[float, float]],
                        strategies: Sequence[str]
                        ) -> Tuple[torch.Tensor, torch.Tensor]:
    """``num`` prompt pairs: bank sequences and their validity masks.

    Args:
        sequences (torch.Tensor): ``(N, T, K, C)`` the bank.
        num (int): Pairs to draw.
        seed (int): Seed of the draw (sequences, strategies, ratios, masks).
        ratio (float | tuple): Missing ratio, or a range drawn per prompt.
        strategies (Sequence[str]): One drawn per prompt.

    Returns:
        tuple: ``S_context`` ``(num, T, K, C)`` and its validity mask
        ``(num, T)`` bool (``S_mask`` = ``S_context`` zeroed where it is
        ``False``).
    """
    rng = np.random.default_rng(seed)
    index = rng.integers(0, len(sequences), num)
    device = sequences.device
    context = sequences[torch.as_tensor(index, device=device)]
    masks = []
    for i in range(num):
        strategy = choose_strategy('mixed', rng, strategies)
        speed = frame_speed(context[i, None].cpu().numpy()) \
            if strategy == 'motion' else None
        masks.append(
            sample_valid_mask(sequences.shape[1], resolve_ratio(ratio, rng),
                              strategy, rng, speed=speed))
    return context, torch.as_tensor(np.stack(masks), device=device)
