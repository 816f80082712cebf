"""Speed of FineTec stage 2 beside a stock ST-GCN++ on the same batches.

Both recognizers are built from their configs in one process and fed the
same synthetic batch (smooth random COCO-17 motion, one person, frames
dropped with the paper's masking strategies and zero-filled as
``TemporalCorruption`` does). The FineTec completion module is randomly
initialised when no stage-1 checkpoint is given (its bank is filled with
random sequences), and runs as in stage 2: frozen, in eval mode, without
gradients. Timed per model, alternating the models (and which goes first)
every iteration so that both see the same machine noise:

* ``train``: ``model.train_step(data, optim_wrapper)`` -- data
  preprocessor, forward, loss, backward, optimizer step -- with the optim
  wrapper of the config (SGD), or mixed precision with ``amp``;
* ``infer``: ``model.test_step(data)`` under ``torch.no_grad()``.

Memory: ``state_mb`` is the model's weights, buffers and optimizer state.
The peak of a step is its growth over what was allocated before it
(activations, gradients, temporaries): on CUDA from
``torch.cuda.max_memory_allocated``; on CPU, optionally, from the peak
resident set size (``VmHWM``, reset before each step) of a fresh child
process per model, which also counts the allocator's caches and, for the
first train step, the optimizer state it creates -- an estimate, not an
exact allocation count.
"""
import os
import platform
import statistics
from typing import Dict, Optional

import numpy as np
import torch

from .batch import synthetic_batch
from .breakdown import module_breakdown
from .memory import cpu_peak_memory
from .stepper import (MODES, StepTimer, as_config, build_model,
                      build_speed_optim_wrapper, num_params, state_bytes)

DEFAULT_FINETEC_CONFIG = 'configs/finetec_gym288.py'
DEFAULT_BASELINE_CONFIG = ('configs/baselines/stgcnpp/stgcnpp_8xb16-joint-'
                           'u100-80e_gym288-keypoint-2d.py')


