"""Temporal corruption (missing frames) and classical fills as pipeline
transforms.

Placement in a stock skeleton pipeline::

    PreNormalize2D / PreNormalize3D      # normalise first: it would move the
    TemporalCorruption                   # zeros (2D) or delete them (3D)
    [InterpolateMissingFrames |          # optional classical restoration
     DuplicateMissingFrames]
    GenSkeFeat, UniformSampleFrames, PoseDecode, FormatGCNInput
    [FormatCorruptionTargets]            # only to supervise / score restoration
    PackActionInputs

Missing frames are zero-filled in coordinates *and* score, so they stay
exactly zero through the stock sampling and formatting transforms and the
validity mask can be read back from the model input with
:func:`finetec_mmaction.core.frame_validity`.
"""
from typing import Dict, Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS
from ...core.fill import bounded_fill, fill_missing_frames, frame_validity
from ...core.masking import (STRATEGIES, RatioSpec, check_strategy,
                             choose_strategy, frame_speed, resolve_ratio,
                             sample_valid_mask, stable_seed)
from .missing_frames import zero_fill_frames


def _sample_name(results: Dict) -> str:
    for key in ('frame_dir', 'filename'):
        if key in results:
            return str(results[key])
    raise KeyError('Deterministic (test-mode) corruption needs a sample '
                   'identifier: the sample has neither "frame_dir" nor '
                   '"filename".')


@TRANSFORMS.register_module()
class TemporalCorruption(BaseTransform):
    """Drop whole frames of a skeleton sequence and zero-fill them in place.

    Required Keys:

        - keypoint: ``(M, T, V, C)``
        - keypoint_score (optional): ``(M, T, V)``
        - frame_dir (test mode)

    Modified Keys:

        - keypoint, keypoint_score: missing frames set to exactly zero

    Added Keys:

        - frame_valid: ``(T,)`` bool, ``True`` where the frame is observed
          (combined with any ``frame_valid`` already present)
        - corrupt_ratio (float), corrupt_strategy (str)
        - keypoint_clean, keypoint_score_clean (if ``keep_clean``)

    Args:
        ratio (float | str | tuple): Fraction of frames to drop, a level
            name (``'minor'`` 0.25, ``'moderate'`` 0.5, ``'severe'`` 0.75,
            ``'clean'`` 0) or a ``(low, high)`` range drawn per sample.
            ``ceil(ratio * T)`` frames are dropped, never all of them.
        strategy (str): ``'random'``, ``'pattern'``, ``'prefix'``,
            ``'suffix'``, ``'in-between'``, ``'burst'``, ``'motion'`` or
            ``'mixed'`` (a strategy from ``mixed_strategies`` per sample).
        test_mode (bool): Deterministic masks seeded by
            ``(seed, frame_dir)``, so every method sees the same corrupted
            test set. In training masks are redrawn every time (following
            numpy's global seed, which mmengine sets per worker).
        seed (int): Seed of the test-time masks.
        keep_clean (bool): Keep the uncorrupted sequence for supervision and
            restoration metrics (see :class:`FormatCorruptionTargets`).
        mixed_strategies (Sequence[str]): Choices of ``'mixed'``.
        num_bursts (int): Number of gaps of ``'burst'``.
        motion_power (float): Exponent of the speed weighting of
            ``'motion'``.
    """

    def __init__(self,
                 ratio: RatioSpec = 'moderate',
                 strategy: str = 'random',
                 test_mode: bool = False,
                 seed: int = 0,
                 keep_clean: bool = False,
                 mixed_strategies: Sequence[str] = STRATEGIES,
                 num_bursts: int = 3,
                 motion_power: float = 2.0) -> None:
        resolve_ratio(ratio, np.random.default_rng(0))  # validate early
        check_strategy(strategy)
        unknown = set(mixed_strategies) - set(STRATEGIES)
        if unknown:
            raise ValueError(f'Unknown strategies in mixed_strategies: '
                             f'{sorted(unknown)}.')
        self.ratio = ratio
        self.strategy = strategy
        self.test_mode = test_mode
        self.seed = seed
        self.keep_clean = keep_clean
        self.mixed_strategies = tuple(mixed_strategies)
        self.num_bursts = num_bursts
        self.motion_power = motion_power

    def _rng(self, results: Dict) -> np.random.Generator:
        if self.test_mode:
            return np.random.default_rng(
                stable_seed(self.seed, _sample_name(results)))
        return np.random.default_rng(np.random.randint(0, 2**31 - 1))

    def transform(self, results: Dict) -> Dict:
        keypoint = results['keypoint']
        if keypoint.ndim != 4:
            raise ValueError(
                f'TemporalCorruption expects keypoint of shape (M, T, V, C), '
                f'got {keypoint.shape} for sample '
                f'{results.get("frame_dir", "?")!r}.')
        num_frames = keypoint.shape[1]
        rng = self._rng(results)
        strategy = choose_strategy(self.strategy, rng, self.mixed_strategies)
        ratio = resolve_ratio(self.ratio, rng)
        speed = frame_speed(keypoint) if strategy == 'motion' else None
        valid = sample_valid_mask(
            num_frames,
            ratio,
            strategy,
            rng,
            speed=speed,
            num_bursts=self.num_bursts,
            motion_power=self.motion_power)

        if self.keep_clean:
            results['keypoint_clean'] = keypoint.copy()
            if 'keypoint_score' in results:
                results['keypoint_score_clean'] = \
                    results['keypoint_score'].copy()
        zero_fill_frames(results, ~valid)
        if 'frame_valid' in results:
            valid = valid & np.asarray(results['frame_valid'], dtype=bool)
        results['frame_valid'] = valid
        results['corrupt_ratio'] = ratio
        results['corrupt_strategy'] = strategy
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(ratio={self.ratio!r}, '
                f'strategy={self.strategy!r}, test_mode={self.test_mode}, '
                f'seed={self.seed}, keep_clean={self.keep_clean})')


