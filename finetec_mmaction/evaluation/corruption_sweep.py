"""Accuracy of trained recognizers under increasing frame loss.

Protocol:

* every model is evaluated through **its own test pipeline** (``num_clips``,
  features, fills such as ``InterpolateMissingFrames``) and its own
  ``test_step``; only its ``TemporalCorruption`` is changed, to each
  ``ratio × strategy`` with ``test_mode=True`` and one common ``seed``, so
  the masks are deterministic per ``(seed, frame_dir)`` and identical for
  every model. A clean pipeline without ``TemporalCorruption`` gets one
  right after its normalisation transform (``PreNormalize2D`` /
  ``PreNormalize3D``), as the README prescribes;
* ratio 0 (no frame dropped) is evaluated once per model and shared by every
  strategy;
* top-1 / top-5 / mean class accuracy, as MMAction2's ``AccMetric``.

Used by ``tools/analysis/corruption_sweep.py``.
"""
import copy
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope
from torch.utils.data import DataLoader

from mmaction.registry import DATASETS
from ..core.masking import check_strategy, parse_ratio
from ..datasets.subset import subset_evenly
from ..models.loading import load_recognizer
from ..utils.config import leaf_dataset, loader_pipeline, to_plain, type_name
from ..utils.io import dump_csv, dump_json
from ..utils.table import format_number, render_table
from ..visualization.sweep_plot import plot_sweep
from .functional import accuracy_summary
from .restoration.spec import NORMALIZE_TYPES

#: Defaults of the tool.
SWEEP_RATIOS = (0.0, 0.25, 0.5, 0.75, 0.9)
SWEEP_STRATEGIES = ('random', 'in-between', 'burst', 'motion')
#: Columns of the CSV, one row per model x strategy x ratio.
SWEEP_FIELDS = ('model', 'strategy', 'ratio', 'top1', 'top5',
                'mean_class_acc', 'num_samples')
_CORRUPTION = 'TemporalCorruption'


def corrupted_pipeline(pipeline: Sequence[Dict],
                       **options) -> Tuple[List[Dict], bool]:
    """A pipeline whose ``TemporalCorruption`` takes ``options``.

    The pipeline's ``TemporalCorruption`` is updated with ``options`` (its
    other arguments, e.g. ``num_bursts``, are kept); a pipeline without one
    gets one right after the normalisation transform (first in the pipeline
    without one).

    Returns:
        tuple: The new pipeline (plain dicts) and whether the corruption
        was inserted.
    """
    pipeline = [copy.deepcopy(to_plain(t)) for t in pipeline]
    where = [i for i, t in enumerate(pipeline) if type_name(t) == _CORRUPTION]
    if len(where) > 1:
        raise ValueError(f'The pipeline has {len(where)} {_CORRUPTION} '
                         'transforms; expected at most one.')
    inserted = not where
    if inserted:
        norms = [i for i, t in enumerate(pipeline)
                 if type_name(t) in NORMALIZE_TYPES]
        index = norms[0] + 1 if norms else 0
        pipeline.insert(index, dict(type=_CORRUPTION))
        where = [index]
    pipeline[where[0]].update(options)
    return pipeline, inserted


def sweep_pipeline(pipeline: Sequence[Dict], ratio: float, strategy: str,
                   seed: int = 0) -> Tuple[List[Dict], bool]:
    """A model's test pipeline with deterministic corruption at ``ratio``:
    :func:`corrupted_pipeline` with ``ratio``, ``strategy``,
    ``test_mode=True`` and ``seed``.

    Returns:
        tuple: The new pipeline (plain dicts) and whether the corruption
        was inserted.
    """
    return corrupted_pipeline(pipeline, ratio=float(ratio), strategy=strategy,
                              test_mode=True, seed=seed)


