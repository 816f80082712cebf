# Copyright (c) OpenMMLab. All rights reserved.
# FineTec: MMAction2's tools/test.py with the plugin imported first (compat
# fixes + registration), a clear error for a missing checkpoint or one that
# does not fit the config (class count, skeleton layout, shapes, truncated
# file; checked before any dataset is built), --missing-ratio /
# --missing-strategy for every TemporalCorruption of the test loader, a gloo
# fallback for distributed runs on machines without CUDA, and a clean
# process-group shutdown at the end.
import argparse
import os
import os.path as osp

import finetec_mmaction  # noqa: F401  (compat fixes + registration first)
from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.runner import Runner

from mmaction.registry import RUNNERS
from finetec_mmaction.utils import (check_runner_checkpoint,
                                    destroy_process_group,
                                    use_bundled_completion,
                                    use_gloo_without_cuda)
from finetec_mmaction.utils.config import (add_missing_frame_args,
                                           set_missing_frames)


def parse_args():
    parser = argparse.ArgumentParser(
        description='MMAction2 test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the directory to save the file containing evaluation metrics')
    parser.add_argument(
        '--dump',
        type=str,
        help='dump predictions to a pickle file for offline evaluation')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file. If the value to '
        'be overwritten is a list, it should be like key="[a,b]" or key=a,b '
        'It also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]" '
        'Note that the quotation marks are necessary and that no white space '
        'is allowed.')
    add_missing_frame_args(parser)
    parser.add_argument(
        '--show-dir',
        help='directory where the visualization images will be saved.')
    parser.add_argument(
        '--show',
        action='store_true',
        help='whether to display the prediction results in a window.')
    parser.add_argument(
        '--interval',
        type=int,
        default=1,
        help='visualize per interval samples.')
    parser.add_argument(
        '--wait-time',
        type=float,
        default=2,
        help='display time of every window. (second)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg, args):
    """Merge CLI arguments to config."""
    # -------------------- visualization --------------------
    if args.show or (args.show_dir is not None):
        assert 'visualization' in cfg.default_hooks, \
            'VisualizationHook is not set in the `default_hooks` field of ' \
            'config. Please set `visualization=dict(type="VisualizationHook")`'

        cfg.default_hooks.visualization.enable = True
        cfg.default_hooks.visualization.show = args.show
        cfg.default_hooks.visualization.wait_time = args.wait_time
        cfg.default_hooks.visualization.out_dir = args.show_dir
        cfg.default_hooks.visualization.interval = args.interval

    # -------------------- Dump predictions --------------------
    if args.dump is not None:
        assert args.dump.endswith(('.pkl', '.pickle')), \
            'The dump file must be a pkl file.'
        dump_metric = dict(type='DumpResults', out_file_path=args.dump)
        if isinstance(cfg.test_evaluator, (list, tuple)):
            cfg.test_evaluator = list(cfg.test_evaluator)
            cfg.test_evaluator.append(dump_metric)
        else:
            cfg.test_evaluator = [cfg.test_evaluator, dump_metric]

    return cfg


def main():
    args = parse_args()

    # load config
    cfg = Config.fromfile(args.config)
    cfg = merge_args(cfg, args)
    cfg.launcher = args.launcher
    use_gloo_without_cuda(cfg)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    # after --cfg-options: the named flags are the more specific
    try:
        set_missing_frames(cfg, args.missing_ratio, args.missing_strategy,
                           loaders=('test_dataloader', ))
    except ValueError as err:
        raise SystemExit(f'error: {err}') from None

    # work_dir is determined in this priority: CLI > segment in file > filename
    if args.work_dir is not None:
        # update configs according to CLI args if args.work_dir is not None
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        # use config filename as default work_dir if cfg.work_dir is None
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

    if not osp.isfile(args.checkpoint) and '://' not in args.checkpoint:
        raise FileNotFoundError(f'Checkpoint not found: {args.checkpoint}')
    cfg.load_from = args.checkpoint
    # a FineTec checkpoint carries its frozen completion module: testing it
    # does not need the stage-1 work dir the config points to
    if use_bundled_completion(cfg.model, args.checkpoint):
        print_log('completion module and prompt bank: from the checkpoint '
                  f'({args.checkpoint}), not model.completion_checkpoint',
                  logger='current')

    # build the runner from config
    if 'runner_type' not in cfg:
        # build the default runner
        runner = Runner.from_cfg(cfg)
    else:
        # build customized runner from the registry
        # if 'runner_type' is set in the cfg
        runner = RUNNERS.build(cfg)

    # mmengine loads with strict=False and only logs shape mismatches:
    # stop here instead of testing random weights
    check_runner_checkpoint(runner, training=False)

    # start testing
    runner.test()
    destroy_process_group()


if __name__ == '__main__':
    main()
