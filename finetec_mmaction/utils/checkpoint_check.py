"""Check that a checkpoint fits a model before mmengine loads it.

mmengine loads state dicts with ``strict=False``: weights whose shape
differs from the model's are skipped with a log line, so testing a
checkpoint trained with another class count or another skeleton layout
silently scores a randomly initialised head or graph. The checks here
compare the shapes first and stop with an error that says, in user terms,
what differs and in which file.

Where it runs, and why there:

* ``tools/test.py`` and ``tools/train.py`` call :func:`check_runner_checkpoint`
  right after building the runner, before any dataset is built, so a wrong
  checkpoint fails in seconds.
* :class:`finetec_mmaction.engine.CheckpointCompatibilityHook` (in the
  generated configs' ``custom_hooks``) runs the same check in ``before_run``,
  which mmengine calls in ``Runner.train/val/test`` *before*
  ``load_or_resume()`` — so it also covers MMAction2's stock tools. A check
  after loading (``before_train``/``before_test``) would also work but comes
  after mmengine has already loaded what fits and logged the rest; checking
  the file itself before loading is independent of that order. The hook
  skips a checkpoint the tools already checked, and does nothing once the
  runner has loaded one.
"""
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.logging import MMLogger
from torch import nn

__all__ = [
    'CheckpointMismatchError', 'check_checkpoint_compatible',
    'check_runner_checkpoint', 'check_state_dict_compatible',
    'checkpoint_to_load', 'completion_from_checkpoint',
    'holds_completion_weights', 'load_state_dict_file',
    'use_bundled_completion'
]

#: Joint counts of the layouts of mmaction's ``Graph``, for the messages.
_LAYOUTS = {17: "'coco'", 25: "'nturgb+d'", 18: "'openpose'"}

#: Attribute set on a runner whose checkpoint was checked (skips re-checks).
_CHECKED_ATTR = '_finetec_checked_checkpoint'


class CheckpointMismatchError(ValueError):
    """A checkpoint does not fit the model, or is not a checkpoint."""


def _layout(num_joints: int) -> str:
    name = _LAYOUTS.get(num_joints)
    return f'{num_joints}-joint layout' + (f' ({name})' if name else '')


def load_state_dict_file(path: str) -> 'OrderedDict[str, torch.Tensor]':
    """The state dict of the checkpoint ``path`` (``module.`` prefixes
    removed, as mmengine does), or a :class:`CheckpointMismatchError` that
    says why the file is not a usable checkpoint."""
    from mmengine.runner.checkpoint import CheckpointLoader
    if '://' not in path and not osp.isfile(path):
        raise FileNotFoundError(f'Checkpoint not found: {path}')
    try:
        checkpoint = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    except Exception as err:  # truncated zip, random bytes, a pickle...
        raise CheckpointMismatchError(
            f'{path} is not a readable PyTorch checkpoint: it may be '
            f'truncated (a save interrupted by a crash or a full disk) or '
            f'not a file written by torch.save ({type(err).__name__}: '
            f'{err})') from err
    if isinstance(checkpoint, dict) and 'state_dict' in checkpoint:
        state = checkpoint['state_dict']
    else:
        state = checkpoint
    if not isinstance(state, dict) or not state or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor)
            for k, v in state.items()):
        what = (f'a dict with keys {sorted(map(str, checkpoint))[:8]}'
                if isinstance(checkpoint, dict) else
                f'a {type(checkpoint).__name__}')
        raise CheckpointMismatchError(
            f'{path} holds no model weights: expected a dict with a '
            f'"state_dict" of tensors (as mmengine saves), got {what}.')
    return OrderedDict((re.sub(r'^module\.', '', k), v)
                       for k, v in state.items())


def holds_completion_weights(state: Dict[str, torch.Tensor]) -> bool:
    """Whether a recognizer state dict carries a completion module
    (``completion.*``: a FineTec stage-2 checkpoint, not a stock one)."""
    return any(k.startswith('completion.') for k in state)


def completion_from_checkpoint(model_cfg,
                               completion_checkpoint: Optional[str] = None):
    """Have a model config's completion module come from a checkpoint.

    ``model.completion.bank`` becomes ``None``, so building the model reads
    no bank source data (the bank is a buffer of the checkpoint), and
    ``model.completion_checkpoint`` becomes ``completion_checkpoint``
    (``None``: the weights come with the recognizer's own checkpoint, or
    are set by the caller). Changes ``model_cfg`` in place and returns it;
    a config without a completion module is returned as it is.
    """
    if model_cfg.get('completion'):
        model_cfg['completion']['bank'] = None
        model_cfg['completion_checkpoint'] = completion_checkpoint
    return model_cfg


