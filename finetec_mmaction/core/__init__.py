"""Pieces shared by the data pipeline and the models (no registries here):
masking strategies, fills, region tables, the decomposition's
perturbations, kinematics and the tracking of people across frames."""
from .fill import (akima_fill, fill_missing_frames, frame_validity,
                   gap_distances, gather_time, linear_fill, nearest_fill)
from .kinematics import (finite_difference_acceleration,
                         finite_difference_velocity)
from .masking import (PAPER_STRATEGIES, SEVERITY_LEVELS, STRATEGIES,
                      check_strategy, choose_strategy, frame_speed,
                      num_missing_frames, parse_ratio, resolve_ratio,
                      sample_valid_mask, stable_seed)
from .perturbation import (DEFAULT_PERTURB_CFG, check_perturb_options,
                           decompose_regions, perturb_dynamic, perturb_static)
from .random_draws import ReplayedDraws
from .regions import (COORD_DIMS, FLIP_INDEX, NUM_JOINTS, REGION_NAMES,
                      REGIONS, get_flip_index, get_regions, region_motion,
                      resolve_num_coords, split_dynamic_static)
from .tracking import (box_iou, boxes_from_keypoints, pose_similarity,
                       track_people)

__all__ = [
    'fill_missing_frames', 'frame_validity', 'gap_distances', 'gather_time',
    'akima_fill', 'linear_fill', 'nearest_fill',
    'finite_difference_acceleration', 'finite_difference_velocity',
    'PAPER_STRATEGIES', 'SEVERITY_LEVELS', 'STRATEGIES', 'check_strategy',
    'choose_strategy', 'frame_speed', 'num_missing_frames', 'resolve_ratio',
    'parse_ratio', 'sample_valid_mask', 'stable_seed', 'COORD_DIMS',
    'DEFAULT_PERTURB_CFG', 'check_perturb_options', 'FLIP_INDEX',
    'NUM_JOINTS', 'REGION_NAMES',
    'REGIONS', 'decompose_regions', 'get_flip_index', 'get_regions',
    'perturb_dynamic', 'perturb_static', 'region_motion',
    'resolve_num_coords', 'split_dynamic_static', 'ReplayedDraws', 'box_iou',
    'boxes_from_keypoints', 'pose_similarity', 'track_people'
]
