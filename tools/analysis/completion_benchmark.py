"""Restoration benchmark of a stage-1 completion checkpoint against the
classical fills (zero-fill, nearest-frame duplication, linear
interpolation), and optionally the accuracy of a clean-trained classifier
with each restoration in front of it.

Every method restores the identical corrupted clips (deterministic
test-time masks per ``(seed, frame_dir)``) at every ratio x strategy;
MPJPE / N-MPJPE / MPJVE are measured over the missing frames in normalised
coordinates on the joints of the config's ``CompletionMetric``.

Examples::

    # baselines only
    python tools/analysis/completion_benchmark.py \
        configs/finetec/completion_1xb64-u100-20k_pennaction-keypoint-2d.py
    # a stage-1 checkpoint (file or work dir), plus a clean-trained ST-GCN++
    python tools/analysis/completion_benchmark.py \
        configs/finetec/completion_1xb64-u100-20k_pennaction-keypoint-2d.py \
        work_dirs/completion_1xb64-u100-20k_pennaction-keypoint-2d \
        --classifier-config \
        configs/baselines/stgcnpp/stgcnpp_8xb16-joint-u100-80e_pennaction-clean-keypoint-2d.py \
        --classifier-checkpoint STGCNPP_CKPT
    # no training: the untrained module is its base fill, here Akima plus
    # the detail of the 16 most similar training sequences
    python tools/analysis/completion_benchmark.py \
        configs/finetec/completion_1xb64-u100-20k_pennaction-keypoint-2d.py \
        --untrained --cfg-options model.completion.retrieval.num_neighbours=16
    # stand-ins for unseen data: a bank of half the classes, tested on the
    # others; a bank of 300 sequences
    ... --untrained --bank-mode class-disjoint
    ... --untrained --bank-mode small --bank-size 300
    # the same as validation checks, without the test split: the bank from
    # the training split less a 20 % holdout (by class, or by subject with
    # --holdout-group '^s\\d+'), the clips from the holdout
    ... --untrained --holdout 0.2 [--bank-mode class-disjoint]

Writes ``completion_benchmark.json`` and ``.csv`` into ``--out-dir``.
"""
import argparse
import os.path as osp
import sys

import torch

import finetec_mmaction  # noqa: F401  (compat fixes + registration first)
from finetec_mmaction.evaluation.restoration import (BANK_MODES,
                                                     apply_bank_mode,
                                                     apply_holdout,
                                                     eval_spec_from_config,
                                                     format_tables,
                                                     load_classifier,
                                                     run_benchmark,
                                                     write_results)
