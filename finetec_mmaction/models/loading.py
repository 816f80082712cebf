"""Recognizers and completion modules built from a config with the weights
of a checkpoint (a file or a work dir), for evaluation outside the Runner."""
import os.path as osp
from typing import Optional

from mmengine.registry import DefaultScope

from mmaction.registry import MODELS
from ..utils.checkpoint_check import (check_state_dict_compatible,
                                      completion_from_checkpoint,
                                      holds_completion_weights,
                                      load_state_dict_file)
from ..utils.config import to_plain
from ..utils.io import resolve_checkpoint as resolve_work_dir_checkpoint
from .completion.checkpoint import load_completion_weights


def resolve_checkpoint(path: str) -> str:
    """A checkpoint file, or the one a work dir's ``last_checkpoint`` names;
    ``FileNotFoundError`` when there is none."""
    path = resolve_work_dir_checkpoint(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'Checkpoint not found: {path}')
    return path


def load_completion(cfg, checkpoint: Optional[str], device: str = 'cpu'):
    """The ``ContextAwareCompletion`` of a config (``model.completion``:
    stage 1 or a FineTec recognizer) with the ``completion.*`` weights (bank
    included) of ``checkpoint`` (a file or a work dir), in eval mode.

    ``checkpoint=None`` gives the untrained module, its bank built from the
    config: its output is its base fill (e.g. Akima plus ``retrieval``),
    a restoration that needs no training.
    """
    comp_cfg = cfg.model.get('completion')
    if not comp_cfg:
        raise ValueError(f'{cfg.filename}: model has no "completion" module '
                         '(expected a CompletionPretrainer config).')
    comp_cfg = to_plain(comp_cfg)
    if checkpoint is not None:
        comp_cfg['bank'] = None  # the checkpoint holds the bank
    with DefaultScope.overwrite_default_scope('mmaction'):
        completion = MODELS.build(comp_cfg)
    if checkpoint is not None:
        load_completion_weights(completion, resolve_checkpoint(checkpoint),
                                cfg.filename)
    return completion.to(device).eval()


def load_recognizer(cfg, checkpoint: str, device: str = 'cpu',
                    role: str = 'model'):
    """The recognizer of ``cfg.model`` (stock ``RecognizerGCN`` or
    ``RecognizerFineTec``) with the weights of ``checkpoint`` (a file or a
    work dir), loaded strictly, in eval mode.

    A FineTec model is built without reading its stage-1 checkpoint or bank
    source: a stage-2 checkpoint holds the ``completion.*`` weights, bank
    included. When ``checkpoint`` has none (a stock ST-GCN++ checkpoint
    under a plug-and-play config), they come from
    ``model.completion_checkpoint``.
    """
    model_cfg = to_plain(cfg.model)
    stage1 = model_cfg.get('completion_checkpoint')
    completion_from_checkpoint(model_cfg)  # weights and bank loaded below
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(model_cfg)
    path = resolve_checkpoint(checkpoint)
    state = dict(load_state_dict_file(path))
    # another class count / layout: a message in user terms, not a traceback
    check_state_dict_compatible(model, state, path)
    completion = getattr(model, 'completion', None)
    if completion is not None and not holds_completion_weights(state):
        if not stage1:
            raise KeyError(
                f'{path} holds no completion.* weights and {cfg.filename} '
                'sets no model.completion_checkpoint to take them from.')
        load_completion_weights(completion, resolve_checkpoint(stage1),
                                cfg.filename)
        state.update({f'completion.{k}': v
                      for k, v in completion.state_dict().items()})
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise RuntimeError(f'{path} does not fit the {role} config '
                           f'{cfg.filename}: {err}') from err
    return model.to(device).eval()
