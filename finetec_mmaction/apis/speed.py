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
import copy
import gc
import multiprocessing as mp
import os
import platform
import statistics
import time
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope

from mmaction.registry import MODELS
from ..core.masking import (PAPER_STRATEGIES, choose_strategy,
                            sample_valid_mask)
from ..engine.optimizers.amp_optim_wrapper import (bf16_supported,
                                                   enable_amp)
from .completion_eval import _plain, _render

DEFAULT_FINETEC_CONFIG = 'configs/finetec_gym288.py'
DEFAULT_BASELINE_CONFIG = ('configs/baselines/stgcnpp/stgcnpp_8xb16-joint-'
                           'u100-80e_gym288-moderate-keypoint-2d.py')
MODES = ('train', 'infer')


# ------------------------------------------------------------------ data
def synthetic_batch(batch_size: int = 16,
                    clip_len: int = 100,
                    num_joints: int = 17,
                    num_channels: int = 3,
                    num_person: int = 1,
                    num_clips: int = 1,
                    missing_ratio: float = 0.5,
                    strategies: Sequence[str] = PAPER_STRATEGIES,
                    num_classes: int = 288,
                    seed: int = 0) -> Dict:
    """A packed batch (``inputs``: list of ``(num_clips, M, T, V, C)``,
    ``data_samples``) of smooth random skeleton motion in normalised
    coordinates, scores in ``(0.5, 1)``, with ``missing_ratio`` of the
    frames of every clip dropped (all channels zero) by a strategy drawn
    per sample from ``strategies``."""
    from mmaction.structures import ActionDataSample
    rng = np.random.default_rng(seed)
    shape = (batch_size, num_clips, num_person, clip_len, num_joints)
    pose = rng.uniform(-0.5, 0.5, (batch_size, 1, num_person, 1, num_joints,
                                   2))
    motion = np.cumsum(rng.normal(0, 0.01, shape + (2, )), axis=3)
    coords = pose + motion
    score = rng.uniform(0.5, 1.0, shape + (1, ))
    x = np.concatenate([coords, score], -1)[..., :num_channels]
    if num_channels > 3:
        x = np.concatenate(
            [x, rng.normal(0, 0.1, shape + (num_channels - 3, ))], -1)
    for i in range(batch_size):
        for c in range(num_clips):
            strategy = choose_strategy('mixed', rng, strategies)
            valid = sample_valid_mask(clip_len, missing_ratio, strategy, rng)
            x[i, c, :, ~valid] = 0
    x = torch.from_numpy(x.astype(np.float32))
    samples = [
        ActionDataSample().set_gt_label(int(i % num_classes))
        for i in range(batch_size)
    ]
    return dict(inputs=list(x), data_samples=samples)


# ---------------------------------------------------------------- models
def _config(cfg) -> Config:
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
    cfg = _config(cfg)
    model_cfg = _plain(cfg.model)
    completion = model_cfg.get('completion')
    if completion:
        completion['clip_len'] = clip_len
        completion['bank'] = None
        model_cfg['completion_checkpoint'] = completion_checkpoint
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


def _optim_wrapper(model, cfg, amp: bool):
    ow_cfg = copy.deepcopy(_config(cfg).get('optim_wrapper') or dict(
        optimizer=dict(type='SGD', lr=0.01, momentum=0.9)))
    if amp:
        wrapper = Config(dict(optim_wrapper=ow_cfg))
        enable_amp(wrapper, next(model.parameters()).device.type)
        ow_cfg = wrapper.optim_wrapper
    with DefaultScope.overwrite_default_scope('mmaction'):
        return build_optim_wrapper(model, ow_cfg)


class _Runner:
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


# ------------------------------------------------------------- breakdown
def module_breakdown(model, data, iters: int = 3,
                     device: str = 'cpu') -> Dict[str, Dict[str, float]]:
    """Median forward milliseconds of each top-level submodule of a
    recognizer (``completion``, ``decomposition``, ``neck``, ``backbone``,
    ``cls_head``...) in a ``loss`` forward (train mode) and a ``predict``
    forward (eval mode, ``no_grad``), from forward pre/post hooks. The
    backward pass is not split (see the train step time for its total)."""
    device = torch.device(device)
    children = [(n, m) for n, m in model.named_children()
                if n != 'data_preprocessor']
    times: Dict[str, Dict[str, List[float]]] = {}
    starts = {}

    def sync():
        if device.type == 'cuda':
            torch.cuda.synchronize(device)

    def pre(name):
        def hook(module, args):
            sync()
            starts[name] = time.perf_counter()
        return hook

    def post(name, mode):
        def hook(module, args, output):
            sync()
            times.setdefault(mode, {}).setdefault(name, []).append(
                time.perf_counter() - starts[name])
        return hook

    results = {}
    for mode in ('train', 'infer'):
        handles = []
        for name, module in children:
            handles.append(module.register_forward_pre_hook(pre(name)))
            handles.append(module.register_forward_hook(post(name, mode)))
        try:
            packed = model.data_preprocessor(data, mode == 'train')
            model.train(mode == 'train')
            for _ in range(iters + 1):  # the first call warms up
                sync()
                start = time.perf_counter()
                if mode == 'train':
                    model(**packed, mode='loss')
                else:
                    with torch.no_grad():
                        model(**packed, mode='predict')
                sync()
                times.setdefault(mode, {}).setdefault('(total forward)',
                                                      []).append(
                    time.perf_counter() - start)
        finally:
            for handle in handles:
                handle.remove()
        # per call, summed over the calls of one forward (e.g. a neck run
        # on three streams), median over iterations without the warm-up
        results[mode] = {
            name: float(np.median(np.array(ts).reshape(iters + 1, -1)[1:]
                                  .sum(1))) * 1000
            for name, ts in times[mode].items()
        }
    model.train()
    return results


