from . import transforms
from .pose_dataset import SafePoseDataset
from .safe_pickle import (PickleLoadError, UnsafePickleError,
                          safe_load_pickle, safe_loads_pickle)
from .synthetic import (SYNTHETIC_GYM_MAX_CLASSES, make_synthetic_gym,
                        synthetic_class_spec, write_synthetic_gym)
from .transforms import *  # noqa: F401,F403
from .validation import (AnnotationFormatError, InvalidSampleError,
                         check_sample, select_split, validate_annotations)

__all__ = [
    'SafePoseDataset', 'PickleLoadError', 'UnsafePickleError',
    'safe_load_pickle', 'safe_loads_pickle', 'SYNTHETIC_GYM_MAX_CLASSES',
    'make_synthetic_gym', 'synthetic_class_spec', 'write_synthetic_gym',
    'AnnotationFormatError', 'InvalidSampleError', 'check_sample',
    'select_split', 'validate_annotations'
] + transforms.__all__
