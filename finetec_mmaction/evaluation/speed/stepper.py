"""Recognizers built for timing, and the timed train / inference steps of
one of them."""
import copy
import time
from typing import Dict, List, Optional

import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope

from mmaction.registry import MODELS
from ...engine.optimizers.amp_optim_wrapper import (bf16_supported,
                                                    enable_amp)
from ...utils.checkpoint_check import completion_from_checkpoint
from ...utils.config import to_plain

MODES = ('train', 'infer')


def as_config(cfg) -> Config:
    """``cfg`` itself if it is a :class:`Config`, else the file it names."""
    return cfg if isinstance(cfg, Config) else Config.fromfile(cfg)


def build_model(cfg, clip_len: int, device: str = 'cpu',
                completion_checkpoint: Optional[str] = None,
                bank_size: int = 64, seed: int = 0):
    """The recognizer of a config, ready for a speed benchmark.

    A FineTec completion module gets ``clip_len`` and, unless
    ``completion_checkpoint`` is given, random weights and a bank of
    ``bank_size`` random sequences instead of the stage-1 checkpoint; it is
    frozen as in stage 2 (``freeze_completion`` of the config).
    """
    cfg = as_config(cfg)
    model_cfg = to_plain(cfg.model)
    completion = model_cfg.get('completion')
    if completion:
        completion['clip_len'] = clip_len
    completion_from_checkpoint(model_cfg, completion_checkpoint)
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(model_cfg)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('WARNING')  # init_weights logs every parameter
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)
    if completion and completion_checkpoint is None:
        comp = model.completion
        gen = torch.Generator().manual_seed(seed)
        bank = torch.randn(bank_size, clip_len, comp.num_joints,
                           comp.num_channels, generator=gen).mul_(0.3)
        comp.bank.set_sequences(bank)
    return model.to(device)


def num_params(model) -> Dict[str, int]:
    return dict(
        params=sum(p.numel() for p in model.parameters()),
        trainable=sum(p.numel() for p in model.parameters()
                      if p.requires_grad))


def state_bytes(model, optim_wrapper=None) -> int:
    """Bytes of the weights, buffers and optimizer state (momentum...)."""
    tensors = list(model.parameters()) + list(model.buffers())
    if optim_wrapper is not None:
        for state in optim_wrapper.optimizer.state.values():
            tensors += [v for v in state.values()
                        if isinstance(v, torch.Tensor)]
    return sum(t.numel() * t.element_size() for t in tensors)


def build_speed_optim_wrapper(model, cfg, amp: bool):
    ow_cfg = copy.deepcopy(as_config(cfg).get('optim_wrapper') or dict(
        optimizer=dict(type='SGD', lr=0.01, momentum=0.9)))
    if amp:
        wrapper = Config(dict(optim_wrapper=ow_cfg))
        enable_amp(wrapper, next(model.parameters()).device.type)
        ow_cfg = wrapper.optim_wrapper
    with DefaultScope.overwrite_default_scope('mmaction'):
        return build_optim_wrapper(model, ow_cfg)


class StepTimer:
    """Train / inference steps of one model on one batch."""

    def __init__(self, name, model, optim_wrapper, data, device, amp,
                 compile_cfg=None):
        self.name = name
        self.model = model
        self.optim_wrapper = optim_wrapper
        self.data = data
        self.device = torch.device(device)
        self.amp = amp
        # inference under the autocast dtype that --amp trains with
        self.amp_dtype = torch.bfloat16 if bf16_supported(
            self.device.type) else torch.float16
        self.train_fn = model.train_step
        self.test_fn = model.test_step
        if compile_cfg is not None:
            self.train_fn = torch.compile(model.train_step, **compile_cfg)
            self.test_fn = torch.compile(model.test_step, **compile_cfg)
        self.times = {m: [] for m in MODES}
        self.peak = {m: 0 for m in MODES}
        self.losses: List[float] = []

    def _sync(self):
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)

    def step(self, mode: str, record: bool) -> float:
        cuda = self.device.type == 'cuda'
        if cuda:
            before = torch.cuda.memory_allocated(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
        self._sync()
        start = time.perf_counter()
        if mode == 'train':
            self.model.train()
            loss = self.train_fn(self.data, self.optim_wrapper)['loss']
        else:
            self.model.eval()
            with torch.no_grad(), torch.autocast(
                    self.device.type, dtype=self.amp_dtype,
                    enabled=self.amp):
                self.test_fn(self.data)
        self._sync()
        elapsed = time.perf_counter() - start
        if record:
            self.times[mode].append(elapsed)
            if mode == 'train':
                self.losses.append(float(loss.detach()))
            if cuda:
                # growth over what is allocated before the step (both
                # models' weights and optimizer states, the batch)
                self.peak[mode] = max(
                    self.peak[mode],
                    torch.cuda.max_memory_allocated(self.device) - before)
        return elapsed
