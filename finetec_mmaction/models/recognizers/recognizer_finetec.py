"""RecognizerFineTec: completion → decomposition → physics → GCN → head."""
import os.path as osp
from typing import Dict, Optional, Tuple

import torch
from mmengine.logging import MMLogger

from mmaction.models.recognizers import RecognizerGCN
from mmaction.registry import MODELS
from mmaction.utils import ConfigType, OptConfigType
from ...core.fill import frame_validity
from ..completion.checkpoint import load_completion_weights
from ...utils.io import resolve_checkpoint
from .restoration_cache import active_restoration_cache


@MODELS.register_module()
class RecognizerFineTec(RecognizerGCN):
    """FineTec recognizer (stage 2), and the general "GCN with optional
    FineTec modules in front" recognizer.

    ``inputs (N, num_clips, M, T, V, C)`` → per clip ``x (B, M, T, V, C)``:

    1. ``completion`` (module ①, frozen): ``S_base`` = ``x`` with its
       missing (all-zero) frames restored.
    2. ``decomposition`` (module ②): ``S_pred, S_dyna, S_stat``.
    3. ``neck`` (module ③, :class:`PhysicsAccelerationNeck`): ``a_pred``
       ``(B, M, T, V, c)`` from ``[S_base, S_dyna, S_stat]``; its
       ``L_Ac`` joins the losses (``L = L_CE + λ L_Ac``).
    4. ``backbone`` on ``cat([S_pred, a_pred], -1)``, then ``cls_head``.

    Every module but the backbone is optional, which gives the ablations
    (without ①, ② or ③), a stock ST-GCN++ with only the physics neck
    (``in_channels = C + c``), and plug-and-play restoration: a trained
    completion checkpoint in front of an existing ST-GCN++ checkpoint
    (same ``backbone``/``cls_head`` keys as ``RecognizerGCN``).

    Args:
        backbone (dict): Backbone config (``FineTecGCN`` or ``STGCN``).
        cls_head (dict): Head config (``GCNHead``).
        completion (dict, optional): ``ContextAwareCompletion`` config.
        completion_checkpoint (str, optional): Stage-1 checkpoint (e.g. of
            ``CompletionPretrainer``), or its work dir (the checkpoint named
            in its ``last_checkpoint`` is used), whose ``completion.*``
            weights, skeleton bank included, are loaded and frozen (the
            config's ``completion.bank`` is then not read). ``None`` keeps the
            untrained module: its training-free restoration
            (:class:`~finetec_mmaction.models.completion.TrainingFreeRestoration`,
            the bank from its config).
        freeze_completion (bool): Freeze ① (the paper's stage 2).
            Defaults to True.
        decomposition (dict, optional): ``SpatialDecomposition`` config.
        neck (dict, optional): ``PhysicsAccelerationNeck`` config.
        train_cfg, test_cfg, data_preprocessor: As in ``RecognizerGCN``.
    """

    def __init__(self,
                 backbone: ConfigType,
                 cls_head: OptConfigType = None,
                 completion: OptConfigType = None,
                 completion_checkpoint: Optional[str] = None,
                 freeze_completion: bool = True,
                 decomposition: OptConfigType = None,
                 neck: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None) -> None:
        super().__init__(
            backbone=backbone,
            cls_head=cls_head,
            neck=neck,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor)
        if completion_checkpoint is not None and completion is None:
            raise ValueError('completion_checkpoint is set but the model has '
                             'no completion module (completion=None).')
        self.completion_checkpoint = completion_checkpoint
        if self._stage1_path() is not None:
            # the stage-1 checkpoint holds the bank: its source data is not
            # read (nor needed where the model is trained or tested)
            completion = dict(completion, bank=None)
        self.completion = MODELS.build(completion) if completion else None
        self.decomposition = MODELS.build(decomposition) \
            if decomposition else None
        self.freeze_completion = freeze_completion and completion is not None
        self._load_completion()
        if self.freeze_completion:
            for param in self.completion.parameters():
                param.requires_grad = False

    def _stage1_path(self) -> Optional[str]:
        """The stage-1 checkpoint file (``None`` without one); a missing
        one raises a ``FileNotFoundError`` that says what to do."""
        if self.completion_checkpoint is None:
            return None
        # a stage-1 work dir stands for the checkpoint mmengine saved last
        path = resolve_checkpoint(self.completion_checkpoint)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'Stage-1 completion checkpoint not found: {path}. Train '
                'module ① first (e.g. tools/train.py configs/finetec/'
                'completion_*.py) or set completion_checkpoint=None.')
        return path

    def _load_completion(self) -> None:
        """Load the stage-1 weights (at build time, so that testing an
        existing checkpoint works, and again after ``init_weights``)."""
        path = self._stage1_path()
        if path is None:
            return
        load_completion_weights(self.completion, path, 'this model')
        MMLogger.get_current_instance().info(
            f'Loaded the frozen completion module from {path}')

    def init_weights(self) -> None:
        super().init_weights()
        self._load_completion()  # init_weights re-initialised it

    def train(self, mode: bool = True) -> 'RecognizerFineTec':
        super().train(mode)
        if self.freeze_completion:
            self.completion.eval()  # fixed prompts, no stochastic behaviour
        return self

    def restore(self, x: torch.Tensor) -> torch.Tensor:
        """Module ①: ``(B, M, T, V, C)`` with missing frames zero →
        ``S_base`` of the same shape (identity without a completion).

        In eval mode inside a ``restoration_cache`` block, a frozen ①'s
        restoration of a clip already seen is reused
        (:mod:`.restoration_cache`)."""
        if self.completion is None:
            return x
        # a frozen ① stays in eval mode, but training samples come from the
        # bank's split all the same (its retrieval must skip them)
        args = (x, frame_validity(x), self.training)
        if self.freeze_completion:
            cache = active_restoration_cache()
            with torch.no_grad():
                if cache is not None and not self.training:
                    return cache.restore(self.completion, *args)
                return self.completion(*args)
        return self.completion(*args)

    def extract_feat(self,
                     inputs: torch.Tensor,
                     stage: str = 'backbone',
                     **kwargs) -> Tuple:
        """
        Args:
            inputs (torch.Tensor): ``(N, num_clips, M, T, V, C)``.
            stage (str): ``'backbone'`` or ``'head'``.

        Returns:
            tuple: Backbone features ``(N·num_clips, M, C', T', V)`` (or
            class scores for ``'head'``) and a dict with ``loss_aux``
            (``{'loss_acc': ...}`` when a neck is used).
        """
        loss_predict_kwargs: Dict = dict()
        bs, nc = inputs.shape[:2]
        x = inputs.reshape((bs * nc, ) + inputs.shape[2:])

        s_base = self.restore(x)
        if self.decomposition is not None:
            s_pred, s_dyna, s_stat = self.decomposition(s_base)
            streams = [s_base, s_dyna, s_stat]
        else:
            s_pred, streams = s_base, [s_base]
        if self.with_neck:
            acc, aux = self.neck(
                streams if len(streams) > 1 else streams[0], return_aux=True)
            if self.training:
                loss_predict_kwargs['loss_aux'] = self.neck.loss(aux)
            s_pred = torch.cat([s_pred, acc.to(s_pred.dtype)], dim=-1)

        feats = self.backbone(s_pred)
        if stage == 'backbone':
            return feats, loss_predict_kwargs
        if self.with_cls_head and stage == 'head':
            return self.cls_head(feats, **loss_predict_kwargs), \
                loss_predict_kwargs
        raise ValueError(f'Unknown stage {stage!r}')
