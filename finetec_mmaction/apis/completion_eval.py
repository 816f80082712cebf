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
import copy
import csv
import io
import json
import math
import os.path as osp
import time
from dataclasses import asdict, dataclass, field
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope
from torch.utils.data import DataLoader

from mmaction.registry import DATASETS, MODELS
from ..core.masking import check_strategy, resolve_ratio
from ..evaluation.metrics.completion_metric import (BASELINES, baseline_fill,
                                                    restoration_errors,
                                                    summarize_errors)
from ..models.completion.checkpoint import load_completion_weights
from ..utils.checkpoint_check import (check_state_dict_compatible,
                                      holds_completion_weights,
                                      load_state_dict_file)
from ..utils.io import atomic_write
from ..utils.io import resolve_checkpoint as resolve_work_dir_checkpoint

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
NORMALIZE_TYPES = ('PreNormalize2D', 'PreNormalize3D')
#: COCO-17 limbs (nose-eyes-ears, arms, torso, legs).
COCO17_EDGES = ((0, 1), (0, 2), (1, 3), (2, 4), (5, 6), (5, 7), (7, 9),
                (6, 8), (8, 10), (5, 11), (6, 12), (11, 12), (11, 13),
                (13, 15), (12, 14), (14, 16))
_CORRUPTION_KEYS = ('seed', 'num_bursts', 'motion_power', 'mixed_strategies')


# --------------------------------------------------------------- config
@dataclass
class EvalSpec:
    """What the evaluation pipeline and the metric need from a config."""
    ann_file: str
    split: Optional[str]
    clip_len: int
    num_person: int = 1
    person_mode: str = 'zero'
    normalize: Optional[Dict] = None
    feat: Optional[Dict] = None
    corruption: Dict = field(default_factory=dict)
    joints: Optional[List[int]] = None
    coord_channels: Optional[int] = None
    num_classes: Optional[int] = None


def _plain(value):
    """ConfigDict / tuple values to plain Python (for copies and JSON)."""
    if hasattr(value, 'to_dict'):
        value = value.to_dict()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _leaf_dataset(dataset_cfg):
    """The dataset that holds the pipeline (unwrap ``RepeatDataset``...)."""
    while 'pipeline' not in dataset_cfg and 'dataset' in dataset_cfg:
        dataset_cfg = dataset_cfg['dataset']
    return dataset_cfg


def _find(pipeline, type_names) -> Optional[Dict]:
    type_names = (type_names, ) if isinstance(type_names, str) else type_names
    for transform in pipeline:
        if isinstance(transform, dict) and str(transform.get('type', '')) \
                .split('.')[-1] in type_names:
            return _plain(transform)
    return None


def _config_pipeline(cfg) -> Tuple[Dict, list]:
    for loader in ('test_dataloader', 'val_dataloader'):
        if cfg.get(loader) and cfg[loader].get('dataset'):
            dataset = _leaf_dataset(cfg[loader]['dataset'])
            if 'pipeline' in dataset:
                return dataset, list(dataset['pipeline'])
    raise ValueError(f'{cfg.filename}: no test_dataloader (or '
                     'val_dataloader) dataset with a pipeline.')


def _completion_metric(cfg) -> Optional[Dict]:
    for key in ('test_evaluator', 'val_evaluator'):
        evaluators = cfg.get(key)
        if evaluators is None:
            continue
        if isinstance(evaluators, dict):
            evaluators = [evaluators]
        for ev in evaluators:
            if str(ev.get('type', '')).split('.')[-1] == 'CompletionMetric':
                return _plain(ev)
    return None