def use_bundled_completion(model_cfg, checkpoint: str) -> bool:
    """Let a FineTec checkpoint supply its own completion module.

    A ``RecognizerFineTec`` checkpoint holds the frozen ``completion.*``
    weights, prompt bank included, so testing it needs neither the stage-1
    checkpoint nor the bank's source data. When ``checkpoint`` has them,
    ``model_cfg.completion_checkpoint`` and ``model_cfg.completion.bank``
    are set to ``None`` (the bank is then filled from the checkpoint).
    A checkpoint without them (a stock model under a plug-and-play config)
    leaves the config as it is.

    Returns:
        bool: Whether the config was changed.
    """
    if not model_cfg.get('completion'):
        return False
    # also for a training-free ① (completion_checkpoint=None): its bank is
    # in the checkpoint too
    if not holds_completion_weights(load_state_dict_file(checkpoint)):
        return False
    completion_from_checkpoint(model_cfg)
    return True


def _shape(value) -> Tuple[int, ...]:
    return tuple(value.shape)


def _data_dependent_dims(model: nn.Module) -> Dict[str, int]:
    """``{state key: n}`` for buffers whose ``n`` leading dims follow the
    data and are adopted from the checkpoint on load (a module declares them
    in a ``data_dependent_dims`` attribute, e.g. the completion module's
    skeleton bank); only their trailing dims must match."""
    dims = {}
    for name, module in model.named_modules():
        for key, num in getattr(module, 'data_dependent_dims', {}).items():
            dims[f'{name}.{key}' if name else key] = num
    return dims


def _describe(key, ckpt_shape, model_shape) -> str:
    return f'{key}: checkpoint {ckpt_shape}, config {model_shape}'


def check_checkpoint_compatible(model: nn.Module,
                                checkpoint_path: str,
                                allow_head_mismatch: bool = False,
                                logger: Optional[MMLogger] = None) -> None:
    """Raise a :class:`CheckpointMismatchError` (a ``ValueError``) naming
    ``checkpoint_path`` if its weights do not fit ``model``.

    Reported in user terms:

    * the class count (rows of a ``cls_head.*`` weight): "checkpoint has 15
      classes, config has 12 (cls_head.fc.weight ...)";
    * the skeleton layout (the graph adjacency ``...A`` / ``...PA``
      ``(K, V, V)``): "checkpoint was trained on a 25-joint layout, config
      builds 17 joints";
    * the input size (``backbone.data_bn``: persons x channels x joints);
    * any other shape that differs, listed;
    * a checkpoint that shares no weight name with the model;
    * a file that is not a checkpoint (truncated, not a torch file, no
      ``state_dict``).

    Weights the checkpoint lacks (e.g. ``completion.*`` of a plug-and-play
    model, loaded from ``completion_checkpoint``) are not an error; mmengine
    lists them when it loads.

    Args:
        model (nn.Module): The built model (a DDP wrapper is unwrapped).
        checkpoint_path (str): The checkpoint file.
        allow_head_mismatch (bool): Only warn when the class count alone
            differs (fine-tuning from ``load_from`` to new classes: the
            head is trained from scratch). Defaults to False.
        logger (MMLogger, optional): Where the warning goes.
    """
    check_state_dict_compatible(model, load_state_dict_file(checkpoint_path),
                                checkpoint_path, allow_head_mismatch, logger)


