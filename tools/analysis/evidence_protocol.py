"""The evidence protocol: train every model of a spec with several seeds,
evaluate each on the whole corruption sweep with identical masks, and print
mean ± 95 % CI per cell and the paired bootstrap of the reference model
(FineTec) against every other model.

Training uses the training split minus a validation part carved from it
(stratified by class); validation runs on that part, never on test. Every
run and every sweep cell is stored (per-video predictions): a second call
trains and evaluates only what is missing, so the protocol is resumable.

Example::

    python tools/analysis/evidence_protocol.py \
        configs/evidence/evidence_cpu.py \
        --work-dir work_dirs/evidence --seeds 0 1 2 --jobs 2

Writes ``report/evidence.md``, ``evidence.json``, ``sweep.csv``,
``bootstrap.csv`` and ``sweep_{dataset}_{split}.png`` into the work dir.
See docs/evidence_protocol.md.
"""
import argparse
import os.path as osp
import sys

import finetec_mmaction  # noqa: F401  (compat fixes + registration first)
from finetec_mmaction.apis.evidence import load_spec, run_protocol
from mmengine.config import DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Multi-seed training and corruption sweep of the models '
        'of a spec, with confidence intervals and paired bootstraps.')
    parser.add_argument('spec', help='protocol spec (a config file)')
    parser.add_argument('--work-dir',
                        help='where runs, predictions and the report go '
                        '(default: work_dirs/evidence/SPEC_NAME)')
    parser.add_argument('--seeds', nargs='+', type=int,
                        help='training seeds (default: the spec\'s)')
    parser.add_argument('--only', nargs='+', metavar='NAME',
                        help='datasets / models (or DATASET/MODEL) to run; '
                        'the reference model is always kept')
    parser.add_argument('--jobs', type=int, default=2,
                        help='worker processes, one torch thread each')
    parser.add_argument('--report-only', action='store_true',
                        help='train and evaluate nothing, tabulate what is '
                        'there')
    parser.add_argument('--no-eval', action='store_true',
                        help='train only')
    parser.add_argument('--rerun-stale', action='store_true',
                        help='retrain runs finished with another config')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the runs and their state only')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of every model config, e.g. '
        'train_dataloader.num_workers=0')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    spec = load_spec(args.spec, seeds=args.seeds, only=args.only)
    work_dir = args.work_dir or osp.join(
        'work_dirs', 'evidence', osp.splitext(osp.basename(args.spec))[0])
    result = run_protocol(
        spec, work_dir, jobs=args.jobs, cfg_options=args.cfg_options,
        train=not args.report_only,
        evaluate=not (args.report_only or args.no_eval),
        rerun_stale=args.rerun_stale, dry_run=args.dry_run)
    if result['failures']:
        sys.exit(1)
    return result


if __name__ == '__main__':
    main(sys.argv[1:])
