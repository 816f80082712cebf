"""Stage-1 pre-training of module ① through mmengine's Runner."""
from typing import Dict, List, Optional, Union

import numpy as np
import torch
from mmengine.model import BaseModel

from mmaction.registry import MODELS
from mmaction.utils import SampleList
from ...core.fill import frame_validity


def _stack_field(data_samples: SampleList, key: str,
                 device: torch.device) -> Optional[torch.Tensor]:
    """Stack a per-sample field (numpy or tensor) into a batch tensor."""
    if not data_samples or not all(key in ds for ds in data_samples):
        return None
    values = [ds.get(key) for ds in data_samples]
    return torch.stack([
        v if isinstance(v, torch.Tensor) else torch.as_tensor(np.asarray(v))
        for v in values
    ]).to(device)


@MODELS.register_module()
class CompletionPretrainer(BaseModel):
    """Trains / evaluates :class:`ContextAwareCompletion` alone (stage 1).

    Expects the stock GCN pipeline with corruption targets::

        PreNormalize2D, TemporalCorruption(keep_clean=True, ...),
        GenSkeFeat, UniformSampleFrames(clip_len=T), PoseDecode,
        FormatGCNInput, FormatCorruptionTargets,
        PackActionInputs(algorithm_keys=('frame_valid', 'keypoint_clean'),
                         meta_keys=('frame_dir', 'corrupt_ratio',
                                    'corrupt_strategy'))

    The checkpoint keys of the network start with ``completion.``, so a
    stage-2 model holding the same module under that name loads them as is.

    Args:
        completion (dict | nn.Module): Config of
            :class:`ContextAwareCompletion`.
        data_preprocessor (dict, optional): Defaults to
            ``dict(type='ActionDataPreprocessor')`` (stacks the
            ``(num_clips, M, T, V, C)`` inputs and casts them to float32).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 completion: Union[Dict, torch.nn.Module],
                 data_preprocessor: Optional[Dict] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='ActionDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            # build in MMAction2's registry whatever the default scope
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.completion = MODELS.build(completion) if isinstance(
            completion, dict) else completion

    def _valid(self, inputs: torch.Tensor,
               data_samples: Optional[SampleList]) -> torch.Tensor:
        """``(N, nc, M, T)`` validity: ``frame_valid`` of the data samples
        (shared by the persons of a clip), else the non-zero frames."""
        valid = _stack_field(data_samples, 'frame_valid', inputs.device)
        if valid is None:
            return frame_validity(inputs)
        valid = valid.to(torch.bool).reshape(inputs.shape[:2] +
                                             (1, inputs.shape[3]))
        return valid.expand(inputs.shape[:4])

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[SampleList] = None,
                mode: str = 'tensor') -> Union[Dict, List, torch.Tensor]:
        """
        Args:
            inputs (torch.Tensor): ``(N, num_clips, M, T, V, C)`` corrupted
                skeletons, missing frames zero.
            data_samples (list[ActionDataSample], optional): With
                ``frame_valid`` ``(num_clips, T)`` and, for ``'loss'``,
                ``keypoint_clean`` ``(num_clips, M, T, V, C)``.
            mode (str): ``'loss'`` (dict of losses), ``'predict'`` (data
                samples with ``pred_keypoint``) or ``'tensor'`` (``S_base``
                of the shape of ``inputs``).
        """
        if inputs.dim() != 6:
            raise ValueError('CompletionPretrainer expects (N, num_clips, M, '
                             f'T, V, C) inputs, got {tuple(inputs.shape)}.')
        valid = self._valid(inputs, data_samples)
        if mode == 'tensor':
            return self.completion(inputs, valid)
        if mode == 'loss':
            clean = _stack_field(data_samples, 'keypoint_clean',
                                 inputs.device)
            if clean is None:
                raise KeyError(
                    'Completion pre-training needs the clean sequence: use '
                    'TemporalCorruption(keep_clean=True), '
                    'FormatCorruptionTargets and PackActionInputs('
                    'algorithm_keys=("frame_valid", "keypoint_clean")).')
            return self.completion.loss(inputs, clean.reshape(inputs.shape),
                                        valid)
        if mode == 'predict':
            s_base = self.completion(inputs, valid)
            for ds, pred, val in zip(data_samples, s_base, valid):
                ds.set_field(pred.detach(), 'pred_keypoint')
                if 'frame_valid' not in ds:
                    ds.set_field(val[:, 0], 'frame_valid')
            return data_samples
        raise RuntimeError(f'Invalid mode "{mode}". Only supports loss, '
                           'predict and tensor mode.')