def run_speed_benchmark(finetec_config=DEFAULT_FINETEC_CONFIG,
                        baseline_config=DEFAULT_BASELINE_CONFIG,
                        batch_size: int = 16,
                        clip_len: int = 100,
                        iters: int = 10,
                        warmup: int = 2,
                        device: str = 'cpu',
                        amp: bool = False,
                        compile: bool = False,
                        missing_ratio: float = 0.5,
                        num_clips: int = 1,
                        completion_checkpoint: Optional[str] = None,
                        cpu_memory: bool = False,
                        breakdown: bool = False,
                        seed: int = 0,
                        progress: bool = False) -> Dict:
    """Time train and inference steps of FineTec and ST-GCN++.

    Returns:
        dict: ``meta`` (settings, hardware), ``models`` (per model: median /
        quartile ms per step, samples/s, peak memory, parameters, the last
        training loss) and ``ratio`` (FineTec / ST-GCN++ median time per
        mode).
    """
    if iters < 1 or warmup < 0:
        raise ValueError('iters must be >= 1 and warmup >= 0.')
    device = str(device)
    if device.startswith('cuda') and not torch.cuda.is_available():
        raise RuntimeError('--device cuda, but CUDA is not available.')
    cfgs = dict(finetec=as_config(finetec_config),
                stgcnpp=as_config(baseline_config))
    labels = dict(finetec='FineTec', stgcnpp='ST-GCN++')
    num_classes = min(
        int(c.model.get('cls_head', {}).get('num_classes', 2))
        for c in cfgs.values())
    data_kwargs = dict(batch_size=batch_size, clip_len=clip_len,
                       num_clips=num_clips, missing_ratio=missing_ratio,
                       num_classes=num_classes, seed=seed)
    data = synthetic_batch(**data_kwargs)
    runners = {}
    compile_cfg = dict() if compile else None
    for key, cfg in cfgs.items():
        model = build_model(cfg, clip_len, device,
                            completion_checkpoint if key == 'finetec' else
                            None, seed=seed)
        runners[key] = StepTimer(key, model,
                                 build_speed_optim_wrapper(model, cfg, amp),
                                 data, device, amp, compile_cfg)
    load_start = _loadavg()
    first_call = {}
    order = list(runners)
    total = warmup + iters
    for it in range(total):
        record = it >= warmup
        # alternate which model goes first
        for key in (order if it % 2 == 0 else order[::-1]):
            for mode in MODES:
                elapsed = runners[key].step(mode, record)
                first_call.setdefault((key, mode), elapsed)
        if progress:
            print(f'iteration {it + 1}/{total}'
                  f'{"" if record else " (warm-up)"}', flush=True)

    load_end = _loadavg()
    models = {}
    for key, runner in runners.items():
        entry = dict(name=labels[key], config=cfgs[key].filename,
                     model_type=cfgs[key].model.get('type'),
                     **num_params(runner.model))
        for mode in MODES:
            ts = np.array(runner.times[mode]) * 1000
            median = float(statistics.median(ts))
            entry[mode] = dict(
                median_ms=median, p25_ms=float(np.percentile(ts, 25)),
                p75_ms=float(np.percentile(ts, 75)), min_ms=float(ts.min()),
                samples_per_s=batch_size / median * 1000,
                first_call_ms=first_call[(key, mode)] * 1000,
                peak_mem_mb=(runner.peak[mode] / 2**20
                             if device.startswith('cuda') else None))
        entry['last_train_loss'] = runner.losses[-1] if runner.losses else None
        entry['state_mb'] = state_bytes(runner.model,
                                        runner.optim_wrapper) / 2**20
        models[key] = entry
    memory_method = (
        'torch.cuda.max_memory_allocated growth over the memory allocated '
        'before the step' if device.startswith('cuda') else
        'n/a on CPU (pass cpu_memory=True / --cpu-memory)')
    if cpu_memory and not device.startswith('cuda'):
        for key, cfg in cfgs.items():
            peak = cpu_peak_memory(
                cfg,
                dict(data=data_kwargs, clip_len=clip_len, amp=amp,
                     threads=torch.get_num_threads(),
                     completion_checkpoint=(completion_checkpoint
                                            if key == 'finetec' else None)))
            for mode in MODES:
                models[key][mode]['peak_mem_mb'] = peak[mode] / 2**20
        memory_method = (
            'CPU: peak RSS growth over the built model and batch, one fresh '
            'process per model, ' +
            ('peak reset before each step (VmHWM)' if peak['exact'] else
             'peak since process start (ru_maxrss): a lower bound'))
    extra = {}
    if breakdown:
        extra['breakdown'] = {
            key: module_breakdown(runner.model, data, min(iters, 5), device)
            for key, runner in runners.items()
        }
    ratio = {
        mode: models['finetec'][mode]['median_ms'] /
        models['stgcnpp'][mode]['median_ms']
        for mode in MODES
    }
    return dict(
        meta=dict(
            device=device, device_name=_device_name(device),
            torch=torch.__version__, threads=torch.get_num_threads(),
            cpu_count=os.cpu_count(), batch_size=batch_size,
            clip_len=clip_len, num_clips=num_clips, layout='coco (17 joints)',
            num_person=1, missing_ratio=missing_ratio, iters=iters,
            warmup=warmup, amp=amp, compile=compile,
            loadavg_1min=[load_start, load_end],
            completion='stage-1 checkpoint' if completion_checkpoint else
            'random init (frozen, as in stage 2)',
            memory_method=memory_method),
        models=models,
        ratio=ratio,
        **extra)


def _loadavg() -> Optional[float]:
    """The 1-minute load average (other processes competing for the
    CPUs), where the OS reports one."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def _device_name(device: str) -> str:
    if device.startswith('cuda'):
        return torch.cuda.get_device_name(torch.device(device))
    name = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    name = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return f'{name}, {os.cpu_count()} logical CPUs'
