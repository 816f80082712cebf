"""Table of the test results of ``tools/gpu_benchmark.sh``.

Reads ``WORK/test/<run>-<strategy>/<timestamp>/<timestamp>.json`` (what
``tools/test.py --work-dir WORK/test/<run>-<strategy>`` writes; the latest
one when a test ran twice), where ``<run>`` is a model name or
``<model>-seed<N>`` for its run with seed N. Prints a Markdown table of
top-1 / mean class accuracy (%) per run and strategy and, for every model
with several seeds, a row with their mean ± sample standard deviation.
Writes it as ``severe_table.md`` and ``severe_table.json`` into ``WORK``.

Example::

    python tools/analysis/benchmark_table.py work_dirs/cpu_benchmark
"""
import argparse
import glob
import json
import os.path as osp
import re
import statistics
from typing import Dict, List, Sequence

from finetec_mmaction.utils.io import atomic_write

STRATEGIES = ('random', 'in-between', 'motion')
METRICS = ('acc/top1', 'acc/mean1')
_SEED = re.compile(r'^(?P<model>.+)-seed(?P<seed>\d+)$')


def split_run(run: str):
    """``'finetec-seed3'`` → ``('finetec', 3)``; ``'finetec'`` →
    ``('finetec', 0)``."""
    match = _SEED.match(run)
    if match:
        return match['model'], int(match['seed'])
    return run, 0


def collect(work: str, strategies: Sequence[str] = STRATEGIES) -> Dict:
    """``{run: {strategy: {metric: value}}}`` from ``work/test``."""
    results: Dict = {}
    for folder in sorted(glob.glob(osp.join(work, 'test', '*'))):
        name = osp.basename(folder)
        strategy = next((s for s in strategies if name.endswith('-' + s)),
                        None)
        if strategy is None:
            continue
        files = sorted(glob.glob(osp.join(folder, '*', '*.json')))
        if not files:
            continue
        with open(files[-1]) as f:  # timestamps sort in time order
            metrics = json.load(f)
        missing = [m for m in METRICS if m not in metrics]
        if missing:
            raise KeyError(f'{files[-1]}: no {missing} in the test results')
        run = name[:-len(strategy) - 1]
        results.setdefault(run, {})[strategy] = {
            m: float(metrics[m]) for m in METRICS}
    return results


def summarize(results: Dict, strategies: Sequence[str] = STRATEGIES) -> Dict:
    """Mean and sample sd over the seeds of each model with several runs:
    ``{model: {'seeds': [...], strategy: {metric: (mean, sd)}}}``. A
    strategy enters only when every seed was tested under it."""
    by_model: Dict[str, List] = {}
    for run in results:
        model, seed = split_run(run)
        by_model.setdefault(model, []).append((seed, run))
    summary = {}
    for model, runs in sorted(by_model.items()):
        if len(runs) < 2:
            continue
        runs.sort()
        entry = {'seeds': [seed for seed, _ in runs]}
        for s in strategies:
            if not all(s in results[run] for _, run in runs):
                continue
            entry[s] = {}
            for m in METRICS:
                values = [results[run][s][m] for _, run in runs]
                entry[s][m] = (statistics.mean(values),
                               statistics.stdev(values))
        summary[model] = entry
    return summary


def format_table(results: Dict, summary: Dict,
                 strategies: Sequence[str] = STRATEGIES) -> str:
    lines = ['| run | ' + ' | '.join(
        f'{s} top-1 / mean class (%)' for s in strategies) + ' |',
             '|---|' + '---|' * len(strategies)]
    order = sorted(results, key=lambda r: (split_run(r), r))
    for run in order:
        cells = []
        for s in strategies:
            r = results[run].get(s)
            cells.append('-' if r is None else ' / '.join(
                f'{100 * r[m]:.1f}' for m in METRICS))
        lines.append(f'| {run} | ' + ' | '.join(cells) + ' |')
    for model, entry in summary.items():
        cells = []
        for s in strategies:
            if s not in entry:
                cells.append('-')
                continue
            cells.append(' / '.join(
                f'{100 * mean:.1f} ± {100 * sd:.1f}'
                for mean, sd in (entry[s][m] for m in METRICS)))
        seeds = ' '.join(map(str, entry['seeds']))
        lines.append(f'| **{model}**, mean ± sd of seeds {seeds} | ' +
                     ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Table (Markdown + JSON) of the test results of '
        'tools/gpu_benchmark.sh, with mean ± sd over seeds.')
    parser.add_argument('work', help='the benchmark folder (WORK)')
    parser.add_argument('--strategies', nargs='+', default=list(STRATEGIES))
    return parser.parse_args(argv)


def main(argv=None) -> str:
    args = parse_args(argv)
    results = collect(args.work, args.strategies)
    if not results:
        raise SystemExit(f'No test results under {args.work}/test/*/*/'
                         '*.json (run the tests of tools/gpu_benchmark.sh '
                         'first).')
    summary = summarize(results, args.strategies)
    table = format_table(results, summary, args.strategies)
    print(table)
    atomic_write(osp.join(args.work, 'severe_table.md'),
                 lambda f: f.write(table + '\n'), mode='w')
    atomic_write(
        osp.join(args.work, 'severe_table.json'),
        lambda f: json.dump(dict(runs=results, seed_summary=summary), f,
                            indent=2), mode='w')
    return table


if __name__ == '__main__':
    main()
