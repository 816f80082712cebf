"""Accuracy of trained recognizers at every missing ratio x strategy.

Each model (any MMAction2 skeleton recognizer config: stock ST-GCN++,
FineTec, plug-and-play) is evaluated through its own test pipeline and
``test_step``; only its ``TemporalCorruption`` changes (inserted after the
normalisation transform in a clean config), with deterministic masks per
``(seed, frame_dir)`` that are identical for every model. Ratio 0 is
evaluated once per model and shared by every strategy.

Example::

    python tools/analysis/corruption_sweep.py \
        configs/baselines/stgcnpp/stgcnpp_8xb16-joint-u100-80e_gym288-keypoint-2d.py STGCNPP.pth \
        configs/finetec_gym288.py work_dirs/finetec_gym288/epoch_16.pth \
        --names ST-GCN++ FineTec --ratios 0 0.25 0.5 0.75 0.9 \
        --strategies random in-between burst motion --out-dir work_dirs/sweep

Writes ``corruption_sweep.json``, ``.csv`` (top-1 / top-5 / mean class
accuracy per model x strategy x ratio) and ``.png`` (top-1 vs missing ratio,
one subplot per strategy, one line per model) into ``--out-dir``.
"""
import argparse
import os.path as osp
import sys

import torch

import finetec_mmaction  # noqa: F401  (compat fixes + registration first)
from finetec_mmaction.evaluation.corruption_sweep import (SWEEP_RATIOS,
                                                          SWEEP_STRATEGIES,
                                                          SweepModel,
                                                          format_setting,
                                                          format_sweep,
                                                          run_sweep,
                                                          unique_names,
                                                          write_sweep)
from mmengine.config import Config, DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Accuracy of trained skeleton recognizers under '
        'increasing frame loss (missing ratio x masking strategy).')
    parser.add_argument(
        'models', nargs='+', metavar='CONFIG CHECKPOINT',
        help='pairs of a recognizer config and its checkpoint (file or work '
        'dir)')
    parser.add_argument('--names', nargs='+',
                        help='one label per model (default: config names)')
    parser.add_argument(
        '--ratios', nargs='+', default=[f'{r:g}' for r in SWEEP_RATIOS],
        help='missing ratios (floats or minor/moderate/severe/clean)')
    parser.add_argument(
        '--strategies', nargs='+', default=list(SWEEP_STRATEGIES),
        help='masking strategies (random, pattern, prefix, suffix, '
        'in-between, burst, motion, mixed)')
    parser.add_argument('--out-dir', default='work_dirs/corruption_sweep',
                        help='where to write the JSON, CSV and PNG')
    parser.add_argument('--device', default=None,
                        help='cpu / cuda (default: cuda when available)')
    parser.add_argument('--batch-size', type=int, default=16,
                        help='samples per test_step (each with the num_clips '
                        'of its test pipeline)')
    parser.add_argument('--num-workers', type=int, default=2)
    parser.add_argument('--max-samples', type=int,
                        help='evaluate this many test samples, spread evenly '
                        'over the split')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the test-time masks (every model gets '
                        'the same)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of every config, e.g. '
        'test_dataloader.dataset.ann_file=data/x.pkl')
    parser.add_argument('--no-progress', action='store_true',
                        help='hide the progress bar')
    parser.add_argument(
        '--summary', metavar='RATIO',
        help='also print the models side by side at this missing ratio '
        '(one of --ratios, e.g. 0.75)')
    args = parser.parse_args(argv)
    if len(args.models) % 2:
        parser.error('pass CONFIG CHECKPOINT pairs (got an odd number of '
                     'paths)')
    args.pairs = list(zip(args.models[::2], args.models[1::2]))
    if args.names is not None and len(args.names) != len(args.pairs):
        parser.error(f'--names has {len(args.names)} labels for '
                     f'{len(args.pairs)} models')
    return args


def main(argv=None):
    args = parse_args(argv)
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    names = args.names or [
        osp.splitext(osp.basename(config))[0] for config, _ in args.pairs
    ]
    models = []
    for name, (config, checkpoint) in zip(unique_names(names), args.pairs):
        cfg = Config.fromfile(config)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        models.append(
            SweepModel(name, cfg, checkpoint, device, args.max_samples,
                       args.seed))
    results = run_sweep(
        models,
        args.ratios,
        args.strategies,
        batch_size=args.batch_size,
        num_workers=args.num_workers,
        progress=not args.no_progress,
        meta=dict(device=device, batch_size=args.batch_size))
    print(format_sweep(results))
    paths = write_sweep(results, args.out_dir)
    print('\n' + '\n'.join(f'wrote {p}' for p in paths))
    if args.summary is not None:
        print('\n' + format_setting(results, args.summary))
    return results


if __name__ == '__main__':
    main(sys.argv[1:])
