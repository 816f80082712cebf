from .checkpoint_check_hook import CheckpointCompatibilityHook
from .corruption_digest_hook import CorruptionDigestHook, corruption_digest

__all__ = [
    'CheckpointCompatibilityHook', 'CorruptionDigestHook', 'corruption_digest'
]