def predict(model, dataset, batch_size: int = 16, num_workers: int = 0,
            bar=None, batches: Optional[Sequence] = None
            ) -> Tuple[np.ndarray, np.ndarray]:
    """Class scores and labels of every sample of ``dataset`` (in order),
    through the model's ``test_step``.

    Args:
        model: A recognizer in eval mode.
        dataset: The dataset (its pipeline as set).
        batch_size (int): Samples per ``test_step``.
        num_workers (int): Loader workers.
        bar: A ``ProgressBar`` to update.
        batches (Sequence, optional): The collated batches of ``dataset``
            already built (e.g. shared by several models); they are not
            modified.

    Returns:
        tuple: ``scores`` ``(N, num_classes)`` float32 and ``labels``
        ``(N,)`` int.
    """
    if batches is None:
        batches = DataLoader(dataset, batch_size=batch_size, shuffle=False,
                             num_workers=num_workers,
                             collate_fn=pseudo_collate)
    scores, labels = [], []
    with torch.no_grad():
        for packed in batches:
            samples = model.test_step(packed)
            scores.append(np.stack([
                s.pred_score.float().cpu().numpy() for s in samples
            ]))
            labels.append(np.array([
                int(s.gt_label.reshape(-1)[0]) for s in samples
            ]))
            if bar is not None:
                bar.update(len(samples))
    if not scores:
        return np.zeros((0, 0), np.float32), np.zeros(0, np.int64)
    return np.concatenate(scores), np.concatenate(labels)


class SweepModel:
    """One model of the sweep: its recognizer, its test dataset (loaded
    once) and its test pipeline.

    Args:
        name (str): Label in tables and plots.
        cfg (Config): The model's config (``test_dataloader``, else
            ``val_dataloader``, gives data and pipeline).
        checkpoint (str): Checkpoint file or work dir.
        device (str): ``'cpu'`` / ``'cuda'``.
        max_samples (int, optional): Evaluate this many samples, spread
            evenly over the split.
        seed (int): Seed of the test-time masks (the same for every model).
    """

    def __init__(self, name: str, cfg, checkpoint: str, device: str = 'cpu',
                 max_samples: Optional[int] = None, seed: int = 0) -> None:
        self.name = name
        self.cfg = cfg
        self.checkpoint = checkpoint
        self.seed = seed
        dataset_cfg, pipeline = loader_pipeline(cfg)
        self.pipeline = [to_plain(t) for t in pipeline]
        self.model = load_recognizer(cfg, checkpoint, device)
        dataset_cfg = to_plain(leaf_dataset(dataset_cfg))
        clean, self.inserted = sweep_pipeline(self.pipeline, 0.0, 'random',
                                              seed)
        dataset_cfg.update(pipeline=clean, test_mode=True)
        with DefaultScope.overwrite_default_scope('mmaction'):
            self.dataset = DATASETS.build(dataset_cfg)
        subset_evenly(self.dataset, max_samples)
        if len(self.dataset) == 0:
            raise ValueError(f'{cfg.filename}: the test split has no '
                             'samples.')
        self.data_info = dict(ann_file=dataset_cfg.get('ann_file'),
                              split=dataset_cfg.get('split'))

    def set_corruption(self, ratio: float, strategy: str) -> None:
        """Swap the pipeline of the built dataset (data loaded once)."""
        pipeline, _ = sweep_pipeline(self.pipeline, ratio, strategy,
                                     self.seed)
        with DefaultScope.overwrite_default_scope('mmaction'):
            self.dataset.pipeline = Compose(pipeline)

    def evaluate(self, batch_size: int = 16, num_workers: int = 0,
                 bar=None) -> Dict:
        """Top-1 / top-5 / mean class accuracy of the current setting,
        through the model's ``test_step``."""
        scores, labels = predict(self.model, self.dataset, batch_size,
                                 num_workers, bar)
        return accuracy_summary([scores], [labels], topk=(1, 5))

    def describe(self) -> Dict:
        return dict(
            name=self.name, config=self.cfg.filename,
            checkpoint=self.checkpoint, num_samples=len(self.dataset),
            corruption_inserted=self.inserted,
            test_pipeline=[type_name(t) for t in sweep_pipeline(
                self.pipeline, 0.0, 'random', self.seed)[0]],
            **self.data_info)


def unique_names(names: Sequence[str]) -> List[str]:
    """Labels made unique by numbering repeats (``a``, ``a#2``...)."""
    out, seen = [], {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f'{name}#{seen[name]}')
    return out


