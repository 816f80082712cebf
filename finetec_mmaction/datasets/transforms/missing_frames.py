"""Frames that are missing in the data itself, zero-filled in the pipeline.

:class:`TemporalCorruption` *simulates* missing frames; on a user's own pose
file the frames are really missing (the pose estimator found nobody).
:class:`ZeroFillMissingFrames` takes its place in the test pipeline and
zero-fills those frames after the normalisation, so that they reach the
model exactly as simulated ones do::

    PreNormalize2D / PreNormalize3D
    ZeroFillMissingFrames          # where TemporalCorruption is
    GenSkeFeat, UniformSampleFrames, PoseDecode, FormatGCNInput, ...

The zeros must be put back *after* the normalisation: ``PreNormalize2D`` maps
a zero pixel to -1, and ``PreNormalize3D`` deletes all-zero frames.
"""
from typing import Dict

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS


def zero_fill_frames(results: Dict, missing: np.ndarray) -> None:
    """Set ``keypoint`` and ``keypoint_score`` to exactly zero where
    ``missing``, on copies (the dataset's arrays are left alone).

    Args:
        results (dict): With ``keypoint`` ``(M, T, V, C)`` and optionally
            ``keypoint_score`` ``(M, T, V)``.
        missing (np.ndarray): ``(T,)`` (whole frames) or ``(M, T)`` (per
            person) bool.
    """
    missing = np.asarray(missing, dtype=bool)
    shape = results['keypoint'].shape[:2]
    missing = np.broadcast_to(missing, shape)
    for key in ('keypoint', 'keypoint_score'):
        if key in results:
            filled = results[key].copy()
            filled[missing] = 0
            results[key] = filled


def missing_in_data(results: Dict) -> np.ndarray:
    """``(M, T)`` bool: person frames without data, after normalisation.

    With ``keypoint_score``: every joint has score 0 (the coordinates of a
    zero-filled frame are no longer zero after ``PreNormalize2D``, its
    scores are); without: every coordinate is 0.
    """
    if 'keypoint_score' in results:
        return ~np.any(np.asarray(results['keypoint_score']) != 0, axis=-1)
    return ~np.any(np.asarray(results['keypoint']) != 0, axis=(-1, -2))


@TRANSFORMS.register_module()
class ZeroFillMissingFrames(BaseTransform):
    """Zero-fill the frames that the data lacks (place it where
    :class:`TemporalCorruption` would be, after ``PreNormalize2D/3D``).

    The missing frames are those flagged in ``frame_valid`` (set by the
    readers of :mod:`finetec_mmaction.datasets.readers` and by
    :func:`finetec_mmaction.apis.inference_skeleton`, which also hold the
    frames' place with a copy of a neighbour so that ``PreNormalize3D`` keeps
    them), else those without data: all scores 0 or, without scores, all
    coordinates 0 (:func:`missing_in_data`; e.g. frames zeroed in a
    PoseDataset pickle).

    Required Keys:

        - keypoint: ``(M, T, V, C)``
        - keypoint_score (optional): ``(M, T, V)``
        - frame_valid (optional): ``(T,)`` or ``(M, T)`` bool, ``True`` where
          observed

    Modified Keys:

        - keypoint, keypoint_score: exactly zero on the missing frames

    Added Keys:

        - frame_valid: ``(T,)`` bool, ``True`` where at least one person is
          observed (as :class:`TemporalCorruption` writes it)
    """

    def transform(self, results: Dict) -> Dict:
        keypoint = results['keypoint']
        if keypoint.ndim != 4:
            raise ValueError(
                f'ZeroFillMissingFrames expects keypoint of shape (M, T, V, '
                f'C), got {keypoint.shape} for sample '
                f'{results.get("frame_dir", "?")!r}.')
        if 'frame_valid' in results:
            valid = np.asarray(results['frame_valid'], dtype=bool)
            if valid.shape not in (keypoint.shape[1:2], keypoint.shape[:2]):
                raise ValueError(
                    f'frame_valid of shape {valid.shape} does not fit '
                    f'keypoint {keypoint.shape} (expected (T,) or (M, T)) '
                    f'for sample {results.get("frame_dir", "?")!r}; a '
                    'normalisation that drops frames (PreNormalize3D drops '
                    'all-zero ones) must come after frames are filled.')
            valid = np.broadcast_to(valid, keypoint.shape[:2])
        else:
            valid = ~missing_in_data(results)
        zero_fill_frames(results, ~valid)
        results['frame_valid'] = valid.any(0)
        return results