def check_state_dict_compatible(model: nn.Module,
                                ckpt: Dict[str, torch.Tensor],
                                checkpoint_path: str,
                                allow_head_mismatch: bool = False,
                                logger: Optional[MMLogger] = None) -> None:
    """:func:`check_checkpoint_compatible` for a state dict already loaded
    (e.g. by :func:`load_state_dict_file`) from ``checkpoint_path``."""
    from mmengine.model import is_model_wrapper
    if is_model_wrapper(model):
        model = model.module
    own = model.state_dict()
    common = [k for k in own if k in ckpt]
    if not common:
        raise CheckpointMismatchError(
            f'{checkpoint_path} does not fit the model of this config: none '
            f'of its {len(ckpt)} weight names (e.g. {next(iter(ckpt))}) is a '
            f'weight of the model (e.g. {next(iter(own), "-")}). Is it the '
            f'checkpoint of another model (e.g. a stage-1 completion '
            f'checkpoint instead of a recognizer)?')
    flexible = _data_dependent_dims(model)
    mismatched = [(k, _shape(ckpt[k]), _shape(own[k])) for k in common
                  if _shape(ckpt[k])[flexible.get(k, 0):] !=
                  _shape(own[k])[flexible.get(k, 0):]]
    if not mismatched:
        return

    problems: List[str] = []
    explained = set()
    # class count: the output rows of the head's linear layer(s)
    heads = [(k, c, m) for k, c, m in mismatched
             if k.startswith('cls_head.') and k.endswith('.weight')
             and len(c) == 2 and len(m) == 2 and c[1] == m[1]]
    for key, ckpt_shape, model_shape in heads:
        problems.append(
            f'checkpoint has {ckpt_shape[0]} classes, config has '
            f'{model_shape[0]} ({_describe(key, ckpt_shape, model_shape)})')
        explained.update({key, key[:-len('weight')] + 'bias'})
    head_only = all(k in explained for k, _, _ in mismatched)
    # layout: graph adjacency (K, V, V)
    layout = [(k, c, m) for k, c, m in mismatched
              if k.rsplit('.', 1)[-1] in ('A', 'PA') and len(c) == 3
              and len(m) == 3 and c[1] == c[2] and m[1] == m[2]]
    if layout:
        # name the fixed adjacency A (the layout) rather than a learnt PA
        layout.sort(key=lambda item: not item[0].endswith('.A'))
        key, ckpt_shape, model_shape = layout[0]
        if ckpt_shape[1] != model_shape[1]:
            problems.append(
                f'checkpoint was trained on a {_layout(ckpt_shape[1])}, '
                f'config builds {model_shape[1]} joints '
                f'({_describe(key, ckpt_shape, model_shape)}; check '
                f'graph_cfg.layout and the dataset)')
        else:
            problems.append(
                f'the graph differs: {ckpt_shape[0]} vs {model_shape[0]} '
                f'adjacency subsets ({_describe(key, ckpt_shape, model_shape)}'
                f'; check graph_cfg.mode)')
        explained.update(k for k, _, _ in layout)
    # input normalisation: persons x channels x joints
    data_bn = [(k, c, m) for k, c, m in mismatched
               if '.data_bn.' in '.' + k and k not in explained]
    if data_bn and not layout:
        key, ckpt_shape, model_shape = data_bn[0]
        problems.append(
            f'the input size differs: the checkpoint normalises '
            f'{ckpt_shape[0]} input features, the config {model_shape[0]} '
            f'(persons x channels x joints; '
            f'{_describe(key, ckpt_shape, model_shape)}; check num_person, '
            f'in_channels / feats, and the joint count)')
    if data_bn:
        explained.update(k for k, _, _ in data_bn)
    others = [(k, c, m) for k, c, m in mismatched if k not in explained]
    if others:
        listed = '; '.join(_describe(*item) for item in others[:10])
        more = f'; and {len(others) - 10} more' if len(others) > 10 else ''
        problems.append(f'{len(others)} other weight(s) differ in shape: '
                        f'{listed}{more}')

    message = (f'{checkpoint_path} does not fit the model of this config: '
               + '; '.join(problems) + '.')
    if head_only and allow_head_mismatch:
        (logger or MMLogger.get_current_instance()).warning(
            message + ' The classification head is trained from scratch '
            '(fine-tuning to a new class count).')
        return
    raise CheckpointMismatchError(
        message + ' mmengine would skip these weights and run with random '
        'ones in their place.')


def checkpoint_to_load(runner) -> Tuple[Optional[str], bool]:
    """``(path, resume)`` of the checkpoint that ``runner.load_or_resume()``
    will load, resolved the way mmengine 0.10.7 does; ``(None, False)`` if
    none."""
    from mmengine.runner.checkpoint import find_latest_checkpoint
    if runner._resume:
        path = runner._load_from
        if path is None:
            path = find_latest_checkpoint(runner.work_dir)
        return path, path is not None
    return runner._load_from, False


def check_runner_checkpoint(runner, training: bool) -> Optional[str]:
    """Check the checkpoint the runner is about to load (load_from or
    resume) against ``runner.model``, once per runner and checkpoint.

    Args:
        runner (Runner): A built runner, before ``train()``/``test()``.
        training (bool): True for ``train()``. Then a ``load_from``
            checkpoint may differ in the class count (fine-tuning; a
            warning); resuming must match exactly, as must testing.

    Returns:
        str | None: The checked path.
    """
    path, resume = checkpoint_to_load(runner)
    if path is None or getattr(runner, '_has_loaded', False):
        return None
    if getattr(runner, _CHECKED_ATTR, None) == path:
        return path
    check_checkpoint_compatible(
        runner.model, path, allow_head_mismatch=training and not resume,
        logger=runner.logger)
    setattr(runner, _CHECKED_ATTR, path)
    return path
