"""Restoration benchmark outside the Runner: the stage-1 completion network
beside the classical fills, optionally with a clean-trained classifier in
front of which each restoration is put (plug-and-play restoration).

Protocol (SPEC §0, §①):

* one dataset split, corrupted at every ``ratio × strategy`` with the
  deterministic test-time masks of :class:`TemporalCorruption`
  (``test_mode=True``, seeded by ``(seed, frame_dir)``), so every method
  restores the identical corrupted clips;
* the clips are sampled like a 1-clip test (``UniformSampleFrames(clip_len,
  num_clips=1, test_mode=True)``) and formatted with
  :class:`FormatCorruptionTargets` (mask + clean sequence of the same frames);
* MPJPE / N-MPJPE / MPJVE over the missing frames in the normalised
  coordinates the model sees, by :func:`restoration_errors` /
  :func:`summarize_errors` -- the same functions as :class:`CompletionMetric`,
  with its ``joints`` and ``coord_channels``; zero-fill / duplication /
  interpolation are :func:`baseline_fill`.

Used by ``tools/analysis/completion_benchmark.py`` and
``tools/visualize_completion.py``.
"""
import math
import time
from dataclasses import asdict
from typing import Dict, Optional, Sequence

import numpy as np
import torch

from ...core.masking import check_strategy, parse_ratio
from ...models.loading import load_recognizer
from ..functional import accuracy_summary
from ..metrics.completion_metric import (BASELINES, baseline_fill,
                                         restoration_errors,
                                         summarize_errors)
from ...datasets.subset import subset_classes, subset_evenly
from ..statistics import ratio_bootstrap
from .data import build_eval_dataset, iter_batches, set_corruption
from .spec import EvalSpec, check_classifier_config

#: Methods in table order: the classical fills, then the model.
METHODS = BASELINES + ('completion', )
METHOD_LABELS = {
    'zero': 'zero-fill',
    'nearest': 'duplication',
    'linear': 'interpolation',
    'akima': 'Akima spline',
    'completion': 'completion',
}
ERROR_NAMES = (('mpjpe', 'MPJPE'), ('n_mpjpe', 'N-MPJPE'), ('mpjve', 'MPJVE'))


def load_classifier(cls_cfg, checkpoint: str, spec: EvalSpec,
                    device: str = 'cpu'):
    """A recognizer (e.g. stock ST-GCN++) with its checkpoint, checked
    against the evaluated clips, in eval mode."""
    check_classifier_config(cls_cfg, spec)
    return load_recognizer(cls_cfg, checkpoint, device, role='classifier')


def restore_batch(method: str, batch: Dict, completion=None,
                  device: str = 'cpu') -> np.ndarray:
    """Restore a batch's missing frames: ``(N, M, T, V, C)`` float32.

    ``zero`` / ``nearest`` / ``linear`` are :func:`baseline_fill` of the
    clean clip under the clip's mask (which is exactly the corrupted input
    filled); ``completion`` runs the network on the corrupted input.
    """
    clean, valid = batch['clean'], batch['valid']
    if method == 'completion':
        if completion is None:
            raise ValueError('method "completion" needs a completion model.')
        with torch.no_grad():
            out = completion(batch['inputs'].to(device),
                             torch.from_numpy(valid)[:, None].to(device))
        return out.float().cpu().numpy()
    num, persons = clean.shape[:2]
    flat = baseline_fill(
        clean.reshape((num * persons, ) + clean.shape[2:]),
        np.repeat(valid, persons, axis=0), method)
    return flat.reshape(clean.shape).astype(np.float32)


def score_restoration(pred: np.ndarray, batch: Dict,
                      spec: EvalSpec) -> Dict[str, np.ndarray]:
    """:func:`restoration_errors` per present person (all-zero padded
    persons are skipped, as in :class:`CompletionMetric`)."""
    clean, valid = batch['clean'], batch['valid']
    num, persons = clean.shape[:2]
    gt = clean.reshape((num * persons, ) + clean.shape[2:])
    pred = np.asarray(pred).reshape(gt.shape)
    valid = np.repeat(valid, persons, axis=0)
    present = np.any(gt != 0, axis=(1, 2, 3))
    coord_channels = spec.coord_channels or gt.shape[-1]
    return restoration_errors(pred[present], gt[present], valid[present],
                              coord_channels, spec.joints)


def classify(classifier, clips, device: str = 'cpu') -> np.ndarray:
    """Class scores ``(N, num_classes)`` of ``(N, M, T, V, C)`` clips."""
    from mmaction.structures import ActionDataSample
    inputs = torch.as_tensor(np.asarray(clips) if not isinstance(
        clips, torch.Tensor) else clips).float().to(device)[:, None]
    samples = [ActionDataSample() for _ in range(len(inputs))]
    with torch.no_grad():
        samples = classifier.predict(inputs, samples)
    return np.stack([s.pred_score.float().cpu().numpy() for s in samples])


def setting_name(strategy: str, ratio: float) -> str:
    """``'random@0.75'``, the group name :class:`CompletionMetric` uses."""
    return f'{strategy}@{round(float(ratio), 4):g}'


