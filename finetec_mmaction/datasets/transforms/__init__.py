from .corruption import (DuplicateMissingFrames, FormatCorruptionTargets,
                         InterpolateMissingFrames, TemporalCorruption)

__all__ = [
    'DuplicateMissingFrames', 'FormatCorruptionTargets',
    'InterpolateMissingFrames', 'TemporalCorruption'
]
