from . import transforms
from .pose_dataset import SafePoseDataset
from .safe_pickle import (PickleLoadError, UnsafePickleError,
                          safe_load_pickle, safe_loads_pickle)
from .splits import (HOLDOUT_SUBSETS, carve_holdout, check_holdout_split,
                     describe_split, holdout_split, is_holdout_split,
                     select_holdout_split)
from .synthetic import (SYNTHETIC_GYM_MAX_CLASSES, make_synthetic_gym,
                        synthetic_class_spec, write_synthetic_gym)
from .transforms import *  # noqa: F401,F403
from .validation import (AnnotationFormatError, InvalidSampleError,
                         check_sample, select_split, validate_annotations)

__all__ = [
    'SafePoseDataset', 'PickleLoadError', 'UnsafePickleError',
    'safe_load_pickle', 'safe_loads_pickle', 'HOLDOUT_SUBSETS',
    'carve_holdout', 'check_holdout_split', 'describe_split', 'holdout_split',
    'is_holdout_split', 'select_holdout_split', 'SYNTHETIC_GYM_MAX_CLASSES',
    'make_synthetic_gym', 'synthetic_class_spec', 'write_synthetic_gym',
    'AnnotationFormatError', 'InvalidSampleError', 'check_sample',
    'select_split', 'validate_annotations'
] + transforms.__all__
