"""Skeleton-based spatial decomposition (SPEC §②) as a pipeline transform.

The same functions (:mod:`finetec_mmaction.core.regions`) run inside the
model as :class:`finetec_mmaction.models.SpatialDecomposition`; this
transform makes the decomposition available to any stock skeleton config:

* ``output='replace'`` -- an augmentation: with probability ``replace_prob``
  the sample's ``keypoint`` is replaced by its ``S_dyna`` or ``S_stat``
  variant. No model change needed; place it anywhere before ``GenSkeFeat``::

      PreNormalize2D
      [TemporalCorruption]
      RegionDecomposition(layout='coco', output='replace', replace_prob=0.5)
      GenSkeFeat, UniformSampleFrames, PoseDecode, FormatGCNInput
      PackActionInputs

* ``output='extra_keys'`` -- adds ``keypoint_dyna`` / ``keypoint_stat`` next
  to ``keypoint``. Stock sampling and formatting only touch ``keypoint``,
  so to feed the variants to a model place it *after* ``FormatGCNInput``
  (it accepts the formatted ``(num_clips, M, T, V, C)`` input) and pass them
  on with ``PackActionInputs(algorithm_keys=('keypoint_dyna',
  'keypoint_stat'))``. Placed earlier the keys stay on the original time
  line.
"""
from typing import Dict, Optional, Sequence, Union

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS
from ...core.fill import frame_validity
from ...core.masking import stable_seed
from ...core.perturbation import check_perturb_options, decompose_regions
from ...core.regions import (NUM_JOINTS, get_flip_index, get_regions,
                             resolve_num_coords)