from finetec_mmaction.models.completion import SkeletonBank
from finetec_mmaction.models.loading import load_completion
from mmengine.config import Config, DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Benchmark restoration of missing frames: completion '
        'vs zero-fill / duplication / interpolation.')
    parser.add_argument('config', help='stage-1 (CompletionPretrainer) config')
    parser.add_argument(
        'checkpoint', nargs='?', default=None,
        help='stage-1 checkpoint or its work dir; without it (and without '
        '--untrained) only the classical fills run')
    parser.add_argument(
        '--untrained', action='store_true',
        help="score the config's completion module untrained (bank built "
        'from the config): its base fill, which with model.completion.'
        'retrieval needs no training')
    parser.add_argument(
        '--ratios', nargs='+', default=['0.25', '0.5', '0.75'],
        help='missing ratios (floats or minor/moderate/severe)')
    parser.add_argument(
        '--strategies', nargs='+', default=['random', 'in-between', 'burst'],
        help='masking strategies (random, pattern, prefix, suffix, '
        'in-between, burst, motion, mixed)')
    parser.add_argument('--split', help='split to evaluate (default: the '
                        "config's test split)")
    parser.add_argument('--ann-file', help='annotation pickle (default: the '
                        "config's)")
    parser.add_argument('--max-samples', type=int,
                        help='evaluate this many samples, spread evenly over '
                        'the split')
    parser.add_argument('--joints', type=int, nargs='+',
                        help="joints to score (default: the config's "
                        'CompletionMetric joints, else all)')
    parser.add_argument(
        '--bank-mode', choices=BANK_MODES, default='config',
        help="the completion module's bank: the config's, one of half the "
        "training split's classes with the clips of the other half "
        '(class-disjoint), or a random subset of --bank-size sequences '
        '(small); stand-ins for data the bank has not seen')
    parser.add_argument('--bank-size', type=int, default=300,
                        help='sequences of the small bank (default 300)')
    parser.add_argument('--bank-classes', type=int, nargs='+',
                        help='labels of the class-disjoint bank (default: '
                        'the lower half of the training labels)')
    parser.add_argument(
        '--holdout', type=float, metavar='FRACTION',
        help="validation instead of test: build the bank from the bank's "
        'split less this fraction (carved per class, seeded) and evaluate '
        'the carved clips; combines with --bank-mode (a checkpoint must '
        'have been trained without the carve: its bank is rebuilt, its '
        'weights are not)')
    parser.add_argument('--holdout-seed', type=int, default=0,
                        help='seed of the --holdout carve (default 0)')
    parser.add_argument(
        '--holdout-group', metavar='REGEX',
        help='carve whole groups named by this pattern in frame_dir (e.g. '
        "'^s\\d+' for subjects) instead of samples per class")
    parser.add_argument('--classifier-config',
                        help='config of a (clean-trained) recognizer, e.g. '
                        'stock ST-GCN++')
    parser.add_argument('--classifier-checkpoint',
                        help='checkpoint of that recognizer')
    parser.add_argument('--out-dir', help='where to write the JSON and CSV '
                        '(default: work_dirs/completion_benchmark/<config>)')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--num-workers', type=int, default=2)
    parser.add_argument('--device', default=None,
                        help='cpu / cuda (default: cuda when available)')
    parser.add_argument('--no-progress', action='store_true',
                        help='hide the progress bar')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the stage-1 config, e.g. '
        'model.completion.retrieval.num_neighbours=16')
    args = parser.parse_args(argv)
    if args.untrained and args.checkpoint is not None:
        parser.error('--untrained and a checkpoint exclude each other')
    if (args.classifier_config is None) != (
            args.classifier_checkpoint is None):
        parser.error('--classifier-config and --classifier-checkpoint go '
                     'together')
    if args.holdout is not None and (args.split or args.ann_file):
        parser.error('--holdout evaluates the holdout of the bank\'s own '
                     'file and split; it excludes --split and --ann-file')
    if args.holdout_group is not None and args.holdout is None:
        parser.error('--holdout-group needs --holdout')
    return args


def main(argv=None):
    args = parse_args(argv)
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    spec = eval_spec_from_config(cfg, args.split, args.ann_file, args.joints)
    holdout_meta = {}
    if args.holdout is not None:
        holdout_meta = apply_holdout(cfg, spec, args.holdout,
                                     args.holdout_seed, args.holdout_group)
    classes, bank_meta = apply_bank_mode(cfg, args.bank_mode, args.bank_size,
                                         args.bank_classes)
    completion = None
    if args.checkpoint is not None or args.untrained:
        completion = load_completion(cfg, args.checkpoint, device)
        if args.checkpoint is not None and (args.bank_mode != 'config' or
                                            args.holdout is not None):
            # the checkpoint's bank gives way to the stand-in (with
            # --holdout: it would hold the carved clips themselves)
            completion.bank.set_sequences(SkeletonBank.build(
                cfg.model.completion.bank, completion.clip_len,
                completion.num_joints,
                completion.num_channels).sequences.to(device))
        if completion.clip_len != spec.clip_len:
            raise ValueError(
                f'The completion model restores clips of '
                f'{completion.clip_len} frames but {args.config} samples '
                f'{spec.clip_len}.')
    classifier = None
    if args.classifier_config is not None:
        cls_cfg = Config.fromfile(args.classifier_config)
        classifier = load_classifier(cls_cfg, args.classifier_checkpoint,
                                     spec, device)

    results = run_benchmark(
        spec,
        args.ratios,
        args.strategies,
        completion=completion,
        classifier=classifier,
        batch_size=args.batch_size,
        num_workers=args.num_workers,
        device=device,
        max_samples=args.max_samples,
        progress=not args.no_progress,
        classes=classes,
        meta=dict(
            bank_meta,
            **holdout_meta,
            config=args.config,
            checkpoint='untrained' if args.untrained else args.checkpoint,
            bank_sequences=None if completion is None else len(
                completion.bank),
            classifier_config=args.classifier_config,
            classifier_checkpoint=args.classifier_checkpoint))
    print(format_tables(results))
    out_dir = args.out_dir or osp.join(
        'work_dirs', 'completion_benchmark',
        osp.splitext(osp.basename(args.config))[0])
    json_path, csv_path = write_results(results, out_dir)
    print(f'\nwrote {json_path}\nwrote {csv_path}')
    return results


if __name__ == '__main__':
    main(sys.argv[1:])