def eval_spec_from_config(cfg,
                          split: Optional[str] = None,
                          ann_file: Optional[str] = None,
                          joints: Optional[Sequence[int]] = None) -> EvalSpec:
    """Read data, layout and metric settings from a (stage-1) config.

    Everything comes from the config's test pipeline (normalisation,
    ``GenSkeFeat``, ``clip_len``, persons, the corruption seed) and its
    ``CompletionMetric`` (``joints``, ``coord_channels``); ``split``,
    ``ann_file`` and ``joints`` override them.
    """
    dataset, pipeline = _config_pipeline(cfg)
    sample = _find(pipeline, 'UniformSampleFrames')
    if sample is None or 'clip_len' not in sample:
        raise ValueError(f'{cfg.filename}: the test pipeline has no '
                         'UniformSampleFrames(clip_len=...); the benchmark '
                         'evaluates fixed-length clips.')
    feat = _find(pipeline, 'GenSkeFeat')
    if feat is not None and list(feat.get('feats', ['j'])) != ['j']:
        raise ValueError(f'{cfg.filename}: restoration is evaluated on the '
                         f'joint stream, but GenSkeFeat has feats='
                         f'{feat.get("feats")}.')
    fmt = _find(pipeline, 'FormatGCNInput') or {}
    corrupt = _find(pipeline, 'TemporalCorruption') or {}
    metric = _completion_metric(cfg) or {}
    completion = cfg.get('model', {}).get('completion') or {}
    coord_channels = metric.get('coord_channels',
                                completion.get('coord_channels'))
    if joints is None:
        joints = metric.get('joints')
    return EvalSpec(
        ann_file=ann_file or dataset['ann_file'],
        split=split if split is not None else dataset.get('split'),
        clip_len=int(sample['clip_len']),
        num_person=int(fmt.get('num_person', 2)),
        person_mode=fmt.get('mode', 'zero'),
        normalize=_find(pipeline, NORMALIZE_TYPES),
        feat=feat,
        corruption={k: corrupt[k] for k in _CORRUPTION_KEYS if k in corrupt},
        joints=None if joints is None else [int(j) for j in joints],
        coord_channels=None if coord_channels is None else int(coord_channels),
        num_classes=dataset.get('num_classes', cfg.get('num_classes')))


def check_classifier_config(cls_cfg, spec: EvalSpec) -> None:
    """Refuse a classifier whose test input differs from the evaluated clips
    (clip length, features, normalisation, persons)."""
    name = cls_cfg.filename
    if cls_cfg.model.get('completion'):
        raise ValueError(
            f'{name}: the classifier has its own completion module; pass a '
            'plain (e.g. stock ST-GCN++) recognizer config: the benchmark '
            'puts each restoration in front of it.')
    _, pipeline = _config_pipeline(cls_cfg)
    sample = _find(pipeline, 'UniformSampleFrames') or {}
    if sample.get('clip_len') != spec.clip_len:
        raise ValueError(
            f'clip_len mismatch: the classifier ({name}) samples clips of '
            f'{sample.get("clip_len")} frames, the completion config '
            f'{spec.clip_len}. Restoration runs on the sampled clip, so both '
            'must match: use a classifier trained with the same clip_len (or '
            'a completion model trained for the classifier\'s).')
    feat = _find(pipeline, 'GenSkeFeat')
    if (feat is None) != (spec.feat is None) or (
            feat is not None and (list(feat.get('feats', ['j'])) != ['j'] or
                                  feat.get('dataset') !=
                                  spec.feat.get('dataset'))):
        raise ValueError(
            f'{name}: the classifier must read the joint stream of the same '
            f'layout (GenSkeFeat {spec.feat}), got {feat}.')
    norm = _find(pipeline, NORMALIZE_TYPES)
    if (norm or {}).get('type') != (spec.normalize or {}).get('type'):
        raise ValueError(
            f'{name}: the classifier normalises with {norm}, the evaluated '
            f'clips with {spec.normalize}.')
    fmt = _find(pipeline, 'FormatGCNInput') or {}
    if int(fmt.get('num_person', 2)) != spec.num_person:
        raise ValueError(
            f'{name}: the classifier formats {fmt.get("num_person", 2)} '
            f'persons, the evaluated clips {spec.num_person}.')


