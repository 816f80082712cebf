"""Forward time of each top-level module of a recognizer."""
import time
from typing import Dict, List

import numpy as np
import torch


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