def run_sweep(models: Sequence[SweepModel],
              ratios: Sequence = SWEEP_RATIOS,
              strategies: Sequence[str] = SWEEP_STRATEGIES,
              batch_size: int = 16,
              num_workers: int = 0,
              progress: bool = True,
              meta: Optional[Dict] = None) -> Dict:
    """Evaluate every model at every ``strategy × ratio``.

    Returns:
        dict: ``meta`` (ratios, strategies, models, seconds...) and ``rows``
        (one per model × strategy × ratio, :data:`SWEEP_FIELDS`; the ratio-0
        rows of a model repeat its one clean evaluation).
    """
    for strategy in strategies:
        check_strategy(strategy)
    strategies = list(dict.fromkeys(strategies))  # drop repeats
    if not strategies:
        raise ValueError('No strategy given.')
    ratios = sorted({parse_ratio(r) for r in ratios})
    corrupted = [r for r in ratios if r > 0]
    settings = ([(None, 0.0)] if 0.0 in ratios else []) + [
        (s, r) for s in strategies for r in corrupted
    ]
    start = time.time()
    bar = None
    if progress:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(sum(len(m.dataset) for m in models) * len(settings))
    rows = []
    for model in models:
        for strategy, ratio in settings:
            model.set_corruption(ratio, strategy or 'random')
            acc = model.evaluate(batch_size, num_workers, bar)
            for s in ([strategy] if strategy else strategies):
                rows.append(dict(model=model.name, strategy=s, ratio=ratio,
                                 **acc))
    if bar is not None:
        print(flush=True)
    order = {(s, r): i for i, (s, r) in enumerate(
        (s, r) for s in strategies for r in ratios)}
    names = [m.name for m in models]
    rows.sort(key=lambda r: (names.index(r['model']),
                             order[(r['strategy'], r['ratio'])]))
    return dict(
        meta=dict(meta or {}, ratios=ratios, strategies=list(strategies),
                  seed=models[0].seed if models else 0,
                  clean_shared=0.0 in ratios,
                  models=[m.describe() for m in models],
                  seconds=round(time.time() - start, 2)),
        rows=rows)


# --------------------------------------------------------------- output
def format_sweep(results: Dict) -> str:
    """One table per metric: ``model / strategy`` rows × ratio columns."""
    meta = results['meta']
    ratios = meta['ratios']
    out = []
    for key, title in (('top1', 'top-1'), ('top5', 'top-5'),
                       ('mean_class_acc', 'mean class accuracy')):
        cells = {(r['model'], r['strategy'], r['ratio']): r[key]
                 for r in results['rows']}
        table = []
        for model in meta['models']:
            for strategy in meta['strategies']:
                table.append([f"{model['name']} / {strategy}"] + [
                    format_number(
                        cells.get((model['name'], strategy, ratio)), 3)
                    for ratio in ratios
                ])
        header = [title] + [f'{r:g}' for r in ratios]
        out += [render_table(header, table), '']
    samples = ', '.join(f"{m['name']}: {m['num_samples']}"
                        for m in meta['models'])
    out.append(f'missing ratio of each test sequence (deterministic masks, '
               f'seed {meta["seed"]}); samples: {samples}')
    return '\n'.join(out)


def format_setting(results: Dict, ratio: float) -> str:
    """Models side by side at one missing ratio: top-1 / mean class
    accuracy per strategy, the models as rows."""
    meta = results['meta']
    ratio = parse_ratio(ratio)
    if ratio not in meta['ratios']:
        raise ValueError(f'The sweep has no ratio {ratio:g} (it has '
                         f'{meta["ratios"]}).')
    cells = {(r['model'], r['strategy']): r for r in results['rows']
             if r['ratio'] == ratio}
    table = [[model['name']] + [
        f"{format_number(cells[(model['name'], s)]['top1'] * 100, 1)} / "
        f"{format_number(cells[(model['name'], s)]['mean_class_acc'] * 100, 1)}"
        for s in meta['strategies']
    ] for model in meta['models']]
    header = [f'{ratio:.0%} missing: top-1 / mean class %'] + \
        list(meta['strategies'])
    return render_table(header, table)


def write_sweep(results: Dict, out_dir: str,
                stem: str = 'corruption_sweep') -> Tuple[str, str, str]:
    """``{stem}.json``, ``{stem}.csv`` and ``{stem}.png`` (top-1 vs missing
    ratio) in ``out_dir``, each written atomically."""
    json_path = osp.join(out_dir, f'{stem}.json')
    csv_path = osp.join(out_dir, f'{stem}.csv')
    dump_json(json_path, results)
    dump_csv(csv_path, results['rows'], SWEEP_FIELDS)
    png_path = plot_sweep(results, osp.join(out_dir, f'{stem}.png'))
    return json_path, csv_path, png_path
