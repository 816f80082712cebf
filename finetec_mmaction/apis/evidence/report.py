"""Tables and plots of the protocol from the stored per-video predictions.

Per dataset, split, model and sweep cell: top-1 and mean class accuracy as
mean ± 95 % CI over seeds (:func:`mean_ci`); per cell, the paired bootstrap
over videos of the reference model (``FineTec``) against every other model
(:func:`paired_bootstrap`). Before anything is computed, every run of a
split must have scored the same videos in the same order with the same
mask digest per cell -- otherwise nothing could be paired.
"""
import csv
import io
import json
import math
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np

from ...evaluation.statistics import class_means, mean_ci, paired_bootstrap
from ...utils.io import atomic_write
from ...utils.io import atomic_write_text, json_safe
from .runs import Run, cell_is_current, read_cell, read_done
from .spec import ProtocolSpec, cell_name

#: Columns of ``sweep.csv`` and ``bootstrap.csv``.
SWEEP_FIELDS = ('dataset', 'split', 'model', 'strategy', 'ratio', 'seeds',
                'top1', 'top1_low', 'top1_high', 'mean_class_acc',
                'mean_class_acc_low', 'mean_class_acc_high', 'top1_per_seed')
BOOTSTRAP_FIELDS = ('dataset', 'split', 'reference', 'model', 'strategy',
                    'ratio', 'top1_diff', 'top1_low', 'top1_high',
                    'top1_p_le_zero', 'mean_class_acc_diff',
                    'mean_class_acc_low', 'mean_class_acc_high', 'num_videos')


class PairingError(ValueError):
    """Runs of one split were not scored on the same videos / masks."""


def collect(spec: ProtocolSpec, runs: Sequence[Run]) -> Dict:
    """Per-video correctness of every finished cell.

    Returns:
        dict: ``{(dataset, split): dict(frame_dirs, labels, models={model:
        {cell: dict(seeds, correct (S, N) bool)}}, missing=[...])}``.
    """
    out: Dict = {}
    for run in runs:
        trained = read_done(run) is not None
        for split in spec.eval_splits:
            entry = out.setdefault((run.dataset, split), dict(
                frame_dirs=None, labels=None, models={}, digests={},
                missing=[]))
            if not trained:
                entry['missing'].append(f'{run} (not trained)')
                continue
            for strategy, ratio in spec.cells:
                path = run.cell_file(split, strategy, ratio)
                if not cell_is_current(run, path):
                    entry['missing'].append(
                        f'{run} {split} {cell_name(strategy, ratio)}')
                    continue
                cell = read_cell(path)
                _check_pairing(entry, cell, run, split, strategy, ratio)
                correct = cell['score'].argmax(1) == cell['label']
                seeds = entry['models'].setdefault(run.model, {}).setdefault(
                    (strategy, ratio), dict(seeds=[], correct=[]))
                seeds['seeds'].append(run.seed)
                seeds['correct'].append(correct)
    for entry in out.values():
        for cells in entry['models'].values():
            for cell in cells.values():
                order = np.argsort(cell['seeds'])
                cell['seeds'] = [cell['seeds'][i] for i in order]
                cell['correct'] = np.stack(cell['correct'])[order]
    return out


def _check_pairing(entry: Dict, cell: Dict, run: Run, split: str,
                   strategy, ratio) -> None:
    where = f'{run} {split} {cell_name(strategy, ratio)}'
    if entry['frame_dirs'] is None:
        entry['frame_dirs'] = cell['frame_dir']
        entry['labels'] = cell['label']
    elif cell['frame_dir'] != entry['frame_dirs'] or not np.array_equal(
            cell['label'], entry['labels']):
        raise PairingError(f'{where} scored other videos (or another order) '
                           'than the other runs of this split; the runs '
                           'cannot be paired.')
    digest = cell['meta'].get('mask_digest')
    known = entry['digests'].setdefault((strategy, ratio), digest)
    if digest != known:
        raise PairingError(f'{where}: its test-time masks (digest {digest}) '
                           f'differ from the other runs\' ({known}).')


def _pct(value: float) -> float:
    return float('nan') if value is None else 100.0 * value