# -------------------------------------------------------- CPU peak memory
def _status_kb(field: str) -> Optional[int]:
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak RSS (``VmHWM``) of this process to its
    current RSS (Linux >= 4.0); False where that is not possible."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return _status_kb('VmHWM') is not None
    except OSError:
        return False


def _peak_rss_bytes() -> int:
    """Peak RSS since the last reset (``VmHWM``), else since the start."""
    hwm = _status_kb('VmHWM')
    if hwm is not None:
        return hwm * 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _current_rss_bytes() -> int:
    rss = _status_kb('VmRSS')
    return _peak_rss_bytes() if rss is None else rss * 1024


def _cpu_peak_child(cfg_text, cfg_name, kwargs, queue):  # pragma: no cover
    """Child process: peak RSS growth of one model's inference step, then
    of its train step, over the built model and batch."""
    try:
        import finetec_mmaction  # noqa: F401
        torch.set_num_threads(kwargs.pop('threads'))
        cfg = Config.fromstring(cfg_text, '.py')
        data = synthetic_batch(**kwargs['data'])
        model = build_model(cfg, kwargs['clip_len'], 'cpu',
                            kwargs['completion_checkpoint'])
        runner = _Runner('child', model,
                         _optim_wrapper(model, cfg, kwargs['amp']), data,
                         'cpu', kwargs['amp'])
        gc.collect()
        exact = _reset_peak_rss()
        base = _current_rss_bytes() if exact else _peak_rss_bytes()
        runner.step('infer', False)
        infer = _peak_rss_bytes() - base
        gc.collect()
        if exact:
            _reset_peak_rss()
        runner.step('train', False)
        train = _peak_rss_bytes() - base
        queue.put(dict(infer=infer, train=train, exact=exact))
    except Exception as err:  # report, do not hang the parent
        queue.put(dict(error=f'{cfg_name}: {type(err).__name__}: {err}'))


def cpu_peak_memory(cfg, kwargs: Dict, timeout: float = 900) -> Dict:
    """Peak RSS growth (bytes) of ``infer`` and ``train`` steps of the model
    of ``cfg``, in a fresh child process (``spawn``)."""
    cfg = _config(cfg)
    ctx = mp.get_context('spawn')
    queue = ctx.Queue()
    proc = ctx.Process(target=_cpu_peak_child,
                       args=(cfg.pretty_text, cfg.filename, dict(kwargs),
                             queue))
    proc.start()
    try:
        result = queue.get(timeout=timeout)
    finally:
        proc.join(timeout=30)
        if proc.is_alive():
            proc.kill()
    if 'error' in result:
        raise RuntimeError(f'CPU memory probe failed: {result["error"]}')
    return result


# ------------------------------------------------------------- benchmark
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
    cfgs = dict(finetec=_config(finetec_config),
                stgcnpp=_config(baseline_config))
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
        runners[key] = _Runner(key, model, _optim_wrapper(model, cfg, amp),
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


def format_speed(results: Dict) -> str:
    """The benchmark as a table."""
    meta = results['meta']
    header = ['model', 'train ms (p25-p75)', 'train samples/s',
              'infer ms (p25-p75)', 'infer samples/s', 'step mem train',
              'step mem infer', 'weights+optim', 'params']
    rows = []

    def mem(v):
        return 'n/a' if v is None else f'{v:.1f} MiB'

    for key in ('stgcnpp', 'finetec'):
        m = results['models'][key]
        rows.append([
            m['name'],
            f"{m['train']['median_ms']:.1f} ({m['train']['p25_ms']:.0f}-"
            f"{m['train']['p75_ms']:.0f})",
            f"{m['train']['samples_per_s']:.1f}",
            f"{m['infer']['median_ms']:.1f} ({m['infer']['p25_ms']:.0f}-"
            f"{m['infer']['p75_ms']:.0f})",
            f"{m['infer']['samples_per_s']:.1f}",
            mem(m['train']['peak_mem_mb']), mem(m['infer']['peak_mem_mb']),
            f"{m['state_mb']:.1f} MiB",
            f"{m['params'] / 1e6:.3g}M ({m['trainable'] / 1e6:.3g}M "
            'trainable)' 
        ])
    ratio = results['ratio']
    lines = [
        f"{meta['device_name']} ({meta['device']}, {meta['threads']} torch "
        f"threads), torch {meta['torch']}; batch {meta['batch_size']}, "
        f"clip {meta['clip_len']}, {meta['num_clips']} clip(s), "
        f"{meta['layout']}, {meta['num_person']} person, "
        f"{meta['missing_ratio']:.0%} frames missing; {meta['iters']} timed "
        f"iterations after {meta['warmup']} warm-up, models alternating"
        f"{'; AMP (bfloat16)' if meta['amp'] else ''}"
        f"{'; torch.compile' if meta['compile'] else ''}"
        + (f"; 1-min load average {meta['loadavg_1min'][0]} -> "
           f"{meta['loadavg_1min'][1]}" if meta['loadavg_1min'][0] is not None
           else ''),
        _render(header, rows),
        f"FineTec / ST-GCN++ median time: train {ratio['train']:.2f}x, "
        f"inference {ratio['infer']:.2f}x",
        f"step mem = peak memory of a step: {meta['memory_method']}"
    ]
    for key, modes in results.get('breakdown', {}).items():
        names = list(modes['train'])
        lines += [
            '', f"{results['models'][key]['name']}: forward ms per module "
            '(median; backward not split)',
            _render(['mode'] + names, [[mode] + [
                f'{modes[mode].get(n, float("nan")):.1f}' for n in names
            ] for mode in ('train', 'infer')])
        ]
    return '\n'.join(lines)
