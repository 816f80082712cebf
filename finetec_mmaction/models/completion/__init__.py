"""Module ①: context-aware sequence completion (in-context learning)."""
from .bank import SkeletonBank, resample_sequence
from .checkpoint import load_completion_weights
from .context_completion import (ContextAwareCompletion, SpatialMLP,
                                 TemporalMLP, masked_mse)
from .pretrainer import CompletionPretrainer

__all__ = [
    'CompletionPretrainer', 'ContextAwareCompletion', 'SkeletonBank',
    'SpatialMLP', 'TemporalMLP', 'load_completion_weights', 'masked_mse',
    'resample_sequence'
]