def summarise(spec: ProtocolSpec, collected: Dict) -> Dict:
    """Mean ± CI rows and paired-bootstrap rows (see the module
    docstring); the clean cell is listed under every strategy at ratio 0."""
    sweep, boot = [], []
    for (dataset, split), entry in collected.items():
        labels = entry['labels']
        for model, cells in entry['models'].items():
            for (strategy, ratio), cell in cells.items():
                top1 = cell['correct'].mean(1)
                mca = np.array([class_means(c.astype(float), labels)[0]
                                for c in cell['correct']])
                t, m = mean_ci(top1), mean_ci(mca)
                for s in ([strategy] if strategy else spec.strategies):
                    sweep.append(dict(
                        dataset=dataset, split=split, model=model,
                        strategy=s, ratio=ratio, seeds=cell['seeds'],
                        top1=t['mean'], top1_low=t['low'],
                        top1_high=t['high'], mean_class_acc=m['mean'],
                        mean_class_acc_low=m['low'],
                        mean_class_acc_high=m['high'],
                        top1_per_seed=top1.tolist()))
        reference = entry['models'].get(spec.reference)
        if reference is None:
            continue
        for model, cells in entry['models'].items():
            if model == spec.reference:
                continue
            for key, cell in cells.items():
                if key not in reference:
                    continue
                result = paired_bootstrap(
                    reference[key]['correct'], cell['correct'], labels,
                    num_samples=spec.bootstrap_samples,
                    seed=spec.bootstrap_seed)
                strategy, ratio = key
                for s in ([strategy] if strategy else spec.strategies):
                    boot.append(dict(
                        dataset=dataset, split=split,
                        reference=spec.reference, model=model, strategy=s,
                        ratio=ratio, top1_diff=result['top1']['diff'],
                        top1_low=result['top1']['low'],
                        top1_high=result['top1']['high'],
                        top1_p_le_zero=result['top1']['p_le_zero'],
                        mean_class_acc_diff=result['mean_class_acc']['diff'],
                        mean_class_acc_low=result['mean_class_acc']['low'],
                        mean_class_acc_high=result['mean_class_acc']['high'],
                        num_videos=result['num_videos']))
    return dict(sweep=sweep, bootstrap=boot)


# ------------------------------------------------------------- tables
def _ci(row: Dict, key: str) -> str:
    mean, low, high = (_pct(row[k]) for k in (key, f'{key}_low',
                                              f'{key}_high'))
    if math.isnan(low):
        return f'{mean:.1f}'
    return f'{mean:.1f} ± {(high - low) / 2:.1f}'


def _diff(row: Dict, key: str) -> str:
    diff, low, high = (_pct(row[k]) for k in (f'{key}_diff', f'{key}_low',
                                              f'{key}_high'))
    mark = ' ▲' if low > 0 else ' ▼' if high < 0 else ''
    return f'{diff:+.1f} [{low:+.1f}, {high:+.1f}]{mark}'


def _table(header: List[str], rows: List[List[str]]) -> str:
    lines = ['| ' + ' | '.join(header) + ' |',
             '|' + '|'.join('---' for _ in header) + '|']
    lines += ['| ' + ' | '.join(r) + ' |' for r in rows]
    return '\n'.join(lines)


def _models(spec: ProtocolSpec, dataset: str) -> List[str]:
    for entry in spec.datasets:
        if entry.name == dataset:
            return [m.name for m in entry.models]
    return []


