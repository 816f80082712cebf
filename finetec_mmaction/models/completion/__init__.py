"""Module ①: context-aware sequence completion (in-context learning)."""
from .bank import SkeletonBank, resample_sequence
from .checkpoint import load_completion_weights
from .context_completion import ContextAwareCompletion
from .losses import masked_joint_error, masked_mse
from .mlp_units import SpatialMLP, TemporalMLP, dct_lowpass
from .restoration import TrainingFreeRestoration
from .pretrainer import CompletionPretrainer

__all__ = [
    'CompletionPretrainer', 'ContextAwareCompletion', 'SkeletonBank',
    'SpatialMLP', 'TemporalMLP', 'TrainingFreeRestoration', 'dct_lowpass',
    'load_completion_weights', 'masked_joint_error', 'masked_mse',
    'resample_sequence'
]
