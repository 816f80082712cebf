"""A digest of the corrupted val/test set, so that runs can prove they were
scored on the same missing frames."""
import hashlib
import random
from typing import Dict, List, Optional

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from mmaction.registry import HOOKS
from ...datasets.transforms.corruption import TemporalCorruption


def _base_datasets(dataset) -> List:
    """The datasets under RepeatDataset / ClassBalancedDataset /
    ConcatDataset wrappers (each once, in order)."""
    if hasattr(dataset, 'datasets'):  # ConcatDataset
        found = []
        for child in dataset.datasets:
            found.extend(_base_datasets(child))
        return found
    if hasattr(dataset, 'dataset') and not hasattr(dataset, 'pipeline'):
        return _base_datasets(dataset.dataset)  # Repeat / ClassBalanced
    return [dataset]


def _corruption_step(dataset) -> Optional[int]:
    transforms = getattr(getattr(dataset, 'pipeline', None), 'transforms', [])
    for index, transform in enumerate(transforms):
        if isinstance(transform, TemporalCorruption):
            return index
    return None


def corruption_digest(dataset) -> Optional[Dict]:
    """sha256 over ``(frame_dir, validity mask)`` of every sample of
    ``dataset``, from its pipeline run only up to and including
    :class:`TemporalCorruption`.

    The digest depends only on which frames of which samples are missing,
    not on what the pipeline does afterwards (fills, features, model), so two
    methods tested at the same strategy, ratio and seed get the same digest.

    Args:
        dataset: A dataset with a ``pipeline``, or a wrapper of such
            (``RepeatDataset``, ``ClassBalancedDataset``, ``ConcatDataset``;
            a repeated dataset counts once).

    Returns:
        dict | None: ``digest`` (hex), ``num_samples``, ``strategy``,
        ``ratio``, ``test_mode`` (all corruption steps deterministic) and
        ``skipped`` (samples a transform dropped); ``None`` when no pipeline
        has a ``TemporalCorruption``.
    """
    datasets = [(d, _corruption_step(d)) for d in _base_datasets(dataset)]
    datasets = [(d, i) for d, i in datasets if i is not None]
    if not datasets:
        return None
    steps = [d.pipeline.transforms[i] for d, i in datasets]
    info = dict(
        strategy=','.join(sorted({str(t.strategy) for t in steps})),
        ratio=','.join(sorted({str(t.ratio) for t in steps})),
        test_mode=all(t.test_mode for t in steps),
        num_samples=0,
        skipped=0)
    if not info['test_mode']:
        info['digest'] = None
        return info

    sha = hashlib.sha256()
    # the steps before the corruption may draw random numbers: keep the
    # run's random state as it was
    states = (np.random.get_state(), random.getstate(),
              torch.get_rng_state())
    try:
        for dataset, step in datasets:
            if hasattr(dataset, 'full_init'):
                dataset.full_init()
            transforms = dataset.pipeline.transforms[:step + 1]
            for index in range(len(dataset)):
                results = dataset.get_data_info(index)
                for transform in transforms:
                    results = transform(results)
                    if results is None:
                        break
                if results is None:
                    info['skipped'] += 1
                    continue
                name = str(results.get('frame_dir', results.get('filename')))
                valid = np.asarray(results['frame_valid'], dtype=bool)
                sha.update(name.encode('utf-8') + b'\0' +
                           str(valid.size).encode() + b'\0' +
                           np.packbits(valid).tobytes())
                info['num_samples'] += 1
    finally:
        np.random.set_state(states[0])
        random.setstate(states[1])
        torch.set_rng_state(states[2])
    info['digest'] = sha.hexdigest()
    return info


@HOOKS.register_module()
class CorruptionDigestHook(Hook):
    """Log a digest of the corrupted val/test set before each val/test
    epoch: "corruption digest <hex> over N samples (strategy=..., ratio=...)".

    The digest (:func:`corruption_digest`) covers ``(frame_dir, validity
    mask)`` of every sample, so equal digests mean two runs (two methods,
    two machines, a rerun) were scored on exactly the same missing frames;
    a different ratio, strategy, seed or split gives another digest. It is
    also put into the message hub as ``val/corruption_digest`` /
    ``test/corruption_digest``, so it appears in the ``Epoch(val)`` /
    ``Epoch(test)`` line and in the test metrics JSON.

    Test-mode masks are deterministic, so the digest is computed once per
    dataset and reused at later validations. Pipelines without
    ``TemporalCorruption`` log "no TemporalCorruption"; corruption that is
    not in ``test_mode`` (masks redrawn at every pass) logs that no digest
    applies. Only the main process computes and logs it.
    """
    priority = 'NORMAL'

    def __init__(self) -> None:
        self._cache = {}

    def before_val_epoch(self, runner) -> None:
        self._report(runner, 'val', runner.val_loop.dataloader.dataset)

    def before_test_epoch(self, runner) -> None:
        self._report(runner, 'test', runner.test_loop.dataloader.dataset)

    def _report(self, runner, mode: str, dataset) -> None:
        if not is_main_process():
            return
        key = id(dataset)
        if key not in self._cache:
            try:
                self._cache[key] = (dataset, corruption_digest(dataset))
            except Exception as err:  # a digest must not stop a test
                runner.logger.warning(
                    f'corruption digest ({mode}) failed: '
                    f'{type(err).__name__}: {err}')
                return
        info = self._cache[key][1]
        if info is None:
            runner.logger.info(
                f'corruption digest ({mode}): no TemporalCorruption in the '
                f'{mode} pipeline')
            return
        settings = f'strategy={info["strategy"]}, ratio={info["ratio"]}'
        if info['digest'] is None:
            runner.logger.info(
                f'corruption digest ({mode}): TemporalCorruption is not in '
                f'test_mode ({settings}): masks are redrawn at every pass, '
                f'no digest')
            return
        skipped = (f', {info["skipped"]} dropped by the pipeline'
                   if info['skipped'] else '')
        runner.logger.info(
            f'corruption digest {info["digest"]} over {info["num_samples"]} '
            f'samples ({settings}{skipped})')
        runner.message_hub.update_info(f'{mode}/corruption_digest',
                                       info['digest'])