# ------------------------------------------------------------------ data
def corruption_pipeline(spec: EvalSpec, ratio: float,
                        strategy: str) -> List[Dict]:
    """The test pipeline with deterministic corruption and clean targets."""
    pipeline = [copy.deepcopy(spec.normalize)] if spec.normalize else []
    pipeline.append(
        dict(type='TemporalCorruption', ratio=float(ratio), strategy=strategy,
             test_mode=True, keep_clean=True, **spec.corruption))
    if spec.feat:
        pipeline.append(copy.deepcopy(spec.feat))
    pipeline += [
        dict(type='UniformSampleFrames', clip_len=spec.clip_len, num_clips=1,
             test_mode=True),
        dict(type='PoseDecode'),
        dict(type='FormatGCNInput', num_person=spec.num_person,
             mode=spec.person_mode),
        dict(type='FormatCorruptionTargets', num_person=spec.num_person,
             mode=spec.person_mode),
        dict(type='PackActionInputs',
             algorithm_keys=('frame_valid', 'keypoint_clean'),
             meta_keys=('frame_dir', 'corrupt_ratio', 'corrupt_strategy'))
    ]
    return pipeline


def set_corruption(dataset, spec: EvalSpec, ratio: float,
                   strategy: str) -> None:
    """Swap the corruption of a built dataset (the data is loaded once)."""
    with DefaultScope.overwrite_default_scope('mmaction'):
        dataset.pipeline = Compose(corruption_pipeline(spec, ratio, strategy))


def build_eval_dataset(spec: EvalSpec,
                       ratio: float = 0.0,
                       strategy: str = 'random',
                       max_samples: Optional[int] = None):
    """A :class:`SafePoseDataset` of the split with the evaluation pipeline.

    ``max_samples`` keeps that many samples spread evenly over the split (a
    split is often ordered by class).
    """
    with DefaultScope.overwrite_default_scope('mmaction'):
        dataset = DATASETS.build(
            dict(type='SafePoseDataset', ann_file=spec.ann_file,
                 split=spec.split, num_classes=spec.num_classes,
                 pipeline=corruption_pipeline(spec, ratio, strategy),
                 test_mode=True))
    return subset_evenly(dataset, max_samples)


def subset_evenly(dataset, max_samples: Optional[int] = None):
    """Keep ``max_samples`` samples of a built dataset, spread evenly over
    it (a split is often ordered by class); all of them for ``None``.
    In place; returns the dataset."""
    if max_samples is not None and max_samples < len(dataset):
        if max_samples < 1:
            raise ValueError(f'max_samples must be >= 1, got {max_samples}.')
        index = np.unique(
            np.linspace(0, len(dataset) - 1, max_samples).round().astype(int))
        dataset.get_subset_(index.tolist())
    return dataset


def _to_batch(packed: Dict) -> Dict:
    """``pseudo_collate`` output of the evaluation pipeline → arrays of one
    clip per sample: ``inputs`` ``(N, M, T, V, C)`` tensor, ``valid``
    ``(N, T)``, ``clean`` ``(N, M, T, V, C)``, ``labels`` ``(N,)``."""
    samples = packed['data_samples']
    inputs = torch.stack([torch.as_tensor(x) for x in packed['inputs']])
    valid = np.stack([np.asarray(s.frame_valid) for s in samples])
    clean = np.stack([np.asarray(s.keypoint_clean) for s in samples])
    labels = np.array([
        int(s.gt_label.reshape(-1)[0]) if 'gt_label' in s else -1
        for s in samples
    ])
    return dict(
        inputs=inputs[:, 0].float(),
        valid=valid[:, 0].astype(bool),
        clean=clean[:, 0].astype(np.float32),
        labels=labels,
        frame_dirs=[s.metainfo.get('frame_dir') for s in samples])


def iter_batches(dataset, batch_size: int = 64,
                 num_workers: int = 0) -> Iterator[Dict]:
    """Batches of the dataset in order (see :func:`_to_batch`)."""
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False,
                        num_workers=num_workers, collate_fn=pseudo_collate)
    for packed in loader:
        yield _to_batch(packed)


