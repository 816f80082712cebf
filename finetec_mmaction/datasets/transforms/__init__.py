from .corruption import (DuplicateMissingFrames, FormatCorruptionTargets,
                         InterpolateMissingFrames, TemporalCorruption)
from .decomposition import RegionDecomposition
from .missing_frames import ZeroFillMissingFrames

__all__ = [
    'DuplicateMissingFrames', 'FormatCorruptionTargets',
    'InterpolateMissingFrames', 'TemporalCorruption', 'RegionDecomposition',
    'ZeroFillMissingFrames'
]
