"""In-model skeleton-based spatial decomposition (SPEC §②).

Runs the same region functions as the :class:`RegionDecomposition` pipeline
transform (:mod:`finetec_mmaction.core.regions`) on a batch of ``S_base``
and fuses the three variants into ``S_pred``.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.model import BaseModule

from mmaction.registry import MODELS
from ...core.fill import frame_validity
from ...core.perturbation import check_perturb_options, decompose_regions
from ...core.random_draws import ReplayedDraws
from ...core.regions import (NUM_JOINTS, get_flip_index, get_regions,
                             resolve_num_coords)
from .fusion import CrossAttentionFusion, MLPFusion  # noqa: F401  (registry)


@MODELS.register_module()
class SpatialDecomposition(BaseModule):
    """Dynamic/static region decomposition of ``S_base`` and fusion of
    (``S_base``, ``S_dyna``, ``S_stat``) into ``S_pred``.

    Per sample and person, the ``num_dynamic`` regions with the largest
    motion are dynamic. In training ``S_dyna`` strongly perturbs the dynamic
    joints in space and time and ``S_stat`` weakly perturbs the static
    joints in space (random, from torch's global RNG); in eval mode both are
    copies of ``S_base`` (``test_perturb='off'``) or perturbed with a fixed
    seed per forward (``'seeded'``). Frames that are missing in ``S_base``
    (all zero, e.g. a padded second person) stay zero in every output.

    Args:
        in_channels (int): Channels ``C`` of ``S_base`` (e.g. 3: x, y, score
            for coco; 3: x, y, z for nturgb+d). Defaults to 3.
        layout (str): ``'coco'`` or ``'nturgb+d'``; other layouts need
            ``regions``. Defaults to ``'coco'``.
        regions (list[list[int]], optional): Custom regions.
        num_dynamic (int): Number of dynamic regions. Defaults to 2.
        num_coords (int, optional): Coordinate channels; default: the
            layout's (2 for coco, 3 for nturgb+d), else all.
        flip_index (str | list[int] | None): ``'auto'``, ``None`` or a list
            of left/right partners for mirroring.
        perturb_cfg (dict, optional): Overrides of
            :data:`~finetec_mmaction.core.perturbation.DEFAULT_PERTURB_CFG`.
        fusion (dict): Fusion config; ``in_channels`` and ``num_variants``
            are filled in. Defaults to ``dict(type='CrossAttentionFusion')``;
            ``dict(type='MLPFusion')`` is the alternative.
        test_perturb (str): ``'off'`` (eval-mode variants are copies of
            ``S_base``) or ``'seeded'`` (perturbed as in training, each
            sample with a generator seeded by ``seed``: deterministic and
            independent of the batch). Defaults to ``'off'``.
        seed (int): Seed of ``'seeded'`` eval-mode perturbations.
        init_cfg (dict or list[dict], optional): Initialization config.
    """

    def __init__(self,
                 in_channels: int = 3,
                 layout: str = 'coco',
                 regions: Optional[Sequence[Sequence[int]]] = None,
                 num_dynamic: int = 2,
                 num_coords: Optional[int] = None,
                 flip_index: Union[str, Sequence[int], None] = 'auto',
                 perturb_cfg: Optional[Dict] = None,
                 fusion: Dict = dict(type='CrossAttentionFusion'),
                 test_perturb: str = 'off',
                 seed: int = 0,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.regions = get_regions(
            regions if regions is not None else layout,
            None if regions is not None else NUM_JOINTS.get(layout))
        if not 0 < num_dynamic < len(self.regions):
            raise ValueError(f'num_dynamic must lie in [1, '
                             f'{len(self.regions) - 1}], got {num_dynamic}.')
        perturb_cfg = check_perturb_options(perturb_cfg, test_perturb)
        self.in_channels = in_channels
        self.layout = layout
        self.num_dynamic = num_dynamic
        self.num_coords = resolve_num_coords(layout, in_channels, num_coords)
        self.flip_index = get_flip_index(layout) \
            if flip_index == 'auto' else flip_index
        self.perturb_cfg = perturb_cfg
        self.test_perturb = test_perturb
        self.seed = seed
        fusion = dict(fusion)
        fusion.setdefault('in_channels', in_channels)
        fusion.setdefault('num_variants', 3)
        self.fusion = MODELS.build(fusion)
        # sample shape -> ReplayedDraws of the 'seeded' test-time variants
        self._test_draws: Dict[Tuple[int, ...], ReplayedDraws] = {}

    def decompose(self,
                  s_base: torch.Tensor,
                  valid: Optional[torch.Tensor] = None) -> Dict:
        """Build ``S_dyna`` and ``S_stat`` (no fusion, no parameters).

        Args:
            s_base (torch.Tensor): ``(B, M, T, V, C)`` (any leading dims).
            valid (torch.Tensor, optional): ``(B, M, T)`` bool (or
                broadcastable); default: non-zero frames.

        Returns:
            dict: ``dyna``, ``stat`` ``(B, M, T, V, C)``; ``dynamic``,
            ``static`` ``(B, M, V)`` bool; ``motion`` ``(B, M, R)``.
        """
        if s_base.shape[-1] != self.in_channels:
            raise ValueError(f'Expected {self.in_channels} channels, got '
                             f'input of shape {tuple(s_base.shape)}.')
        options = dict(
            regions=self.regions,
            num_dynamic=self.num_dynamic,
            num_coords=self.num_coords,
            flip_index=self.flip_index,
            **self.perturb_cfg)
        # region statistics and perturbations are data augmentation: no
        # gradient to S_base through them (S_base still gets its own)
        with torch.no_grad():
            s_base = s_base.detach()
            if self.training or self.test_perturb == 'off':
                return decompose_regions(
                    s_base, valid=valid, perturb=self.training, **options)
            # 'seeded': every sample gets the draws of a generator seeded
            # with the same seed, so its variants do not depend on the batch
            # size or on its position in the batch; they are drawn once per
            # input shape and replayed (no random op, so it exports)
            return decompose_regions(
                s_base, valid=valid, perturb=True,
                generator=self._seeded_draws(s_base.shape), **options)

    def _seeded_draws(self, shape: torch.Size) -> ReplayedDraws:
        """The replayed draws of ``'seeded'`` test-time variants for input
        of ``shape`` ``(B, ..., T, V, C)``, one sample being ``shape[1:]``."""
        key = tuple(shape[1:])
        if key not in self._test_draws:
            self._test_draws[key] = ReplayedDraws(
                self.seed, group=int(np.prod(shape[1:-3], dtype=np.int64)))
        return self._test_draws[key].rewind()

    def forward(
        self,
        s_base: torch.Tensor,
        valid: Optional[torch.Tensor] = None
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Decompose and fuse.

        Args:
            s_base (torch.Tensor): ``(B, M, T, V, C)``.
            valid (torch.Tensor, optional): ``(B, M, T)`` bool; default:
                non-zero frames of ``s_base``.

        Returns:
            tuple[torch.Tensor]: ``(S_pred, S_dyna, S_stat)``, each
            ``(B, M, T, V, C)``; ``S_pred`` is zero where ``S_base`` is.
        """
        if valid is None:
            valid = frame_validity(s_base)
        parts = self.decompose(s_base, valid)
        s_pred = self.fusion([s_base, parts['dyna'], parts['stat']])
        valid = valid.expand(s_base.shape[:-2]).to(s_pred.dtype)
        s_pred = s_pred * valid[..., None, None]
        return s_pred, parts['dyna'], parts['stat']