def load_sample(dataset, index: int) -> Dict:
    """One sample as a batch of one (see :func:`_to_batch`)."""
    return _to_batch(pseudo_collate([dataset[index]]))


def find_sample(dataset, sample) -> int:
    """Index of a sample given by ``frame_dir`` or by its index."""
    names = [dataset.get_data_info(i).get('frame_dir')
             for i in range(len(dataset))]
    if str(sample) in names:
        return names.index(str(sample))
    try:
        index = int(sample)
    except ValueError:
        raise KeyError(f'No sample with frame_dir {sample!r} in '
                       f'{dataset.ann_file} (e.g. {names[:3]}); pass a '
                       'frame_dir or an index.') from None
    if not -len(names) <= index < len(names):
        raise IndexError(f'Sample index {index} out of range: the split has '
                         f'{len(names)} samples.')
    return index % len(names)


# ---------------------------------------------------------------- models
def resolve_checkpoint(path: str) -> str:
    """A checkpoint file, or the one a work dir's ``last_checkpoint`` names."""
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
    comp_cfg = _plain(comp_cfg)
    if checkpoint is not None:
        comp_cfg['bank'] = None  # the checkpoint holds the bank
    with DefaultScope.overwrite_default_scope('mmaction'):
        completion = MODELS.build(comp_cfg)
    if checkpoint is not None:
        load_completion_weights(completion, resolve_checkpoint(checkpoint),
                                cfg.filename)
    return completion.to(device).eval()


def load_classifier(cls_cfg, checkpoint: str, spec: EvalSpec,
                    device: str = 'cpu'):
    """A recognizer (e.g. stock ST-GCN++) with its checkpoint, checked
    against the evaluated clips, in eval mode."""
    check_classifier_config(cls_cfg, spec)
    return load_recognizer(cls_cfg, checkpoint, device, role='classifier')


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
    model_cfg = _plain(cfg.model)
    stage1 = model_cfg.get('completion_checkpoint')
    if model_cfg.get('completion'):
        model_cfg['completion_checkpoint'] = None
        model_cfg['completion']['bank'] = None  # filled from a checkpoint
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


def _accuracy(scores: List[np.ndarray], labels: List[np.ndarray],
              topk: Sequence[int] = (1, )) -> Dict:
    """``top{k}`` for each ``k`` in ``topk``, ``mean_class_acc`` and
    ``num_samples`` of batches of class scores ``(N, num_classes)`` and
    labels ``(N,)``."""
    from mmaction.evaluation.functional import (mean_class_accuracy,
                                                top_k_accuracy)
    scores = np.concatenate(scores)
    labels = np.concatenate(labels)
    accs = top_k_accuracy(list(scores), list(labels), tuple(topk))
    result = {f'top{k}': float(a) for k, a in zip(topk, accs)}
    result.update(
        mean_class_acc=float(mean_class_accuracy(list(scores), list(labels))),
        num_samples=int(len(labels)))
    return result


def parse_ratio(value) -> float:
    """A missing ratio from the command line: ``'0.75'`` or a level name
    (``'minor'``, ``'moderate'``, ``'severe'``, ``'clean'``)."""
    if isinstance(value, (tuple, list)):
        raise ValueError('The benchmark evaluates fixed ratios, not ranges.')
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    return resolve_ratio(value)


def setting_name(strategy: str, ratio: float) -> str:
    """``'random@0.75'``, the group name :class:`CompletionMetric` uses."""
    return f'{strategy}@{round(float(ratio), 4):g}'