def format_markdown(spec: ProtocolSpec, collected: Dict, summary: Dict,
                    costs: Optional[Dict] = None) -> str:
    """The tables of every dataset and split (test first) in Markdown."""
    out = [f'# Evidence protocol: {osp.basename(spec.filename)}', '',
           f'Seeds {spec.seeds}; top-1 in %, mean ± half-width of the 95 % '
           'Student-t interval over seeds (no interval with one seed). '
           f'Paired bootstrap ({spec.bootstrap_samples} resamples of the '
           f'test videos, seed {spec.bootstrap_seed}): {spec.reference} '
           'minus the model, in points, [2.5 %, 97.5 %]; ▲ / ▼: the interval '
           'lies above / below zero.', '']
    severe = spec.severe_ratio
    keys = sorted(collected, key=lambda k: (k[0], k[1] != 'test'))
    for dataset, split in keys:
        entry = collected[(dataset, split)]
        if entry['labels'] is None:
            out += [f'## {dataset}, {split} split: no results yet', '']
            continue
        out += [f'## {dataset}, {split} split ({len(entry["labels"])} '
                'videos)', '']
        rows = {(r['model'], r['strategy'], r['ratio']): r
                for r in summary['sweep']
                if r['dataset'] == dataset and r['split'] == split}
        models = [m for m in _models(spec, dataset) if m in entry['models']]
        cols = [(spec.strategies[0], 0.0, 'clean')] + [
            (s, severe, f'{s} {severe:.0%}') for s in spec.severe_strategies]
        for key, title in (('top1', 'top-1'),
                           ('mean_class_acc', 'mean class accuracy')):
            table = [[m] + [_ci(rows[(m, s, r)], key)
                            if (m, s, r) in rows else '-'
                            for s, r, _ in cols] for m in models]
            out += [f'### Severe, {title}', '',
                    _table(['model'] + [c[2] for c in cols], table), '']
        boots = {(r['model'], r['strategy'], r['ratio']): r
                 for r in summary['bootstrap']
                 if r['dataset'] == dataset and r['split'] == split}
        if boots:
            table = [[f'{spec.reference} − {m}'] + [
                _diff(boots[(m, s, r)], 'top1') if (m, s, r) in boots
                else '-' for s, r, _ in cols] for m in models
                if m != spec.reference]
            out += ['### Paired bootstrap, top-1 difference', '',
                    _table(['comparison'] + [c[2] for c in cols], table), '']
        ratios = spec.ratios
        for key, title in (('top1', 'top-1'),
                           ('mean_class_acc', 'mean class accuracy')):
            table = [[f'{m} / {s}'] + [_ci(rows[(m, s, r)], key)
                                       if (m, s, r) in rows else '-'
                                       for r in ratios]
                     for m in models for s in spec.strategies]
            out += [f'### Sweep, {title}', '', _table(
                ['model / strategy'] + [f'{r:g}' for r in ratios], table),
                '']
        if entry['missing']:
            out += [f'Missing cells ({len(entry["missing"])}): '
                    + ', '.join(entry['missing'][:10])
                    + (' ...' if len(entry['missing']) > 10 else ''), '']
    if costs:
        out += ['## Cost per run (mean over runs; seconds)', '', _table(
            ['dataset / model', 'runs', 'train wall', 'train CPU',
             'sweep wall', 'sweep CPU'],
            [[k, str(v['runs'])] + [f'{v[c]:.0f}' for c in (
                'train', 'train_cpu', 'sweep', 'sweep_cpu')]
             for k, v in costs.items()]), '']
    return '\n'.join(out)


def run_costs(spec: ProtocolSpec, runs: Sequence[Run]) -> Dict:
    """Measured training and sweep seconds per dataset / model."""
    costs: Dict = {}
    for run in runs:
        done = read_done(run)
        if done is None:
            continue
        item = costs.setdefault(f'{run.dataset} / {run.model}', dict(
            runs=0, train=0.0, train_cpu=0.0, sweep=0.0, sweep_cpu=0.0))
        item['runs'] += 1
        item['train'] += done.get('seconds', 0.0)
        item['train_cpu'] += done.get('cpu_seconds', 0.0)
        for split in spec.eval_splits:
            for strategy, ratio in spec.cells:
                path = run.cell_file(split, strategy, ratio)
                if osp.isfile(path):
                    meta = read_cell(path)['meta']
                    item['sweep'] += meta.get('seconds', 0.0)
                    item['sweep_cpu'] += meta.get('cpu_seconds', 0.0)
    for item in costs.values():
        for key in ('train', 'train_cpu', 'sweep', 'sweep_cpu'):
            item[key] /= item['runs']
    return costs