def run_benchmark(spec: EvalSpec,
                  ratios: Sequence = (0.25, 0.5, 0.75),
                  strategies: Sequence[str] = ('random', 'in-between',
                                               'burst'),
                  completion=None,
                  classifier=None,
                  batch_size: int = 64,
                  num_workers: int = 0,
                  device: str = 'cpu',
                  max_samples: Optional[int] = None,
                  progress: bool = True,
                  meta: Optional[Dict] = None,
                  classes: Optional[Sequence[int]] = None) -> Dict:
    """Score every method at every ``strategy × ratio``.

    ``classes`` keeps only the samples of those labels (with a bank built
    from the other classes: restoration of movements the bank lacks).

    Returns:
        dict: ``meta``; ``settings`` (name, strategy, ratio, fraction of
        the sampled frames that are missing); ``restoration``
        ``{setting: {method: {mpjpe, n_mpjpe, mpjve}}}``; with a completion
        model ``completion_over_linear`` ``{setting: {error: ratio}}``,
        ``completion_over_best_fill`` (MPJPE over the better of linear and
        Akima interpolation), ``best_fill_interval`` (its paired bootstrap
        over clips: ``ratio``, ``low``, ``high``, ``p_above_one``) and
        ``share_worse_than_linear`` (the fraction of clips whose MPJPE is
        above linear interpolation's);
        ``classification`` ``{'clean': acc, setting: {method: acc}}`` with
        ``acc = {top1, mean_class_acc, num_samples}`` (with a classifier).
    """
    for strategy in strategies:
        check_strategy(strategy)
    ratios = [parse_ratio(r) for r in ratios]
    methods = BASELINES + (('completion', ) if completion is not None else ())
    start = time.time()
    dataset = subset_classes(build_eval_dataset(spec, 0.0, 'random'),
                             classes)
    dataset = subset_evenly(dataset, max_samples)
    num = len(dataset)
    if num == 0:
        raise ValueError(f'{spec.ann_file} [{spec.split}] has no samples.')
    settings = [(s, r) for s in strategies for r in ratios]
    bar = None
    if progress:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(num * (len(settings) + (classifier is not None)))
    results = dict(
        meta=dict(
            meta or {}, spec=asdict(spec), num_samples=num,
            methods=list(methods), ratios=ratios,
            strategies=list(strategies), device=str(device),
            classes=None if classes is None else sorted(
                int(c) for c in classes)),
        settings=[], restoration={})
    if classifier is not None:
        scores, labels = [], []
        for batch in iter_batches(dataset, batch_size, num_workers):
            scores.append(classify(classifier, batch['inputs'], device))
            labels.append(batch['labels'])
            if bar:
                bar.update(len(batch['labels']))
        results['classification'] = dict(
            clean=accuracy_summary(scores, labels))

    for strategy, ratio in settings:
        name = setting_name(strategy, ratio)
        set_corruption(dataset, spec, ratio, strategy)
        errors = {m: [] for m in methods}
        scores = {m: [] for m in methods}
        labels, missing, frames = [], 0, 0
        for batch in iter_batches(dataset, batch_size, num_workers):
            for method in methods:
                pred = restore_batch(method, batch, completion, device)
                errors[method].append(score_restoration(pred, batch, spec))
                if classifier is not None:
                    scores[method].append(classify(classifier, pred, device))
            labels.append(batch['labels'])
            missing += int((~batch['valid']).sum())
            frames += batch['valid'].size
            if bar:
                bar.update(len(batch['labels']))
        results['settings'].append(
            dict(name=name, strategy=strategy, ratio=ratio,
                 missing_fraction=missing / max(frames, 1)))
        if completion is not None:
            results.setdefault('share_worse_than_linear', {})[name] = \
                share_worse(errors['completion'], errors['linear'])
            results.setdefault('best_fill_interval', {})[name] = \
                best_fill_interval(errors)
        results['restoration'][name] = {
            m: summarize_errors(errors[m])
            for m in methods
        }
        if classifier is not None:
            results['classification'][name] = {
                m: accuracy_summary(scores[m], labels)
                for m in methods
            }
    if bar:
        print(flush=True)
    if completion is not None:
        results['completion_over_linear'] = {
            name: {
                key: _safe_div(res['completion'][key], res['linear'][key])
                for key, _ in ERROR_NAMES
            }
            for name, res in results['restoration'].items()
        }
        results['completion_over_best_fill'] = {
            name: _safe_div(res['completion']['mpjpe'],
                            min(res['linear']['mpjpe'],
                                res['akima']['mpjpe']))
            for name, res in results['restoration'].items()
        }
    results['meta']['seconds'] = round(time.time() - start, 2)
    return results


def best_fill_interval(errors: Dict[str, Sequence[Dict]]) -> Dict:
    """Completion's MPJPE over the better of linear and Akima
    interpolation with a paired bootstrap interval over the clips
    (:func:`ratio_bootstrap`): whether a ratio above or below 1 is more
    than the luck of the sampled clips."""
    sums = {m: _per_clip(errors[m])[0]
            for m in ('completion', 'linear', 'akima')}
    return ratio_bootstrap(sums['completion'],
                           [sums['linear'], sums['akima']])


def _per_clip(errors: Sequence[Dict]):
    """Per-clip MPJPE sums and their joint-frame counts, concatenated over
    the batches' :func:`restoration_errors` outputs."""
    return (np.concatenate([e['mpjpe'] for e in errors]),
            np.concatenate([e['num_joint_frames'] for e in errors]))


def share_worse(errors: Sequence[Dict], reference: Sequence[Dict],
                rtol: float = 1e-6) -> float:
    """The fraction of clips (with missing frames) whose MPJPE in
    ``errors`` is above that in ``reference`` (lists of
    :func:`restoration_errors` outputs of the same clips), ``rtol``
    relative: a regression on a subset shows here even where the mean
    improves."""
    (ours, count), (ref, _) = _per_clip(errors), _per_clip(reference)
    scored = count > 0
    if not scored.any():
        return float('nan')
    worse = ours[scored] > ref[scored] * (1 + rtol)
    return float(worse.mean())


def _safe_div(a: float, b: float) -> float:
    if b == 0 or math.isnan(a) or math.isnan(b):
        return float('nan')
    return a / b
