"""Framework-free pieces shared by the data pipeline and the models."""
from .fill import fill_missing_frames, frame_validity
from .masking import (PAPER_STRATEGIES, SEVERITY_LEVELS, STRATEGIES,
                      choose_strategy, frame_speed, num_missing_frames,
                      resolve_ratio, sample_valid_mask, stable_seed)

__all__ = [
    'fill_missing_frames', 'frame_validity', 'PAPER_STRATEGIES',
    'SEVERITY_LEVELS', 'STRATEGIES', 'choose_strategy', 'frame_speed',
    'num_missing_frames', 'resolve_ratio', 'sample_valid_mask', 'stable_seed'
]
