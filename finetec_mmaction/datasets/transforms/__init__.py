from .corruption import (DuplicateMissingFrames, FormatCorruptionTargets,
                         InterpolateMissingFrames, TemporalCorruption)
from .decomposition import RegionDecomposition

__all__ = [
    'DuplicateMissingFrames', 'FormatCorruptionTargets',
    'InterpolateMissingFrames', 'TemporalCorruption', 'RegionDecomposition'
]