# -------------------------------------------------------------- files
def _csv(rows: List[Dict], fields: Sequence[str]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(fields),
                            extrasaction='ignore', lineterminator='\n')
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ('' if isinstance(v, float) and math.isnan(v)
                             else ' '.join(map(str, v))
                             if isinstance(v, list) else v)
                         for k, v in row.items()})
    return buf.getvalue()


def plot_sweep_ci(spec: ProtocolSpec, summary: Dict, dataset: str,
                  split: str, out_file: str, dpi: int = 100) -> str:
    """Top-1 vs missing ratio, one subplot per strategy, one line per model
    with its 95 % CI band over seeds. Written atomically as PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = [r for r in summary['sweep']
            if r['dataset'] == dataset and r['split'] == split]
    strategies = spec.strategies
    legend_width = 1.8  # inches
    width = 3.6 * len(strategies) + 0.4 + legend_width
    fig = Figure(figsize=(width, 3.8), dpi=dpi)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(strategies), squeeze=False, sharey=True)[0]
    for ax, strategy in zip(axes, strategies):
        for model in _models(spec, dataset):
            points = sorted((r['ratio'], r['top1'], r['top1_low'],
                             r['top1_high']) for r in rows
                            if r['model'] == model
                            and r['strategy'] == strategy)
            if not points:
                continue
            xs, ys, lows, highs = (np.array(v, dtype=float)
                                   for v in zip(*points))
            line, = ax.plot(xs, 100 * ys, marker='o', ms=3, label=model)
            if np.isfinite(lows).all():
                ax.fill_between(xs, 100 * lows, 100 * highs, alpha=0.15,
                                color=line.get_color(), linewidth=0)
        ax.set_title(strategy)
        ax.set_xlabel('missing ratio')
        ax.set_xlim(-0.02, 0.95)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel('top-1 (%), mean and 95 % CI over seeds')
    handles, labels = max((ax.get_legend_handles_labels() for ax in axes),
                          key=lambda hl: len(hl[0]))
    if handles:  # beside the subplots: eight models would hide the curves
        fig.legend(handles, labels, fontsize=7, loc='center right')
    fig.suptitle(f'{dataset}, {split} split, seeds {spec.seeds}', fontsize=9)
    fig.tight_layout(rect=(0, 0, 1 - legend_width / width, 1))
    atomic_write(out_file, lambda f: fig.savefig(f, format='png', dpi=dpi))
    return out_file


def write_report(spec: ProtocolSpec, runs: Sequence[Run],
                 out_dir: str) -> Dict:
    """Collect, summarise and write ``evidence.md`` / ``.json``,
    ``sweep.csv``, ``bootstrap.csv`` and one ``sweep_{dataset}_{split}.png``
    per dataset and split into ``out_dir``.

    Returns:
        dict: ``markdown`` (the text), ``paths``, ``summary``.
    """
    collected = collect(spec, runs)
    summary = summarise(spec, collected)
    costs = run_costs(spec, runs)
    markdown = format_markdown(spec, collected, summary, costs)
    paths = [osp.join(out_dir, name) for name in
             ('evidence.md', 'evidence.json', 'sweep.csv', 'bootstrap.csv')]
    atomic_write_text(paths[0], markdown + '\n')
    atomic_write_text(paths[1], json.dumps(json_safe(dict(
        spec=spec.filename, seeds=spec.seeds, reference=spec.reference,
        ratios=spec.ratios, strategies=spec.strategies,
        mask_seed=spec.mask_seed, costs=costs,
        missing={f'{d}/{s}': e['missing'] for (d, s), e in collected.items()},
        **summary)), indent=1) + '\n')
    atomic_write_text(paths[2], _csv(summary['sweep'], SWEEP_FIELDS))
    atomic_write_text(paths[3], _csv(summary['bootstrap'], BOOTSTRAP_FIELDS))
    for dataset, split in collected:
        if any(r['dataset'] == dataset and r['split'] == split
               for r in summary['sweep']):
            paths.append(plot_sweep_ci(
                spec, summary, dataset, split,
                osp.join(out_dir, f'sweep_{dataset}_{split}.png')))
    return dict(markdown=markdown, paths=paths, summary=summary)