class _FillMissingFrames(BaseTransform):
    """Restore zero-filled frames on the original time line (before
    sampling), from ``frame_valid`` or, without it, from the zeros."""

    method: str = ''

    def transform(self, results: Dict) -> Dict:
        keypoint = results['keypoint']
        if 'frame_valid' in results:
            valid = np.asarray(results['frame_valid'], dtype=bool)
        else:
            valid = frame_validity(keypoint).any(0)
        results['keypoint'] = fill_missing_frames(keypoint, valid,
                                                  self.method, axis=1)
        if 'keypoint_score' in results:
            results['keypoint_score'] = fill_missing_frames(
                results['keypoint_score'], valid, bounded_fill(self.method),
                axis=1)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}()'


@TRANSFORMS.register_module()
class InterpolateMissingFrames(_FillMissingFrames):
    """Fill missing frames by interpolating between the observed neighbours
    (ends held constant). Place after :class:`TemporalCorruption`.

    Modified Keys: keypoint ``(M, T, V, C)``, keypoint_score ``(M, T, V)``.

    Args:
        method (str): ``'linear'`` (the paper's "Interpolation") or
            ``'akima'`` (piecewise cubic, see
            :func:`finetec_mmaction.core.fill.akima_fill`; scores are still
            filled linearly). Defaults to ``'linear'``.
    """

    def __init__(self, method: str = 'linear') -> None:
        if method not in ('linear', 'akima'):
            raise ValueError('InterpolateMissingFrames method must be '
                             f'"linear" or "akima", got {method!r}.')
        self.method = method

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(method={self.method!r})'


@TRANSFORMS.register_module()
class DuplicateMissingFrames(_FillMissingFrames):
    """Fill each missing frame with a copy of the nearest observed frame.
    Place after :class:`TemporalCorruption`.

    Modified Keys: keypoint ``(M, T, V, C)``, keypoint_score ``(M, T, V)``.
    """
    method = 'nearest'


@TRANSFORMS.register_module()
class FormatCorruptionTargets(BaseTransform):
    """Sample and format the validity mask (and the clean sequence) exactly
    like :class:`PoseDecode` + :class:`FormatGCNInput` did the input.

    Place after ``FormatGCNInput``; pass the keys on with
    ``PackActionInputs(algorithm_keys=('frame_valid', 'keypoint_clean'))``.

    Required Keys:

        - frame_inds, frame_valid, num_clips (optional), offset (optional)
        - keypoint_clean, keypoint_score_clean (optional)

    Modified Keys:

        - frame_valid: ``(num_clips, clip_len)`` bool
        - keypoint_clean: ``(num_clips, M, clip_len, V, C')`` float32 joint
          coordinates, the score appended as a channel when present (matches
          a ``GenSkeFeat(feats=['j'])`` input)

    Args:
        num_person (int): Persons to pad or cut to, as in ``FormatGCNInput``.
        mode (str): ``'zero'`` or ``'loop'`` person padding.
    """

    def __init__(self, num_person: int = 2, mode: str = 'zero') -> None:
        if mode not in ('zero', 'loop'):
            raise ValueError(f'mode must be "zero" or "loop", got {mode!r}.')
        self.num_person = num_person
        self.mode = mode

    def _format_persons(self, keypoint: np.ndarray) -> np.ndarray:
        num_person = keypoint.shape[0]
        if num_person < self.num_person:
            pad = np.zeros((self.num_person - num_person, ) + keypoint.shape[1:],
                           dtype=keypoint.dtype)
            if self.mode == 'loop' and num_person == 1:
                pad[:] = keypoint[0]
            keypoint = np.concatenate([keypoint, pad], axis=0)
        return keypoint[:self.num_person]

    def transform(self, results: Dict) -> Dict:
        if 'frame_valid' not in results:
            raise KeyError('FormatCorruptionTargets needs "frame_valid": put '
                           'TemporalCorruption earlier in the pipeline.')
        # reshape, not squeeze: a one-frame clip must keep its time axis
        inds = np.asarray(results['frame_inds']).reshape(-1) + \
            results.get('offset', 0)
        num_clips = results.get('num_clips', 1)
        valid = np.asarray(results['frame_valid'], dtype=bool)[inds]
        results['frame_valid'] = valid.reshape(num_clips, -1)
        if 'keypoint_clean' in results:
            clean = results['keypoint_clean'][:, inds].astype(np.float32)
            if 'keypoint_score_clean' in results:
                score = results.pop('keypoint_score_clean')[:, inds]
                clean = np.concatenate(
                    [clean, score[..., None].astype(np.float32)], axis=-1)
            clean = self._format_persons(clean)
            num_person, total, num_joints, channels = clean.shape
            clean = clean.reshape(num_person, num_clips, total // num_clips,
                                  num_joints, channels).transpose(1, 0, 2, 3, 4)
            results['keypoint_clean'] = np.ascontiguousarray(clean)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_person={self.num_person}, '
                f'mode={self.mode!r})')