# ------------------------------------------------------------- benchmark
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
                  meta: Optional[Dict] = None) -> Dict:
    """Score every method at every ``strategy × ratio``.

    Returns:
        dict: ``meta``; ``settings`` (name, strategy, ratio, fraction of
        the sampled frames that are missing); ``restoration``
        ``{setting: {method: {mpjpe, n_mpjpe, mpjve}}}``;
        ``completion_over_linear`` ``{setting: {error: ratio}}`` (with a
        completion model); ``classification`` ``{'clean': acc, setting:
        {method: acc}}`` with ``acc = {top1, mean_class_acc, num_samples}``
        (with a classifier).
    """
    for strategy in strategies:
        check_strategy(strategy)
    ratios = [parse_ratio(r) for r in ratios]
    methods = BASELINES + (('completion', ) if completion is not None else ())
    start = time.time()
    dataset = build_eval_dataset(spec, 0.0, 'random', max_samples)
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
            strategies=list(strategies), device=str(device)),
        settings=[], restoration={})
    if classifier is not None:
        scores, labels = [], []
        for batch in iter_batches(dataset, batch_size, num_workers):
            scores.append(classify(classifier, batch['inputs'], device))
            labels.append(batch['labels'])
            if bar:
                bar.update(len(batch['labels']))
        results['classification'] = dict(clean=_accuracy(scores, labels))

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
        results['restoration'][name] = {
            m: summarize_errors(errors[m])
            for m in methods
        }
        if classifier is not None:
            results['classification'][name] = {
                m: _accuracy(scores[m], labels)
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
    results['meta']['seconds'] = round(time.time() - start, 2)
    return results


def _safe_div(a: float, b: float) -> float:
    if b == 0 or math.isnan(a) or math.isnan(b):
        return float('nan')
    return a / b


# --------------------------------------------------------------- output
def _render(header: List[str], rows: List[List[str]]) -> str:
    widths = [max(len(r[i]) for r in [header] + rows)
              for i in range(len(header))]
    lines = []
    for i, row in enumerate([header] + rows):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:])
        ]
        lines.append('  '.join(cells))
        if i == 0:
            lines.append('  '.join('-' * w for w in widths))
    return '\n'.join(lines)