@TRANSFORMS.register_module()
class RegionDecomposition(BaseTransform):
    """Split the skeleton into dynamic / static regions by motion and build
    the perturbed variants ``S_dyna`` and ``S_stat``.

    Per person, region motion (mean frame-to-frame displacement over the
    observed frames) ranks the regions; the top ``num_dynamic`` are dynamic,
    the rest static. ``S_dyna`` = strong spatio-temporal perturbation of the
    dynamic joints only (temporal crop + resample, random frame drop +
    interpolation, jitter); ``S_stat`` = weak spatial perturbation of the
    static joints only (mirror about the body centre line, small rotation /
    scale). Missing (zero) frames stay zero.

    Required Keys:

        - keypoint: ``(M, T, V, C)`` or, after ``FormatGCNInput``,
          ``(num_clips, M, T, V, C)``
        - keypoint_score (optional): ``(M, T, V)``, warped with the joints
        - frame_valid (optional): ``(T,)`` bool with ``(M, T, V, C)`` input,
          ``(num_clips, T)`` (from ``FormatCorruptionTargets``) with
          formatted input; otherwise only non-zero frames count as observed
          (missing frames are zero-filled, see :class:`TemporalCorruption`)
        - frame_dir (``test_mode`` with ``test_perturb='seeded'``)

    Modified Keys (``output='replace'``):

        - keypoint, keypoint_score

    Added Keys:

        - keypoint_dyna, keypoint_stat (``output='extra_keys'``): the shape
          and dtype of ``keypoint``; keypoint_score_dyna / _stat likewise
          when the score is a separate key
        - dynamic_joints: ``(..., V)`` bool, the dynamic joints per person
        - decomposition_variant (``output='replace'``): ``'base'``,
          ``'dyna'`` or ``'stat'``

    Args:
        layout (str): ``'coco'`` or ``'nturgb+d'`` (region tables of SPEC
            §②); any other layout needs ``regions``. Also picks the
            left/right flip table and the coordinate count.
        regions (list[list[int]], optional): Custom regions (joint lists),
            overriding the layout's table.
        num_dynamic (int): Number of dynamic regions. Defaults to 2.
        num_coords (int, optional): Coordinate channels of ``keypoint``.
            Default: all channels when the score is a separate key, else the
            layout's (2 for coco, so a score channel appended by
            ``GenSkeFeat`` is not moved; 3 for nturgb+d).
        flip_index (str | list[int] | None): ``'auto'`` (the layout's
            table), ``None`` (mirror joints in place) or a list.
        output (str): ``'extra_keys'`` or ``'replace'``.
        replace_prob (float): ``'replace'``: probability of replacing.
        replace_choices (Sequence[str]): ``'replace'``: variants drawn
            uniformly, from ``('dyna', 'stat')``.
        perturb_cfg (dict, optional): Overrides of
            :data:`~finetec_mmaction.core.perturbation.DEFAULT_PERTURB_CFG`
            (``crop_ratio``, ``drop_prob``, ``jitter_std``, ``mirror_prob``,
            ``max_rotation``, ``scale_range``).
        test_mode (bool): Test-time behaviour, see ``test_perturb``.
        test_perturb (str): ``'off'`` (default: ``'replace'`` is a no-op,
            extra keys are copies of the input) or ``'seeded'``
            (deterministic perturbations seeded by ``(seed, frame_dir)``).
        seed (int): Seed of ``'seeded'`` test-time perturbations.
    """

    def __init__(self,
                 layout: str = 'coco',
                 regions: Optional[Sequence[Sequence[int]]] = None,
                 num_dynamic: int = 2,
                 num_coords: Optional[int] = None,
                 flip_index: Union[str, Sequence[int], None] = 'auto',
                 output: str = 'extra_keys',
                 replace_prob: float = 0.5,
                 replace_choices: Sequence[str] = ('dyna', 'stat'),
                 perturb_cfg: Optional[Dict] = None,
                 test_mode: bool = False,
                 test_perturb: str = 'off',
                 seed: int = 0) -> None:
        # resolve early so a bad config fails at build time, not in a worker
        self.regions = get_regions(
            regions if regions is not None else layout,
            None if regions is not None else NUM_JOINTS.get(layout))
        if not 0 < num_dynamic < len(self.regions):
            raise ValueError(f'num_dynamic must lie in [1, '
                             f'{len(self.regions) - 1}], got {num_dynamic}.')
        if output not in ('extra_keys', 'replace'):
            raise ValueError(f"output must be 'extra_keys' or 'replace', got "
                             f'{output!r}.')
        if not set(replace_choices) <= {'dyna', 'stat'} or \
                not replace_choices:
            raise ValueError(f"replace_choices must be drawn from ('dyna', "
                             f"'stat'), got {replace_choices!r}.")
        perturb_cfg = check_perturb_options(perturb_cfg, test_perturb)
        self.layout = layout
        self.num_dynamic = num_dynamic
        self.num_coords = num_coords
        self.flip_index = get_flip_index(layout) \
            if flip_index == 'auto' else flip_index
        self.output = output
        self.replace_prob = replace_prob
        self.replace_choices = tuple(replace_choices)
        self.perturb_cfg = perturb_cfg
        self.test_mode = test_mode
        self.test_perturb = test_perturb
        self.seed = seed

    def _rng(self, results: Dict) -> np.random.Generator:
        if self.test_mode:
            name = results.get('frame_dir', results.get('filename'))
            if name is None:
                raise KeyError('Seeded test-time decomposition needs '
                               '"frame_dir" or "filename" in the sample.')
            return np.random.default_rng(stable_seed(self.seed, str(name)))
        # follow numpy's global seed, which mmengine sets per worker
        return np.random.default_rng(np.random.randint(0, 2**31 - 1))

    def _valid(self, results: Dict, keypoint: np.ndarray) -> np.ndarray:
        valid = frame_validity(keypoint)  # (..., T): also drops padded persons
        frame_valid = results.get('frame_valid')
        if frame_valid is None:
            return valid
        frame_valid = np.asarray(frame_valid, dtype=bool)
        # (T,) on the original time line before sampling, (num_clips, T)
        # once FormatCorruptionTargets has sampled it like the keypoints;
        # anything else belongs to another time line: the zeros decide
        if keypoint.ndim == 4 and frame_valid.shape == keypoint.shape[1:2]:
            valid = valid & frame_valid
        elif keypoint.ndim == 5 and \
                frame_valid.shape == (keypoint.shape[0], keypoint.shape[2]):
            valid = valid & frame_valid[:, None]  # (num_clips, 1, T)
        return valid

    def transform(self, results: Dict) -> Dict:
        """Add (or swap in) the decomposed variants of ``keypoint``."""
        off = self.test_mode and self.test_perturb == 'off'
        if off and self.output == 'replace':
            return results
        keypoint = results['keypoint']
        if keypoint.ndim not in (4, 5):
            raise ValueError(
                'RegionDecomposition expects keypoint (M, T, V, C) or '
                f'(num_clips, M, T, V, C), got {keypoint.shape}.')
        score = results.get('keypoint_score')
        with_score = score is not None and score.shape == keypoint.shape[:-1]
        channels = keypoint.shape[-1]
        # float32 work (float16 pickles), float64 kept (PreNormalize3D's
        # output): joints that are not perturbed come back bit for bit
        work = np.float64 if keypoint.dtype == np.float64 or (
            with_score and score.dtype == np.float64) else np.float32
        if with_score:
            num_coords = channels if self.num_coords is None else min(
                self.num_coords, channels)
            data = np.concatenate(
                [keypoint.astype(work),
                 score[..., None].astype(work)], -1)
        else:
            num_coords = resolve_num_coords(self.layout, channels,
                                            self.num_coords)
            data = keypoint.astype(work)

        rng = None if off else self._rng(results)
        generator = None
        if rng is not None:
            generator = torch.Generator().manual_seed(
                int(rng.integers(0, 2**31 - 1)))
        parts = decompose_regions(
            data,
            self.regions,
            valid=self._valid(results, keypoint),
            num_dynamic=self.num_dynamic,
            num_coords=num_coords,
            flip_index=self.flip_index,
            perturb=not off,
            generator=generator,
            **self.perturb_cfg)
        results['dynamic_joints'] = parts['dynamic']

        def split(variant):
            # back to the input's keys, channels and dtype
            out = {'keypoint': variant[..., :channels].astype(keypoint.dtype)}
            if with_score:
                out['keypoint_score'] = variant[..., channels].astype(
                    score.dtype)
            return out

        if self.output == 'extra_keys':
            for name in ('dyna', 'stat'):
                for key, value in split(parts[name]).items():
                    results[f'{key}_{name}'] = value
            return results

        chosen = 'base'
        if rng.random() < self.replace_prob:
            chosen = self.replace_choices[int(
                rng.integers(len(self.replace_choices)))]
            results.update(split(parts[chosen]))
        results['decomposition_variant'] = chosen
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(layout={self.layout!r}, '
                f'regions={self.regions}, num_dynamic={self.num_dynamic}, '
                f'output={self.output!r}, replace_prob={self.replace_prob}, '
                f'perturb_cfg={self.perturb_cfg}, '
                f'test_mode={self.test_mode}, '
                f'test_perturb={self.test_perturb!r})')
