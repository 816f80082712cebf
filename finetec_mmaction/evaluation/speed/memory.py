"""Peak CPU memory of a model's steps, measured in a fresh child process
from the kernel's peak resident set size."""
import gc
import multiprocessing as mp
from typing import Dict, Optional

import torch
from mmengine.config import Config

from .batch import synthetic_batch
from .stepper import (StepTimer, as_config, build_model,
                      build_speed_optim_wrapper)


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
        runner = StepTimer(
            'child', model,
            build_speed_optim_wrapper(model, cfg, kwargs['amp']), data,
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
    cfg = as_config(cfg)
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
