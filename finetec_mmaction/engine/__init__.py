"""Runner hooks (``HOOKS``) and optimizer wrappers (``OPTIM_WRAPPERS``)."""
from .hooks import (CheckpointCompatibilityHook, CorruptionDigestHook,
                    corruption_digest)
from .optimizers import AutocastOptimWrapper, enable_amp

__all__ = [
    'CheckpointCompatibilityHook', 'CorruptionDigestHook', 'corruption_digest',
    'AutocastOptimWrapper', 'enable_amp'
]