def _fmt(value: Optional[float], digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return '-'
    return f'{value:.{digits}f}'


def format_tables(results: Dict) -> str:
    """Method rows × ``strategy@ratio`` columns: the three errors, the
    completion / interpolation ratio, and the classifier's accuracy."""
    meta = results['meta']
    spec = meta['spec']
    names = [s['name'] for s in results['settings']]
    methods = meta['methods']
    joints = spec['joints']
    out = [f"{meta['num_samples']} samples of {spec['ann_file']} "
           f"[{spec['split']}], clip_len {spec['clip_len']}, "
           f"{'all' if joints is None else len(joints)} joints, errors over "
           'missing frames in normalised coordinates']
    missing = ['missing frames'] + [
        f"{s['missing_fraction']:.3f}" for s in results['settings']
    ]
    for key, title in ERROR_NAMES:
        rows = [[METHOD_LABELS[m]] + [
            _fmt(results['restoration'][n][m][key]) for n in names
        ] for m in methods]
        if 'completion_over_linear' in results:
            rows.append(['completion / interp'] + [
                _fmt(results['completion_over_linear'][n][key], 3)
                for n in names
            ])
        if key == 'mpjpe':
            rows.append(missing)
        out += ['', _render([title] + names, rows)]
    if results.get('classification'):
        cls = results['classification']
        clean = cls['clean']
        rows = [[METHOD_LABELS[m]] + [
            f"{_fmt(cls[n][m]['top1'], 3)} / "
            f"{_fmt(cls[n][m]['mean_class_acc'], 3)}" for n in names
        ] for m in methods]
        out += [
            '', f"Classifier top-1 / mean class accuracy "
            f"(clean: {clean['top1']:.3f} / {clean['mean_class_acc']:.3f})",
            _render(['restoration'] + names, rows)
        ]
    return '\n'.join(out)


CSV_FIELDS = ('strategy', 'ratio', 'method', 'mpjpe', 'n_mpjpe', 'mpjve',
              'completion_over_linear_mpjpe', 'top1', 'mean_class_acc',
              'num_samples')


def results_to_rows(results: Dict) -> List[Dict]:
    """One row per ``strategy × ratio × method`` (plus ``clean`` for the
    classifier), columns :data:`CSV_FIELDS`."""
    rows = []
    cls = results.get('classification') or {}
    if cls:
        rows.append(dict(strategy='clean', ratio=0.0, method='none',
                         top1=cls['clean']['top1'],
                         mean_class_acc=cls['clean']['mean_class_acc'],
                         num_samples=cls['clean']['num_samples']))
    for setting in results['settings']:
        name = setting['name']
        for method, errors in results['restoration'][name].items():
            row = dict(strategy=setting['strategy'], ratio=setting['ratio'],
                       method=method,
                       num_samples=results['meta']['num_samples'], **errors)
            if method == 'completion':
                row['completion_over_linear_mpjpe'] = \
                    results['completion_over_linear'][name]['mpjpe']
            if cls:
                row.update(top1=cls[name][method]['top1'],
                           mean_class_acc=cls[name][method]['mean_class_acc'])
            rows.append(row)
    return rows


def atomic_write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` atomically (temp file + rename)."""
    atomic_write(path, lambda f: f.write(text), mode='w')


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, np.integer):
        return int(value)
    return value


def write_results(results: Dict,
                  out_dir: str,
                  stem: str = 'completion_benchmark',
                  rows: Optional[List[Dict]] = None,
                  fields: Sequence[str] = CSV_FIELDS) -> Tuple[str, str]:
    """Write ``{stem}.json`` (``results``) and ``{stem}.csv`` (``rows``,
    columns ``fields``; default: :func:`results_to_rows` of a restoration
    benchmark) into ``out_dir`` atomically; returns their paths."""
    json_path = osp.join(out_dir, f'{stem}.json')
    csv_path = osp.join(out_dir, f'{stem}.csv')
    atomic_write_text(json_path,
                      json.dumps(_json_safe(results), indent=2) + '\n')
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(fields), restval='',
                            lineterminator='\n')
    writer.writeheader()
    for row in (results_to_rows(results) if rows is None else rows):
        writer.writerow({k: ('' if v is None or (isinstance(v, float) and
                                                 math.isnan(v)) else v)
                         for k, v in row.items()})
    atomic_write_text(csv_path, buf.getvalue())
    return json_path, csv_path


# ---------------------------------------------------------- visualising
def _evenly(candidates: np.ndarray, num: int) -> List[int]:
    if num <= 0 or not len(candidates):
        return []
    pos = np.linspace(0, len(candidates) - 1, min(num, len(candidates)))
    return [int(candidates[i]) for i in np.unique(pos.round().astype(int))]


def select_frames(valid: np.ndarray, num: int) -> np.ndarray:
    """``num`` frames to show: mostly missing frames, evenly spaced among
    them, plus about a quarter (at least one) observed frames, evenly spaced
    among those, for context. Sorted and unique."""
    valid = np.asarray(valid, dtype=bool)
    num = int(min(max(num, 1), len(valid)))
    missing, observed = np.flatnonzero(~valid), np.flatnonzero(valid)
    num_observed = min(len(observed), max(1, num // 4)) if len(missing) \
        else num
    num_missing = min(len(missing), num - num_observed)
    num_observed = min(len(observed), num - num_missing)
    return np.array(sorted(
        _evenly(missing, num_missing) + _evenly(observed, num_observed)))


def _draw_skeleton(ax, pose, joints, edges, color, marker_size=6):
    for a, b in edges:
        if a in joints and b in joints:
            ax.plot([pose[a, 0], pose[b, 0]], [pose[a, 1], pose[b, 1]],
                    color=color, linewidth=1.6, solid_capstyle='round')
    ax.scatter(pose[joints, 0], pose[joints, 1], s=marker_size, color=color,
               zorder=3)


def draw_completion_strip(corrupted: np.ndarray,
                          restored: np.ndarray,
                          clean: np.ndarray,
                          valid: np.ndarray,
                          frames: Sequence[int],
                          out_file: str,
                          title: str = '',
                          joints: Optional[Sequence[int]] = None,
                          restored_label: str = 'restored',
                          panel_size: float = 1.8,
                          dpi: int = 100) -> str:
    """A Fig. 5-style strip: rows corrupted / restored / ground truth,
    columns ``frames``; missing frames are grey boxes in the first row and
    drawn in another colour in the second. Written atomically as PNG.

    Args:
        corrupted, restored, clean (np.ndarray): ``(T, V, C)`` one person,
            the first two channels are ``(x, y)`` (image orientation).
        valid (np.ndarray): ``(T,)`` bool.
        frames (Sequence[int]): Frames to show.
        joints (Sequence[int], optional): Joints to draw (all by default);
            COCO-17 limbs join them when ``V == 17``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    num_joints = clean.shape[1]
    joints = list(range(num_joints)) if joints is None else list(joints)
    edges = COCO17_EDGES if num_joints == 17 else ()
    valid = np.asarray(valid, dtype=bool)
    frames = [int(f) for f in frames]
    colours = dict(observed='tab:blue', restored='tab:red', gt='tab:green')

    shown = np.concatenate([clean[frames][:, joints, :2],
                            restored[frames][:, joints, :2]]).reshape(-1, 2)
    lo, hi = shown.min(0), shown.max(0)
    centre = (lo + hi) / 2
    half = max(float((hi - lo).max()) / 2 * 1.15, 1e-3)

    num = len(frames)
    fig = Figure(figsize=(panel_size * num, panel_size * 3 + 0.9), dpi=dpi)
    FigureCanvasAgg(fig)
    axes = fig.subplots(3, num, squeeze=False)
    row_names = ('corrupted', restored_label, 'ground truth')
    for col, t in enumerate(frames):
        is_missing = not valid[t]
        for row in range(3):
            ax = axes[row, col]
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlim(centre[0] - half, centre[0] + half)
            ax.set_ylim(centre[1] + half, centre[1] - half)  # image y down
            ax.set_aspect('equal')
            if col == 0:
                ax.set_ylabel(row_names[row], fontsize=9)
        axes[0, col].set_title(f't={t}' + (' (missing)' if is_missing else
                                           ''), fontsize=8)
        if is_missing:
            ax = axes[0, col]
            ax.set_facecolor('0.88')
            ax.text(0.5, 0.5, 'missing', transform=ax.transAxes,
                    ha='center', va='center', color='0.4', fontsize=9)
            for spine in ax.spines.values():
                spine.set_linestyle('--')
                spine.set_edgecolor('0.5')
            err = np.linalg.norm(restored[t, joints, :2] -
                                 clean[t, joints, :2], axis=-1).mean()
            axes[1, col].set_title(f'err {err:.3f}', fontsize=7,
                                   color=colours['restored'])
            _draw_skeleton(axes[1, col], restored[t], joints, edges,
                           colours['restored'])
        else:
            _draw_skeleton(axes[0, col], corrupted[t], joints, edges,
                           colours['observed'])
            _draw_skeleton(axes[1, col], restored[t], joints, edges,
                           colours['observed'])
        _draw_skeleton(axes[2, col], clean[t], joints, edges, colours['gt'])
    handles = [
        Line2D([], [], color=colours['observed'], label='observed'),
        Line2D([], [], color=colours['restored'],
               label=f'{restored_label} (missing frames)'),
        Line2D([], [], color=colours['gt'], label='ground truth'),
    ]
    fig.legend(handles=handles, loc='lower center', ncol=3, fontsize=8,
               frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    height = fig.get_figheight()
    fig.subplots_adjust(left=0.05, right=0.99, top=1 - 0.55 / height,
                        bottom=0.3 / height, wspace=0.05, hspace=0.15)

    atomic_write(out_file, lambda f: fig.savefig(f, format='png', dpi=dpi))
    return out_file
